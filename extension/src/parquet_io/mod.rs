//! Parquet blobs. Reading turns row groups into PostgreSQL's binary COPY format, so that
//! COPY's own parser fills tables and blob_get results (triggers, constraints, domains and
//! error context included); writing collects rows into Arrow arrays and lets arrow-rs
//! encode them, one row group at a time, into a block upload.

pub mod blob_file;
pub mod copy_to;
pub mod decode;
pub mod encode;
pub mod from_arrow;
pub mod to_arrow;
pub mod types;

use parquet::basic::Compression as Codec;
use serde_json::Value;

use crate::errors::invalid_parameter;

pub use copy_options::parquet_options::MatchBy;

/// The parquet settings of copy_options, whose refusals are raised here as errors.
#[derive(Debug, Clone)]
pub struct ParquetOptions {
    pub codec: Codec,
    /// Rows in a row group, which bounds what a writer holds.
    pub row_group_size: usize,
    pub match_by: MatchBy,
}

impl From<copy_options::parquet_options::ParquetOptions> for ParquetOptions {
    fn from(o: copy_options::parquet_options::ParquetOptions) -> ParquetOptions {
        ParquetOptions { codec: o.codec, row_group_size: o.row_group_size, match_by: o.match_by }
    }
}

impl ParquetOptions {
    /// From a compression argument and the `options` jsonb of blob_get / blob_put.
    pub fn from_json(compression: &str, options: Option<&Value>) -> ParquetOptions {
        copy_options::parquet_options::ParquetOptions::from_json(compression, options).unwrap_or_else(|e| invalid_parameter(e)).into()
    }

    /// From a compression and (name, value) settings; errors name what is accepted.
    pub fn parse(compression: &str, settings: &[(String, String)]) -> ParquetOptions {
        copy_options::parquet_options::ParquetOptions::parse(compression, settings).unwrap_or_else(|e| invalid_parameter(e)).into()
    }
}
