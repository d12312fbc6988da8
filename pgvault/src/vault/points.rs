//! Restore points in a vault: their layout, manifest and listing.
//!
//! A point of server `s` started at 2026-11-23 22:30:00 UTC is the folder
//! `s/20261123T223000Z/` holding Azure Backup's files with the point id as prefix
//! (`<point>_database_<db>.sql`, `<point>_roles.sql`, `<point>_schema.sql`,
//! `<point>_tablespaces.sql`), our `<point>_manifest.json`, and, written last,
//! `backupstarttimestamp`. A folder without that marker is an incomplete point and is never
//! listed as restorable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use storage::runtime::block_on;
use storage::list::BlobEntry;
use storage::{BlobStore, Listing};

use super::Context;
use crate::error::Error;

/// The completion marker: one RFC 3339 UTC timestamp, the start of the backup.
pub const MARKER: &str = "backupstarttimestamp";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Blob name within the point's folder (with `.age` when encrypted).
    pub name: String,
    /// database, roles, schema or tablespaces.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Size and SHA-256 of the file as pg_dump or pg_dumpall wrote it (the plain bytes).
    pub bytes: u64,
    pub sha256: String,
    /// Size and SHA-256 of the bytes in the vault, when they are not the plain bytes
    /// (encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<Digest>,
    /// For a database: each table whose rows the dump holds, with its exact row count in
    /// the dump's own snapshot (absent when the backup was made with --no-row-counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<TableRows>>,
}

/// A table of a database dump and the rows it had when the dump was taken.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableRows {
    pub schema: String,
    pub table: String,
    pub rows: u64,
}

impl FileEntry {
    pub fn plain(&self) -> Digest {
        Digest { bytes: self.bytes, sha256: self.sha256.clone() }
    }

    /// What the blob in the vault must be.
    pub fn stored(&self) -> Digest {
        self.stored.clone().unwrap_or_else(|| self.plain())
    }
}

/// Size and SHA-256 (lowercase hex) of some bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Digest {
    pub bytes: u64,
    pub sha256: String,
}

/// A size and SHA-256 being taken, piece by piece.
#[derive(Default)]
pub struct Hashing {
    hasher: Sha256,
    bytes: u64,
}

impl Hashing {
    pub fn add(&mut self, piece: &[u8]) {
        self.hasher.update(piece);
        self.bytes += piece.len() as u64;
    }

    pub fn digest(self) -> Digest {
        Digest { bytes: self.bytes, sha256: format!("{:x}", self.hasher.finalize()) }
    }
}

/// How a point's files are encrypted: the format and the public keys they are encrypted to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Encryption {
    /// "age" (age-encryption.org/v1).
    pub format: String,
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub server: String,
    pub point: String,
    pub postgres_version: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub tool: String,
    /// Present when every file of the point is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    pub fn databases(&self) -> usize {
        self.files.iter().filter(|f| f.kind == "database").count()
    }
}

/// The id of a point started at `at`: sortable, one per second and server.
pub fn point_id(at: DateTime<Utc>) -> String {
    at.format(POINT_ID_FORMAT).to_string()
}

/// When the point `id` started, read from its name.
pub fn point_time(id: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(id, POINT_ID_FORMAT).ok().map(|t| t.and_utc())
}

const POINT_ID_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// A server name is one folder of the vault; `_pgvault` holds the job records.
pub fn validate_server(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 200 || name.contains('/') || name.chars().any(char::is_control) || name == "." || name == ".." {
        return Err(Error::Usage(format!("server name \"{name}\" must be 1 to 200 characters without \"/\" or control characters")));
    }
    if name == "_pgvault" {
        return Err(Error::Usage("server name \"_pgvault\" is where the vault keeps its job records; choose another".into()));
    }
    Ok(())
}

pub fn folder(server: &str, point: &str) -> String {
    format!("{server}/{point}")
}

/// `<point>_database_<db>.sql`; a `/` or `%` in the database name is percent-encoded so
/// that the name stays one blob name segment.
pub fn database_file(point: &str, database: &str) -> String {
    format!("{point}_database_{}.sql", database.replace('%', "%25").replace('/', "%2F"))
}

pub fn globals_file(point: &str, kind: &str) -> String {
    format!("{point}_{kind}.sql")
}

pub fn manifest_file(point: &str) -> String {
    format!("{point}_manifest.json")
}

#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    pub server: String,
    pub point: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub bytes: u64,
    pub databases: usize,
    /// The recipients the point is encrypted to (none: not encrypted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encrypted_to: Vec<String>,
}

/// Complete points of `server` (or of every server), newest first, started within
/// [from, to].
pub fn list(ctx: &Context, server: Option<&str>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Vec<PointSummary>, Error> {
    let store = ctx.store()?;
    let markers = markers(ctx, &server.map(|s| format!("{s}/")).unwrap_or_default())?;
    let mut points = Vec::new();
    for (server, point) in markers {
        let manifest = read_manifest(&store, &server, &point, ctx.cancelled())?;
        if from.is_some_and(|f| manifest.started_at < f) || to.is_some_and(|t| manifest.started_at > t) {
            continue;
        }
        points.push(PointSummary {
            server,
            point,
            started_at: manifest.started_at,
            finished_at: manifest.finished_at,
            bytes: manifest.bytes(),
            databases: manifest.databases(),
            encrypted_to: manifest.encryption.map(|e| e.recipients).unwrap_or_default(),
        });
    }
    points.sort_by_key(|p| std::cmp::Reverse(p.started_at));
    Ok(points)
}

/// The manifest of `server/point`.
pub fn read_manifest(store: &BlobStore, server: &str, point: &str, cancelled: &dyn Fn() -> bool) -> Result<Manifest, Error> {
    let folder = folder(server, point);
    let manifest: Manifest = match block_on(store.get(&format!("{folder}/{}", manifest_file(point))), cancelled) {
        Ok(text) => serde_json::from_slice(&text).map_err(|source| Error::BadManifest { folder: folder.clone(), source })?,
        Err(source) => return Err(Error::NoManifest { folder, source }),
    };
    if let Some(format) = manifest.encryption.as_ref().map(|e| &e.format).filter(|f| *f != "age") {
        return Err(Error::Content(format!("{folder}: encrypted as {format:?}, which this pgvault cannot decrypt (it reads \"age\")")));
    }
    Ok(manifest)
}

/// (server, point) of every complete point whose folder starts with `prefix`.
pub fn markers(ctx: &Context, prefix: &str) -> Result<Vec<(String, String)>, Error> {
    let mut found = Vec::new();
    for entry in blobs(ctx, prefix)? {
        let path = entry.path;
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() == 3 && parts[2] == MARKER {
            found.push((parts[0].to_string(), parts[1].to_string()));
        }
    }
    Ok(found)
}

/// Every blob of the vault whose name starts with `prefix`, page after page.
pub fn blobs(ctx: &Context, prefix: &str) -> Result<Vec<BlobEntry>, Error> {
    Listing::new(ctx.client()?, &ctx.vault.container, prefix, ctx.cancelled()).collect::<Result<Vec<_>, _>>().map_err(|e| Error::storage(ctx.name(), e))
}

/// A time given on the command line: RFC 3339, or a date (midnight UTC).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| Error::Usage(format!("time \"{text}\" is neither RFC 3339 (2026-11-23T22:30:00Z) nor a date (2026-11-23)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let at = parse_time("2026-11-23T22:30:05Z").unwrap();
        let point = point_id(at);
        assert_eq!(point, "20261123T223005Z");
        assert_eq!(point_time(&point), Some(at));
        assert_eq!(point_time("latest"), None);
        assert_eq!(database_file(&point, "app"), "20261123T223005Z_database_app.sql");
        assert_eq!(database_file(&point, "a/b%c"), "20261123T223005Z_database_a%2Fb%25c.sql");
        assert_eq!(globals_file(&point, "schema"), "20261123T223005Z_schema.sql");
        assert_eq!(parse_time("2026-11-23").unwrap(), parse_time("2026-11-23T00:00:00+00:00").unwrap());
        assert!(parse_time("yesterday").is_err());
        assert!(validate_server("prod-eu").is_ok());
        for bad in ["", "a/b", "..", "x\ny", "_pgvault"] {
            assert!(validate_server(bad).is_err(), "{bad:?}");
        }
    }
}
