//! What `pgvault restore` reads: a restore point of a vault (whose manifest gives every
//! file's size and SHA-256), or files in Azure Backup's restore-as-files layout in any
//! container and prefix (`backupstarttimestamp`, `<name>_database_<db>.sql`, `<name>_roles.sql`,
//! `<name>_schema.sql` or `_schemas.sql`, `<name>_tablespaces.sql`), which carry no checksums.

use storage::BlobStore;

use crate::error::Error;
use crate::vault::points::{self, MARKER};
use crate::vault::Context;

pub struct Source {
    /// The container the files are in, and what reading them needs.
    pub ctx: Context,
    pub store: BlobStore,
    /// How the source is named in messages: `server/point` or `account/container/prefix`.
    pub label: String,
    pub files: Vec<SourceFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Full blob name in the container.
    pub blob: String,
    /// database, roles, schema or tablespaces.
    pub kind: String,
    pub database: Option<String>,
    /// Size and SHA-256 the file must have, where a manifest says.
    pub expected: Option<(u64, String)>,
}

impl Source {
    pub fn file(&self, kind: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.kind == kind)
    }

    pub fn databases(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter().filter(|f| f.kind == "database")
    }
}

/// A complete point of the vault, from its manifest.
pub fn from_point(ctx: Context, server: &str, point: &str) -> Result<Source, Error> {
    let folder = points::folder(server, point);
    let store = ctx.store()?;
    ctx.run(store.get(&format!("{folder}/{MARKER}"))).map_err(|source| Error::Incomplete { folder: folder.clone(), source })?;
    let manifest = points::read_manifest(&store, server, point, ctx.cancelled())?;
    let files = manifest
        .files
        .into_iter()
        .map(|f| SourceFile { blob: format!("{folder}/{}", f.name), kind: f.kind, database: f.database, expected: Some((f.bytes, f.sha256)) })
        .collect();
    Ok(Source { ctx, store, label: folder, files })
}

/// Files in Azure Backup's restore-as-files layout directly under `prefix` (a folder, or
/// the container's root when empty).
pub fn from_files(ctx: Context, prefix: &str) -> Result<Source, Error> {
    let folder = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
    let label = format!("{}/{folder}", ctx.name());
    let names: Vec<String> = points::blobs(&ctx, &folder)?.into_iter().map(|b| b.path[folder.len()..].to_string()).filter(|n| !n.contains('/')).collect();
    let files = parse_layout(&names, &label)?;
    let store = ctx.store()?;
    let files = files.into_iter().map(|f| SourceFile { blob: format!("{folder}{}", f.blob), ..f }).collect();
    Ok(Source { ctx, store, label, files })
}

/// The restore files among `names` (blob names within one folder), named relative to it.
fn parse_layout(names: &[String], label: &str) -> Result<Vec<SourceFile>, Error> {
    if !names.iter().any(|n| n == MARKER) {
        return Err(Error::Content(format!("{label} holds no {MARKER}: it is not a complete restore as files")));
    }
    let mut files = Vec::new();
    let mut backups = std::collections::BTreeSet::new();
    for name in names {
        let Some(stem) = name.strip_suffix(".sql") else { continue };
        let (backup, kind, database) = if let Some((backup, db)) = stem.split_once("_database_") {
            (backup, "database", Some(db.replace("%2F", "/").replace("%25", "%")))
        } else if let Some((backup, kind)) = stem.rsplit_once('_').filter(|(_, k)| ["roles", "schema", "schemas", "tablespaces"].contains(k)) {
            (backup, if kind == "schemas" { "schema" } else { kind }, None)
        } else {
            continue;
        };
        backups.insert(backup.to_string());
        files.push(SourceFile { blob: name.clone(), kind: kind.to_string(), database, expected: None });
    }
    if backups.len() > 1 {
        return Err(Error::Content(format!("{label} holds the files of several backups ({}); give the prefix of one", backups.into_iter().collect::<Vec<_>>().join(", "))));
    }
    if !files.iter().any(|f| f.kind == "database") {
        return Err(Error::Content(format!("{label} holds no <name>_database_<db>.sql file")));
    }
    files.sort_by(|a, b| a.blob.cmp(&b.blob));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn azure_layout() {
        let g = "d98a8d0a-89c8-4b84-9c58-c6c8743e8478";
        let files = parse_layout(
            &names(&[MARKER, &format!("{g}_database_postgres.sql"), &format!("{g}_database_my_database_x.sql"), &format!("{g}_roles.sql"), &format!("{g}_schemas.sql"), &format!("{g}_tablespaces.sql"), "notes.txt"]),
            "x",
        )
        .unwrap();
        let kinds: Vec<(&str, Option<&str>)> = files.iter().map(|f| (f.kind.as_str(), f.database.as_deref())).collect();
        assert_eq!(kinds, vec![("database", Some("my_database_x")), ("database", Some("postgres")), ("roles", None), ("schema", None), ("tablespaces", None)]);
        assert!(parse_layout(&names(&["a_database_x.sql"]), "x").unwrap_err().to_string().contains("no backupstarttimestamp"));
        assert!(parse_layout(&names(&[MARKER, "a_roles.sql"]), "x").unwrap_err().to_string().contains("no <name>_database_<db>.sql"));
        let e = parse_layout(&names(&[MARKER, "a_database_x.sql", "b_database_x.sql"]), "x").unwrap_err().to_string();
        assert!(e.contains("several backups (a, b)"), "{e}");
        let ours = parse_layout(&names(&[MARKER, "20261123T223005Z_database_a%2Fb.sql", "20261123T223005Z_manifest.json"]), "x").unwrap();
        assert_eq!(ours[0].database.as_deref(), Some("a/b"));
    }
}
