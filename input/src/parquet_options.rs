//! Parquet settings: the codec from the compression argument, and row_group_size,
//! compression_level, match_by and array_bounds from the `options` jsonb or COPY's options.

use parquet::basic::{BrotliLevel, Compression as Codec, GzipLevel, ZstdLevel};
use serde_json::Value;

/// How parquet columns find the columns they fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBy {
    Position,
    Name,
}

/// What writing does with an array whose lower bound is not 1: a parquet list has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayBounds {
    /// Refuse the value, naming the column and the row.
    Error,
    /// Write the elements; reading gives them back from 1.
    Drop,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParquetOptions {
    pub codec: Codec,
    /// Rows in a row group, which bounds what a writer holds.
    pub row_group_size: usize,
    pub match_by: MatchBy,
    pub array_bounds: ArrayBounds,
}

pub const CODECS: &str = "auto (snappy), snappy, gzip, brotli, lz4, zstd, none";
pub const OPTION_KEYS: &str = "row_group_size, compression_level, match_by, array_bounds";
pub const DEFAULT_ROW_GROUP_SIZE: usize = 122_880;

/// The (name, value) settings of an `options` jsonb: strings as they are, other values as
/// JSON text, nulls left out.
pub fn settings_from_json(options: Option<&Value>) -> Result<Vec<(String, String)>, String> {
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
        Some(_) => return Err(format!("options must be a JSON object with the keys {OPTION_KEYS}; build it with azure_storage.options_parquet()")),
    }
    Ok(settings)
}

impl ParquetOptions {
    /// From a compression argument and the `options` jsonb of blob_get / blob_put.
    pub fn from_json(compression: &str, options: Option<&Value>) -> Result<ParquetOptions, String> {
        ParquetOptions::parse(compression, &settings_from_json(options)?)
    }

    /// From a compression and (name, value) settings; errors name what is accepted.
    pub fn parse(compression: &str, settings: &[(String, String)]) -> Result<ParquetOptions, String> {
        let mut level: Option<i64> = None;
        let mut options =
            ParquetOptions { codec: Codec::SNAPPY, row_group_size: DEFAULT_ROW_GROUP_SIZE, match_by: MatchBy::Position, array_bounds: ArrayBounds::Error };
        for (key, value) in settings {
            let number = || -> Result<i64, String> {
                value.trim().parse().map_err(|_| format!("parquet option {key} must be an integer, not \"{value}\""))
            };
            match key.to_ascii_lowercase().as_str() {
                "row_group_size" => match number()? {
                    n @ 1..=100_000_000 => options.row_group_size = n as usize,
                    n => return Err(format!("parquet option row_group_size must be between 1 and 100000000 rows, not {n}")),
                },
                "compression_level" => level = Some(number()?),
                "match_by" => {
                    options.match_by = match value.to_ascii_lowercase().as_str() {
                        "position" => MatchBy::Position,
                        "name" => MatchBy::Name,
                        _ => return Err(format!("parquet option match_by must be 'position' or 'name', not \"{value}\"")),
                    }
                }
                "array_bounds" => {
                    options.array_bounds = match value.to_ascii_lowercase().as_str() {
                        "error" => ArrayBounds::Error,
                        "drop" => ArrayBounds::Drop,
                        _ => return Err(format!("parquet option array_bounds must be 'error' or 'drop', not \"{value}\"")),
                    }
                }
                _ => return Err(format!("unknown parquet option \"{key}\"; accepted options are {OPTION_KEYS}")),
            }
        }
        options.codec = codec(compression, level)?;
        Ok(options)
    }
}

/// A parquet codec by Azure's compression names; `auto` is snappy, as parquet writers default.
pub fn codec(name: &str, level: Option<i64>) -> Result<Codec, String> {
    // Names the compression as given, while the other errors name it lowercased.
    let bad_level = |range: &str| format!("compression_level {} is out of range for {name}; accepted levels are {range}", level.unwrap_or_default());
    let lower = name.to_ascii_lowercase();
    let levelled = matches!(lower.as_str(), "gzip" | "brotli" | "zstd");
    if level.is_some() && !levelled {
        return Err(format!("compression_level applies to gzip, brotli and zstd, not to \"{lower}\""));
    }
    let level32 = level.map(|l| l.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
    Ok(match lower.as_str() {
        "auto" | "snappy" => Codec::SNAPPY,
        "none" => Codec::UNCOMPRESSED,
        "lz4" => Codec::LZ4_RAW,
        "gzip" => Codec::GZIP(level32.map_or(Ok(GzipLevel::default()), |l| GzipLevel::try_new(l as u32)).map_err(|_| bad_level("0 to 9"))?),
        "brotli" => Codec::BROTLI(level32.map_or(Ok(BrotliLevel::default()), |l| BrotliLevel::try_new(l as u32)).map_err(|_| bad_level("0 to 11"))?),
        "zstd" => Codec::ZSTD(
            level32.map_or(Ok(ZstdLevel::default()), ZstdLevel::try_new).map_err(|_| bad_level("-131072 to 22 (negative levels trade size for speed)"))?,
        ),
        _ => return Err(format!("compression \"{lower}\" is not available for parquet; accepted values are {CODECS}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults() {
        let o = ParquetOptions::from_json("auto", None).unwrap();
        assert_eq!(
            o,
            ParquetOptions { codec: Codec::SNAPPY, row_group_size: DEFAULT_ROW_GROUP_SIZE, match_by: MatchBy::Position, array_bounds: ArrayBounds::Error }
        );
        assert_eq!(ParquetOptions::from_json("AUTO", Some(&json!({}))).unwrap(), o);
    }

    #[test]
    fn accepted_keys() {
        let o = ParquetOptions::from_json("zstd", Some(&json!({"row_group_size": 1000, "compression_level": "-5", "match_by": "NAME", "array_bounds": "Drop"})))
            .unwrap();
        assert_eq!(
            o,
            ParquetOptions { codec: Codec::ZSTD(ZstdLevel::try_new(-5).unwrap()), row_group_size: 1000, match_by: MatchBy::Name, array_bounds: ArrayBounds::Drop }
        );
        // COPY's options arrive as text, keys in any case; nulls are left out.
        let o = ParquetOptions::parse("gzip", &settings(&[("ROW_GROUP_SIZE", " 100000000 "), ("Compression_Level", "9"), ("match_by", "position")])).unwrap();
        assert_eq!(
            o,
            ParquetOptions {
                codec: Codec::GZIP(GzipLevel::try_new(9).unwrap()),
                row_group_size: 100_000_000,
                match_by: MatchBy::Position,
                array_bounds: ArrayBounds::Error
            }
        );
        assert_eq!(
            ParquetOptions::parse("auto", &settings(&[("array_bounds", "keep")])).unwrap_err(),
            "parquet option array_bounds must be 'error' or 'drop', not \"keep\""
        );
        assert_eq!(ParquetOptions::from_json("none", Some(&json!({"compression_level": null}))).unwrap().codec, Codec::UNCOMPRESSED);
    }

    #[test]
    fn codecs() {
        for (name, codec) in [("auto", Codec::SNAPPY), ("Snappy", Codec::SNAPPY), ("none", Codec::UNCOMPRESSED), ("lz4", Codec::LZ4_RAW)] {
            assert_eq!(super::codec(name, None).unwrap(), codec);
        }
        assert_eq!(super::codec("gzip", None).unwrap(), Codec::GZIP(GzipLevel::default()));
        assert_eq!(super::codec("brotli", Some(11)).unwrap(), Codec::BROTLI(BrotliLevel::try_new(11).unwrap()));
        assert_eq!(super::codec("zstd", Some(22)).unwrap(), Codec::ZSTD(ZstdLevel::try_new(22).unwrap()));
    }

    #[test]
    fn not_an_object() {
        assert_eq!(
            ParquetOptions::from_json("auto", Some(&json!(["row_group_size"]))).unwrap_err(),
            "options must be a JSON object with the keys row_group_size, compression_level, match_by, array_bounds; build it with azure_storage.options_parquet()"
        );
    }

    #[test]
    fn unknown_key() {
        assert_eq!(
            ParquetOptions::parse("auto", &settings(&[("header", "true")])).unwrap_err(),
            "unknown parquet option \"header\"; accepted options are row_group_size, compression_level, match_by, array_bounds"
        );
    }

    #[test]
    fn not_an_integer() {
        assert_eq!(
            ParquetOptions::from_json("auto", Some(&json!({"row_group_size": 1.5}))).unwrap_err(),
            "parquet option row_group_size must be an integer, not \"1.5\""
        );
        assert_eq!(
            ParquetOptions::parse("gzip", &settings(&[("Compression_Level", "high")])).unwrap_err(),
            "parquet option Compression_Level must be an integer, not \"high\""
        );
    }

    #[test]
    fn row_group_size_range() {
        for n in ["0", "-1", "100000001"] {
            assert_eq!(
                ParquetOptions::parse("auto", &settings(&[("row_group_size", n)])).unwrap_err(),
                format!("parquet option row_group_size must be between 1 and 100000000 rows, not {n}")
            );
        }
    }

    #[test]
    fn match_by() {
        assert_eq!(
            ParquetOptions::parse("auto", &settings(&[("match_by", "Order")])).unwrap_err(),
            "parquet option match_by must be 'position' or 'name', not \"Order\""
        );
    }

    #[test]
    fn level_without_levels() {
        assert_eq!(
            ParquetOptions::parse("LZ4", &settings(&[("compression_level", "1")])).unwrap_err(),
            "compression_level applies to gzip, brotli and zstd, not to \"lz4\""
        );
    }

    #[test]
    fn level_out_of_range() {
        let err = |compression: &str, level: &str| ParquetOptions::parse(compression, &settings(&[("compression_level", level)])).unwrap_err();
        assert_eq!(err("GZIP", "10"), "compression_level 10 is out of range for GZIP; accepted levels are 0 to 9");
        assert_eq!(err("gzip", "-1"), "compression_level -1 is out of range for gzip; accepted levels are 0 to 9");
        assert_eq!(err("brotli", "12"), "compression_level 12 is out of range for brotli; accepted levels are 0 to 11");
        assert_eq!(
            err("zstd", "23"),
            "compression_level 23 is out of range for zstd; accepted levels are -131072 to 22 (negative levels trade size for speed)"
        );
        // Beyond i32 the level is clamped for the check but shown as given.
        assert_eq!(
            err("zstd", "-9999999999"),
            "compression_level -9999999999 is out of range for zstd; accepted levels are -131072 to 22 (negative levels trade size for speed)"
        );
    }

    #[test]
    fn unknown_codec() {
        assert_eq!(
            ParquetOptions::parse("Deflate", &[]).unwrap_err(),
            "compression \"deflate\" is not available for parquet; accepted values are auto (snappy), snappy, gzip, brotli, lz4, zstd, none"
        );
    }

    #[test]
    fn settings_errors_come_before_codec_errors() {
        assert!(ParquetOptions::parse("deflate", &settings(&[("bogus", "1")])).unwrap_err().starts_with("unknown parquet option"));
    }
}
