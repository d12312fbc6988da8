//! One version of one blob, as a statement reads it: its path, size, ETag, Content-Type and
//! Content-Encoding, taken once (from Get Blob Properties or a listing's entry) and never
//! changed. Every read of it (`BlobStore::read`, `BlobStore::stream`) sends the ETag in
//! If-Match, so a blob replaced while it is read fails the read with `Error::BlobChanged`
//! instead of mixing two versions.

use std::ops::Range;

use bytes::Bytes;

use crate::blobs::BlobStore;
use crate::error::{Error, Result};
use crate::list::BlobEntry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobVersion {
    path: String,
    size: u64,
    /// As HTTP carries it, quoted: `"0x8DAAC828B970928"`.
    etag: String,
    content_type: Option<String>,
    content_encoding: Option<String>,
}

impl BlobVersion {
    /// From the headers of Get Blob Properties; `etag` as sent (quoted).
    pub(crate) fn new(path: &str, size: u64, etag: Option<&str>, content_type: Option<&str>, content_encoding: Option<&str>) -> Result<BlobVersion> {
        let etag = etag.map(str::trim).filter(|e| !e.is_empty()).ok_or_else(|| Error::InvalidResponse(format!("no ETag for blob {path}")))?;
        let quoted = if etag.starts_with('"') || etag.starts_with("W/") { etag.to_string() } else { format!("\"{etag}\"") };
        let header = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        Ok(BlobVersion { path: path.to_string(), size, etag: quoted, content_type: header(content_type), content_encoding: header(content_encoding) })
    }

    /// The version a listing showed; None when the listing did not give its ETag.
    pub fn from_entry(entry: &BlobEntry) -> Option<BlobVersion> {
        let size = u64::try_from(entry.bytes).ok()?;
        BlobVersion::new(&entry.path, size, entry.etag.as_deref(), entry.content_type.as_deref(), entry.content_encoding.as_deref()).ok()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Bytes as stored (compressed, when the blob is).
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The blob's `Content-Type`, set by whoever wrote it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The blob's `Content-Encoding`, set by whoever wrote it.
    pub fn content_encoding(&self) -> Option<&str> {
        self.content_encoding.as_deref()
    }
}

impl BlobStore {
    /// The current version of `path`; fails when the blob is missing.
    pub async fn open(&self, path: &str) -> Result<BlobVersion> {
        input::names::validate_blob_name(path)?;
        self.client.blob_version(&self.container, path).await
    }

    /// Bytes `range` of `blob`, fetched in concurrent ranged reads of that version.
    pub async fn read(&self, blob: &BlobVersion, range: Range<u64>) -> Result<Bytes> {
        self.ranges(&blob.path, range, &blob.etag).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_once() {
        let v = BlobVersion::new("a", 1, Some("\"0x8D\""), None, None).unwrap();
        assert_eq!(v.etag(), "\"0x8D\"");
        let entry = BlobEntry {
            path: "b/c.csv".into(),
            bytes: 7,
            last_modified: None,
            etag: Some("0x8DAAC828B970928".into()),
            content_type: Some("text/csv".into()),
            content_encoding: Some(" gzip ".into()),
            content_hash: None,
        };
        let v = BlobVersion::from_entry(&entry).unwrap();
        assert_eq!((v.path(), v.size(), v.etag(), v.content_encoding()), ("b/c.csv", 7, "\"0x8DAAC828B970928\"", Some("gzip")));
        assert_eq!(v.content_type(), Some("text/csv"));
        assert!(BlobVersion::from_entry(&BlobEntry { etag: None, ..entry }).is_none());
    }

    #[test]
    fn a_version_needs_an_etag() {
        assert!(matches!(BlobVersion::new("a", 1, None, None, None), Err(Error::InvalidResponse(m)) if m == "no ETag for blob a"));
        assert!(BlobVersion::new("a", 1, Some("  "), None, None).is_err());
    }
}
