//! Which compression a blob's contents have: chosen by name, inferred from the blob's
//! suffix, or read from the headers its writer set. The codecs are storage's.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The values `compression` accepts for csv, tsv, binary and text.
pub const ACCEPTED: &str = "auto, none, gzip, zstd";
/// Values Azure accepts for parquet only.
pub const PARQUET_ONLY: [&str; 3] = ["brotli", "lz4", "snappy"];

impl Compression {
    /// Parses a `compression` argument; `auto` infers from `path`. Err is the message.
    pub fn parse(value: &str, path: &str) -> Result<Compression, String> {
        match value.to_ascii_lowercase().as_str() {
            "auto" => Ok(Compression::infer(path)),
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            other if PARQUET_ONLY.contains(&other) => {
                Err(format!("compression \"{value}\" is only supported with the parquet format; accepted values are {ACCEPTED}"))
            }
            _ => Err(format!("invalid compression \"{value}\"; accepted values are {ACCEPTED}")),
        }
    }

    /// `parse`, with `auto` on a name without a compression suffix following the blob's
    /// Content-Encoding (gzip or zstd), else its Content-Type (application/gzip,
    /// application/zstd), set by whoever wrote it.
    pub fn from_headers(value: &str, path: &str, content_type: Option<&str>, content_encoding: Option<&str>) -> Result<Compression, String> {
        let compression = Compression::parse(value, path)?;
        if compression != Compression::None || !value.eq_ignore_ascii_case("auto") {
            return Ok(compression);
        }
        let lower = |v: Option<&str>| v.map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        Ok(match (lower(content_encoding).as_deref(), lower(content_type).as_deref()) {
            (Some("gzip" | "x-gzip"), _) => Compression::Gzip,
            (Some("zstd"), _) => Compression::Zstd,
            (None | Some("identity"), Some("application/gzip" | "application/x-gzip")) => Compression::Gzip,
            (None | Some("identity"), Some("application/zstd")) => Compression::Zstd,
            _ => Compression::None,
        })
    }

    /// `.gz` means gzip and `.zst` zstd; anything else is not compressed.
    pub fn infer(path: &str) -> Compression {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".gz") {
            Compression::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The Content-Type of a blob holding a compressed file: the container format, for
    /// clients to keep the bytes as they are.
    pub fn media_type(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("application/gzip"),
            Compression::Zstd => Some("application/zstd"),
        }
    }

    /// The `Content-Encoding` that asks HTTP clients to decompress blobs compressed this way.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }
}

/// The blob name without a compression suffix: `a.csv.gz` -> `a.csv`.
pub fn strip_suffix(path: &str) -> &str {
    let lower = path.to_ascii_lowercase();
    for suffix in [".gz", ".zst", ".zstd"] {
        if lower.ends_with(suffix) {
            return &path[..path.len() - suffix.len()];
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_infer() {
        assert_eq!(Compression::parse("auto", "x.csv.gz"), Ok(Compression::Gzip));
        assert_eq!(Compression::parse("AUTO", "x.csv.zst"), Ok(Compression::Zstd));
        assert_eq!(Compression::parse("auto", "x.csv"), Ok(Compression::None));
        assert_eq!(Compression::parse("none", "x.csv.gz"), Ok(Compression::None));
        assert!(Compression::parse("lz4", "x").unwrap_err().contains("parquet"));
        assert!(Compression::parse("bzip2", "x").unwrap_err().contains("auto, none, gzip, zstd"));
        assert_eq!(strip_suffix("a/b.CSV.GZ"), "a/b.CSV");
        assert_eq!(strip_suffix("a/b.csv"), "a/b.csv");
    }

    #[test]
    fn a_blobs_headers_decide_auto_only() {
        let f = |value: &str, path: &str, ct: Option<&str>, ce: Option<&str>| Compression::from_headers(value, path, ct, ce).unwrap();
        assert_eq!(f("auto", "x", None, Some("GZIP")), Compression::Gzip);
        assert_eq!(f("auto", "x", Some("text/csv"), Some("zstd")), Compression::Zstd);
        assert_eq!(f("auto", "x", Some("application/gzip"), None), Compression::Gzip);
        assert_eq!(f("auto", "x", Some("Application/ZSTD; charset=binary"), Some("identity")), Compression::Zstd);
        assert_eq!(f("auto", "x", Some("text/csv"), None), Compression::None);
        assert_eq!(f("auto", "x", None, Some("br")), Compression::None);
        // The name's suffix, and an explicit argument, come first.
        assert_eq!(f("auto", "x.zst", None, Some("gzip")), Compression::Zstd);
        assert_eq!(f("none", "x", Some("application/gzip"), Some("gzip")), Compression::None);
        assert!(Compression::from_headers("bzip2", "x", None, None).is_err());
    }
}
