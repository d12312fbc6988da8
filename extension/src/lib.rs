//! `azure_storage`: import and export between PostgreSQL tables and Azure Blob Storage, with
//! the SQL surface of Azure's extension of the same name (see sql/azure_storage.sql).

use pgrx::prelude::*;

mod access;
mod accounts;
mod blob_get;
mod blob_list;
mod blob_put;
mod blob_set;
mod catalog;
mod copy;
mod copy_source;
mod crypto;
mod dataset;
mod errors;
mod export;
mod guc;
mod hive;
mod json_lines;
mod log_redaction;
mod parquet_io;
mod pg;
mod pending;
mod records;
mod roles;
mod row_encoder;
mod schema;

pgrx::pg_module_magic!();

pgrx::extension_sql_file!("../sql/azure_storage.sql", name = "azure_storage_surface", bootstrap);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::register();
    pg::hooks::install();
}

#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'azure_storage'"]
    }
}
