//! What a user gives us, parsed and checked without PostgreSQL, so that it can be
//! unit-tested and fuzzed: blob URLs, account, container and blob names, name patterns,
//! format and compression names, the `options` jsonb of blob_get/blob_put, the parquet
//! settings of COPY, and what a parquet file claims about itself. Errors are the exact texts
//! the extension raises.

pub mod compression;
pub mod copy;
pub mod format;
pub mod json_lines;
pub mod names;
pub mod parquet_checks;
pub mod parquet_options;
pub mod pattern;
pub mod url;
