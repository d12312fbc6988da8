//! The `options` jsonb of blob_get/blob_put, the parquet settings of COPY, and checks of
//! what a parquet file claims, done without PostgreSQL so that they can be unit-tested and
//! fuzzed. Errors are the exact texts the extension raises.

pub mod copy;
pub mod parquet_checks;
pub mod parquet_options;
