//! The `options` jsonb of blob_get/blob_put (COPY options and parquet settings) and the
//! parquet settings of COPY, which arrive as text. Input: JSON, or for the COPY path a
//! compression on the first line then `key=value` lines.
#![no_main]

use input::copy::{copy_options, CopyOption};
use input::parquet_options::{settings_from_json, ParquetOptions};
use libfuzzer_sys::fuzz_target;
use parquet::basic::Compression as Codec;
use serde_json::Value;

const COMPRESSIONS: [&str; 8] = ["auto", "none", "gzip", "GZIP", "brotli", "zstd", "lz4", "deflate"];

/// How every refusal begins; anything else is a message nobody wrote.
const COPY_ERRORS: [&str; 4] = ["options must be a JSON object with the keys ", "unknown option \"", "option \"", "option value \""];
const PARQUET_ERRORS: [&str; 5] =
    ["options must be a JSON object with the keys ", "unknown parquet option \"", "parquet option ", "compression_level ", "compression \""];

fn check_copy(options: Option<&Value>) {
    match copy_options("csv", options) {
        Ok(list) => {
            assert_eq!(list[0], CopyOption::Value { name: "format", value: "csv".into() });
            let keys = options.and_then(Value::as_object).map_or(0, |m| m.len());
            assert!(list.len() <= 1 + keys);
            for option in &list[1..] {
                match option {
                    CopyOption::Value { name, value } => {
                        assert!(["delimiter", "null", "header", "quote", "escape", "encoding"].contains(name), "{name}");
                        assert!(!value.contains('\0'));
                    }
                    CopyOption::AllColumns { name } | CopyOption::Columns { name, .. } => {
                        assert!(["force_quote", "force_not_null", "force_null"].contains(name), "{name}")
                    }
                }
                if let CopyOption::Columns { columns, .. } = option {
                    assert!(columns.iter().all(|c| !c.contains('\0')));
                }
            }
        }
        Err(e) => assert!(COPY_ERRORS.iter().any(|p| e.starts_with(p)), "{e}"),
    }
}

fn check_parquet(compression: &str, result: Result<ParquetOptions, String>) {
    match result {
        Ok(o) => {
            assert!((1..=100_000_000).contains(&o.row_group_size));
            let lower = compression.to_ascii_lowercase();
            match o.codec {
                Codec::SNAPPY => assert!(lower == "auto" || lower == "snappy"),
                Codec::UNCOMPRESSED => assert_eq!(lower, "none"),
                Codec::LZ4_RAW => assert_eq!(lower, "lz4"),
                Codec::GZIP(l) => assert!(lower == "gzip" && l.compression_level() <= 9),
                Codec::BROTLI(l) => assert!(lower == "brotli" && l.compression_level() <= 11),
                Codec::ZSTD(l) => assert!(lower == "zstd" && (-131072..=22).contains(&l.compression_level())),
                other => panic!("unexpected codec {other:?}"),
            }
        }
        Err(e) => assert!(PARQUET_ERRORS.iter().any(|p| e.starts_with(p)), "{e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<Value>(data) {
        check_copy(Some(&json));
        for compression in COMPRESSIONS {
            let from_json = ParquetOptions::from_json(compression, Some(&json));
            // The jsonb path is the text path after turning values into text.
            let via_text = settings_from_json(Some(&json)).and_then(|s| ParquetOptions::parse(compression, &s));
            assert_eq!(from_json, via_text);
            check_parquet(compression, from_json);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.lines();
    let compression = lines.next().unwrap_or_default();
    let settings: Vec<(String, String)> =
        lines.map(|l| l.split_once('=').unwrap_or((l, "true"))).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    check_parquet(compression, ParquetOptions::parse(compression, &settings));
});
