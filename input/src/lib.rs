//! What a user gives us, parsed and checked without PostgreSQL, so that it can be
//! unit-tested and fuzzed: blob URLs, account, container and blob names, name patterns,
//! format and compression names, the `options` jsonb of blob_get/blob_put, the parquet
//! settings of COPY, what a parquet file claims about itself, a blob's schema inferred from
//! a sample of its rows, and parquet statistics as text. Errors are the exact texts
//! the extension raises.

pub mod compression;
pub mod copy;
pub mod format;
pub mod hive;
pub mod infer;
pub mod json_lines;
pub mod names;
pub mod parquet_checks;
pub mod parquet_options;
pub mod parquet_stats;
pub mod pattern;
pub mod row_append;
pub mod url;
