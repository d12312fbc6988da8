//! Listing blobs page by page, with every property `blob_list` shows.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rest::RestClient;

/// The largest page the service returns.
pub const MAX_PAGE: usize = 5000;

/// Characters left as they are in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Debug, Clone, PartialEq)]
pub struct BlobEntry {
    pub path: String,
    pub bytes: i64,
    pub last_modified: Option<DateTime<Utc>>,
    /// As Azure shows it in the portal: without the surrounding quotes.
    pub etag: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// Content-MD5 as 32 lowercase hex digits.
    pub content_hash: Option<String>,
}

pub struct Page {
    pub entries: Vec<BlobEntry>,
    /// Where the next page starts; `None` after the last page.
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
struct EnumerationResults {
    #[serde(rename = "Blobs", default)]
    blobs: Blobs,
    #[serde(rename = "NextMarker", default)]
    next_marker: Option<String>,
}

#[derive(Deserialize, Default)]
struct Blobs {
    #[serde(rename = "Blob", default)]
    blob: Vec<Blob>,
}

#[derive(Deserialize)]
struct Blob {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Properties")]
    properties: Properties,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(rename = "Content-Length", default)]
    content_length: i64,
    #[serde(rename = "Last-Modified", default)]
    last_modified: Option<String>,
    #[serde(rename = "Etag", default)]
    etag: Option<String>,
    #[serde(rename = "Content-Type", default)]
    content_type: Option<String>,
    #[serde(rename = "Content-Encoding", default)]
    content_encoding: Option<String>,
    #[serde(rename = "Content-MD5", default)]
    content_md5: Option<String>,
}

impl RestClient {
    /// One page of the blobs of `container` whose names start with `prefix`, in name order.
    pub async fn list_page(&self, container: &str, prefix: &str, marker: Option<&str>, page_size: usize) -> Result<Page> {
        input::names::validate_container_name(container)?;
        input::names::validate_prefix(prefix)?;
        let mut query = format!("/{container}?restype=container&comp=list&maxresults={}", page_size.clamp(1, MAX_PAGE));
        if !prefix.is_empty() {
            query.push_str(&format!("&prefix={}", utf8_percent_encode(prefix, QUERY_VALUE)));
        }
        if let Some(m) = marker {
            query.push_str(&format!("&marker={}", utf8_percent_encode(m, QUERY_VALUE)));
        }
        let resp = match self.send(Method::GET, &query, &[], Bytes::new()).await {
            Err(Error::Unauthenticated { .. }) if self.anonymous() => return Err(Error::AnonymousListing { container: container.to_string() }),
            other => other?,
        };
        parse_page(&resp.body)
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn parse_page(xml: &[u8]) -> Result<Page> {
    let text = std::str::from_utf8(xml).map_err(|e| Error::InvalidResponse(format!("listing is not UTF-8: {e}")))?;
    let parsed: EnumerationResults =
        quick_xml::de::from_str(text).map_err(|e| Error::InvalidResponse(format!("listing: {e}")))?;
    let mut entries = Vec::with_capacity(parsed.blobs.blob.len());
    for b in parsed.blobs.blob {
        let p = b.properties;
        let last_modified = match non_empty(p.last_modified) {
            Some(s) => Some(
                DateTime::parse_from_rfc2822(&s)
                    .map_err(|e| Error::InvalidResponse(format!("Last-Modified \"{s}\": {e}")))?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        entries.push(BlobEntry {
            path: b.name,
            bytes: p.content_length,
            last_modified,
            etag: non_empty(p.etag).map(|e| e.trim_matches('"').to_string()),
            content_type: non_empty(p.content_type),
            content_encoding: non_empty(p.content_encoding),
            content_hash: non_empty(p.content_md5).map(|m| md5_hex(&m)),
        });
    }
    Ok(Page { entries, next_marker: non_empty(parsed.next_marker) })
}

/// Content-MD5 comes base64-encoded; Azure's `blob_list` shows it as hex.
fn md5_hex(b64: &str) -> String {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(raw) => raw.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => b64.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_page() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c"><Prefix/><Marker/><MaxResults>2</MaxResults><Blobs><Blob><Name>a/b.csv</Name><Properties><Creation-Time>Wed, 12 Oct 2022 18:49:51 GMT</Creation-Time><Last-Modified>Wed, 12 Oct 2022 18:49:51 GMT</Last-Modified><Etag>0x8DAAC828B970928</Etag><Content-Length>41691786</Content-Length><Content-Type>application/x-gzip</Content-Type><Content-Encoding /><Content-MD5>Rztq1bfIiP9aDmKIiUZq7Q==</Content-MD5><BlobType>BlockBlob</BlobType></Properties></Blob><Blob><Name>z</Name><Properties><Content-Length>0</Content-Length><Content-Encoding>gzip</Content-Encoding></Properties></Blob></Blobs><NextMarker>tok/1</NextMarker></EnumerationResults>"#;
        let page = parse_page(xml).unwrap();
        assert_eq!(page.entries.len(), 2);
        let a = &page.entries[0];
        assert_eq!(a.path, "a/b.csv");
        assert_eq!(a.bytes, 41691786);
        assert_eq!(a.etag.as_deref(), Some("0x8DAAC828B970928"));
        assert_eq!(a.content_hash.as_deref(), Some("473b6ad5b7c888ff5a0e628889466aed"));
        assert_eq!(a.content_encoding, None);
        assert_eq!(a.last_modified.unwrap().to_rfc3339(), "2022-10-12T18:49:51+00:00");
        assert_eq!(page.entries[1].content_encoding.as_deref(), Some("gzip"));
        assert_eq!(page.next_marker.as_deref(), Some("tok/1"));
        let last = parse_page(b"<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>").unwrap();
        assert!(last.entries.is_empty() && last.next_marker.is_none());
    }
}
