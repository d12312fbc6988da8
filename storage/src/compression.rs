//! Compression of blob contents, chosen by name or inferred from the blob's suffix.

use std::io::{Read, Write};

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

    /// `parse` for the blob at `path`, that version of it once known: `auto` on a name
    /// without a compression suffix follows the blob's headers (`from_headers`).
    pub fn for_blob(value: &str, path: &str, blob: Option<&crate::BlobVersion>) -> Result<Compression, String> {
        Compression::from_headers(value, path, blob.and_then(|b| b.content_type()), blob.and_then(|b| b.content_encoding()))
    }

    /// `parse`, with `auto` on a name without a compression suffix following the blob's
    /// Content-Encoding (gzip or zstd), else its Content-Type (application/gzip,
    /// application/zstd), set by whoever wrote it.
    fn from_headers(value: &str, path: &str, content_type: Option<&str>, content_encoding: Option<&str>) -> Result<Compression, String> {
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

    /// A reader of the decompressed bytes of `input`.
    pub fn decoder<'a, R: Read + 'a>(self, input: R) -> std::io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            // Concatenated gzip members are one stream, as gzip -d reads them.
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, input))),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }
}

/// gzip level of exports: level 1 compresses at several times the speed of the default
/// level 6 for files a little larger, which keeps an export close to native COPY speed.
const GZIP_LEVEL: u32 = 1;
/// zstd level of exports: zstd's own default.
const ZSTD_LEVEL: i32 = 3;

impl Compression {
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

    /// A writer that compresses into `output`.
    pub fn encoder<W: Write>(self, output: W) -> std::io::Result<Encoder<W>> {
        Ok(match self {
            Compression::None => Encoder::None(output),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(output, flate2::Compression::new(GZIP_LEVEL))),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(output, ZSTD_LEVEL)?),
        })
    }
}

pub enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Writes what the compressor still holds and its trailer; returns the output.
    pub fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
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
        assert!(Compression::for_blob("bzip2", "x", None).is_err());
    }

    #[test]
    fn decoders_round_trip_and_reject_damage() {
        let text = b"1,alpha\n2,beta\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let mut out = Vec::new();
        Compression::Gzip.decoder(&gz[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        // Two members read as one stream.
        let twice = [gz.clone(), gz.clone()].concat();
        out.clear();
        Compression::Gzip.decoder(&twice[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 2 * text.len());
        // Truncated input is an error, not a short read.
        let mut d = Compression::Gzip.decoder(&gz[..gz.len() / 2]).unwrap();
        assert!(d.read_to_end(&mut Vec::new()).is_err());

        let zs = zstd::encode_all(&text[..], 1).unwrap();
        out.clear();
        Compression::Zstd.decoder(&zs[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        let mut d = Compression::Zstd.decoder(&zs[..zs.len() - 3]).unwrap();
        assert!(d.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn encoders_round_trip() {
        let text = b"1,alpha\n2,beta\n".repeat(1000);
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let mut e = c.encoder(Vec::new()).unwrap();
            e.write_all(&text).unwrap();
            let packed = e.finish().unwrap();
            assert_eq!(packed.len() < text.len(), c != Compression::None, "{c:?}");
            let mut out = Vec::new();
            c.decoder(&packed[..]).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, text, "{c:?}");
        }
    }
}
