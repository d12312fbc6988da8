//! Which format a blob is in: given by name, or inferred from its suffix as Azure does.

use crate::compression::strip_suffix;

/// How a blob's bytes become rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PostgreSQL's COPY csv format.
    Csv,
    /// PostgreSQL's COPY text format (tab-separated).
    Tsv,
    /// PostgreSQL's COPY binary format.
    Binary,
    /// The whole blob is one value (`text`, `json` and `xml`).
    Whole,
    Parquet,
    /// JSON lines: one JSON object per line, one row each (`jsonl`, `ndjson`).
    JsonLines,
}

/// Azure's text when a blob's suffix says nothing known.
pub fn cannot_infer(extension: &str) -> String {
    format!(
        "could not infer file encoding from extension: '{extension}', use a supported extension \
         [csv, csv.gz, tsv, tsv.gz, json, json.gz, jsonl, jsonl.gz, ndjson, ndjson.gz, xml, xml.gz, txt, txt.gz, parquet], or specify \
         the decoder argument if you are using blob_get or format if using COPY FROM/TO"
    )
}

pub const DECODERS: &str = "auto, csv, tsv, binary, text, json, jsonl, ndjson, xml, parquet";

impl Format {
    /// A decoder argument; `auto` infers from `path`. Err is the message.
    pub fn parse(value: &str, path: &str) -> Result<Format, String> {
        Format::parse_as("decoder", value, path)
    }

    /// An encoder argument (blob_put), with the same values as decoders.
    pub fn parse_encoder(value: &str, path: &str) -> Result<Format, String> {
        Format::parse_as("encoder", value, path)
    }

    fn parse_as(role: &str, value: &str, path: &str) -> Result<Format, String> {
        match value.to_ascii_lowercase().as_str() {
            "auto" => Format::infer(path),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "binary" => Ok(Format::Binary),
            "text" | "json" | "xml" => Ok(Format::Whole),
            "parquet" => Ok(Format::Parquet),
            "jsonl" | "ndjson" => Ok(Format::JsonLines),
            _ => Err(format!("invalid {role} \"{value}\"; accepted values are {DECODERS}")),
        }
    }

    /// By suffix, after any compression suffix: `events.csv.gz` is csv.
    pub fn infer(path: &str) -> Result<Format, String> {
        let extension = extension(path);
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "json" | "xml" | "txt" => Ok(Format::Whole),
            "parquet" => Ok(Format::Parquet),
            "jsonl" | "ndjson" => Ok(Format::JsonLines),
            _ => Err(cannot_infer(extension)),
        }
    }

    /// The suffix of the `data_N` files of a dataset in this format: csv, tsv (COPY's text),
    /// bin, parquet, jsonl, and .gz or .zst after it when compressed.
    pub fn file_extension(self, compression: crate::compression::Compression) -> String {
        let format = match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Binary => "bin",
            Format::Parquet => "parquet",
            Format::JsonLines => "jsonl",
            Format::Whole => "txt",
        };
        match compression {
            crate::compression::Compression::None => format.to_string(),
            crate::compression::Compression::Gzip => format!("{format}.gz"),
            crate::compression::Compression::Zstd => format!("{format}.zst"),
        }
    }

    /// The Content-Type of blobs in this format. Whole values take theirs from the encoder's
    /// name or, for `auto`, from the blob's suffix (json, xml, txt).
    pub fn content_type(self, encoder: &str, path: &str) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Tsv => "text/tab-separated-values",
            Format::Binary => "application/octet-stream",
            Format::Parquet => "application/vnd.apache.parquet",
            Format::JsonLines => "application/x-ndjson",
            Format::Whole => {
                let name = match encoder.to_ascii_lowercase().as_str() {
                    "auto" => extension(path).to_ascii_lowercase(),
                    other => other.to_string(),
                };
                match name.as_str() {
                    "json" => "application/json",
                    "xml" => "application/xml",
                    _ => "text/plain",
                }
            }
        }
    }

    /// The COPY FORMAT this decoder parses with, if it is one of COPY's.
    pub fn copy_format(self) -> Option<&'static str> {
        match self {
            Format::Csv => Some("csv"),
            Format::Tsv => Some("text"),
            Format::Binary => Some("binary"),
            Format::Whole | Format::Parquet | Format::JsonLines => None,
        }
    }
}

/// What follows the last dot of the blob's name, compression suffix aside.
fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let base = strip_suffix(name);
    match base.rfind('.') {
        Some(i) => &base[i + 1..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_follows_azure() {
        assert_eq!(Format::infer("a/events.csv"), Ok(Format::Csv));
        assert_eq!(Format::infer("events.csv.gz"), Ok(Format::Csv));
        assert_eq!(Format::infer("events.CSV.zst"), Ok(Format::Csv));
        assert_eq!(Format::infer("t.tsv.gz"), Ok(Format::Tsv));
        assert_eq!(Format::infer("doc.json"), Ok(Format::Whole));
        assert_eq!(Format::infer("doc.xml.gz"), Ok(Format::Whole));
        assert_eq!(Format::infer("notes.txt"), Ok(Format::Whole));
        assert_eq!(Format::infer("x.parquet"), Ok(Format::Parquet));
        assert_eq!(Format::infer("log/events.jsonl.gz"), Ok(Format::JsonLines));
        assert_eq!(Format::infer("events.NDJSON.zst"), Ok(Format::JsonLines));
        assert_eq!(Format::parse("ndjson", "x.csv"), Ok(Format::JsonLines));
        let e = Format::infer("events_blob_without_extension").unwrap_err();
        assert!(e.starts_with("could not infer file encoding from extension: '',"), "{e}");
        assert!(Format::infer("dir.v2/data.bin").unwrap_err().contains("'bin'"));
        assert_eq!(Format::parse("CSV", "x"), Ok(Format::Csv));
        assert_eq!(Format::parse("json", "x.csv"), Ok(Format::Whole));
        assert!(Format::parse("excel", "x").unwrap_err().contains(DECODERS));
        assert!(Format::parse_encoder("excel", "x").unwrap_err().starts_with("invalid encoder \"excel\""));
        assert_eq!(Format::Whole.content_type("auto", "a/doc.json.gz"), "application/json");
        assert_eq!(Format::Whole.content_type("xml", "doc"), "application/xml");
        assert_eq!(Format::Csv.content_type("auto", "a.csv"), "text/csv");
    }
}
