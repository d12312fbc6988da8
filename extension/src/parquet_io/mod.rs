//! Parquet blobs. Reading turns row groups into PostgreSQL's binary COPY format, so that
//! COPY's own parser fills tables and blob_get results (triggers, constraints, domains and
//! error context included); writing collects rows into Arrow arrays and lets arrow-rs
//! encode them, one row group at a time, into a block upload.

pub mod blob_file;
pub mod decode;
pub mod encode;
pub mod footer;
pub mod from_arrow;
pub mod to_arrow;
pub mod types;

use serde_json::Value;

use crate::errors::invalid_parameter;

pub use input::parquet_options::{ArrayBounds, MatchBy, ParquetOptions};

/// Parquet settings from a compression argument and the `options` jsonb of blob_get /
/// blob_put; a refusal is raised.
pub fn options_from_json(compression: &str, options: Option<&Value>) -> ParquetOptions {
    ParquetOptions::from_json(compression, options).unwrap_or_else(|e| invalid_parameter(e))
}

/// Parquet settings from a compression and COPY's (name, value) options; a refusal is raised.
pub fn options_from_settings(compression: &str, settings: &[(String, String)]) -> ParquetOptions {
    ParquetOptions::parse(compression, settings).unwrap_or_else(|e| invalid_parameter(e))
}
