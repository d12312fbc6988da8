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

use parquet::basic::{BrotliLevel, Compression as Codec, GzipLevel, ZstdLevel};
use serde_json::Value;

use crate::errors::invalid_parameter;

/// How parquet columns find the columns they fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBy {
    Position,
    Name,
}

#[derive(Debug, Clone)]
pub struct ParquetOptions {
    pub codec: Codec,
    /// Rows in a row group, which bounds what a writer holds.
    pub row_group_size: usize,
    pub match_by: MatchBy,
}

pub const CODECS: &str = "auto (snappy), snappy, gzip, brotli, lz4, zstd, none";
pub const OPTION_KEYS: &str = "row_group_size, compression_level, match_by";
const DEFAULT_ROW_GROUP_SIZE: usize = 122_880;

impl ParquetOptions {
    /// From a compression argument and the `options` jsonb of blob_get / blob_put.
    pub fn from_json(compression: &str, options: Option<&Value>) -> ParquetOptions {
        let mut settings = Vec::new();
        match options {
            None => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let text = match value {
                        Value::Null => continue,
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    settings.push((key.clone(), text));
                }
            }
            Some(_) => invalid_parameter(format!("options must be a JSON object with the keys {OPTION_KEYS}; build it with azure_storage.options_parquet()")),
        }
        ParquetOptions::parse(compression, &settings)
    }

    /// From a compression and (name, value) settings; errors name what is accepted.
    pub fn parse(compression: &str, settings: &[(String, String)]) -> ParquetOptions {
        let mut level: Option<i64> = None;
        let mut options = ParquetOptions { codec: Codec::SNAPPY, row_group_size: DEFAULT_ROW_GROUP_SIZE, match_by: MatchBy::Position };
        for (key, value) in settings {
            let number = || -> i64 {
                value.trim().parse().unwrap_or_else(|_| invalid_parameter(format!("parquet option {key} must be an integer, not \"{value}\"")))
            };
            match key.to_ascii_lowercase().as_str() {
                "row_group_size" => match number() {
                    n @ 1..=100_000_000 => options.row_group_size = n as usize,
                    n => invalid_parameter(format!("parquet option row_group_size must be between 1 and 100000000 rows, not {n}")),
                },
                "compression_level" => level = Some(number()),
                "match_by" => {
                    options.match_by = match value.to_ascii_lowercase().as_str() {
                        "position" => MatchBy::Position,
                        "name" => MatchBy::Name,
                        _ => invalid_parameter(format!("parquet option match_by must be 'position' or 'name', not \"{value}\"")),
                    }
                }
                _ => invalid_parameter(format!("unknown parquet option \"{key}\"; accepted options are {OPTION_KEYS}")),
            }
        }
        options.codec = codec(compression, level);
        options
    }
}

/// A parquet codec by Azure's compression names; `auto` is snappy, as parquet writers default.
fn codec(name: &str, level: Option<i64>) -> Codec {
    let bad_level = |range: &str| -> ! {
        invalid_parameter(format!("compression_level {} is out of range for {name}; accepted levels are {range}", level.unwrap_or_default()))
    };
    let name = name.to_ascii_lowercase();
    let levelled = matches!(name.as_str(), "gzip" | "brotli" | "zstd");
    if level.is_some() && !levelled {
        invalid_parameter(format!("compression_level applies to gzip, brotli and zstd, not to \"{name}\""));
    }
    let level32 = level.map(|l| l.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
    match name.as_str() {
        "auto" | "snappy" => Codec::SNAPPY,
        "none" => Codec::UNCOMPRESSED,
        "lz4" => Codec::LZ4_RAW,
        "gzip" => Codec::GZIP(level32.map_or(Ok(GzipLevel::default()), |l| GzipLevel::try_new(l as u32)).unwrap_or_else(|_| bad_level("0 to 9"))),
        "brotli" => Codec::BROTLI(level32.map_or(Ok(BrotliLevel::default()), |l| BrotliLevel::try_new(l as u32)).unwrap_or_else(|_| bad_level("0 to 11"))),
        "zstd" => Codec::ZSTD(level32.map_or(Ok(ZstdLevel::default()), ZstdLevel::try_new).unwrap_or_else(|_| bad_level("-131072 to 22 (negative levels trade size for speed)"))),
        _ => invalid_parameter(format!("compression \"{name}\" is not available for parquet; accepted values are {CODECS}")),
    }
}
