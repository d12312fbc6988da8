//! What `pgvault restore` reads: a restore point of a vault (whose manifest gives every
//! file's size and SHA-256), or files in Azure Backup's restore-as-files layout in any
//! container and prefix (`backupstarttimestamp`, `<name>_database_<db>.sql`, `<name>_roles.sql`,
//! `<name>_schema.sql` or `_schemas.sql`, `<name>_tablespaces.sql`, each with `.age` after
//! it when kept encrypted), which carry no checksums.

use storage::BlobStore;

use crate::error::Error;
use crate::vault::crypt::{self, Identity};
use crate::vault::points::{self, Manifest, MARKER};
use crate::vault::verify::FileRef;
use crate::vault::Context;

pub struct Source {
    /// The container the files are in, and what reading them needs.
    pub ctx: Context,
    pub store: BlobStore,
    /// How the source is named in messages: `server/point` or `account/container/prefix`.
    pub label: String,
    pub files: Vec<SourceFile>,
    /// The identity that decrypts encrypted files.
    pub key: Option<Identity>,
    /// The point's manifest (none for files restored as files).
    pub manifest: Option<Manifest>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Where the file is, whether it is encrypted, what it must be.
    pub file: FileRef,
    /// database, roles, schema or tablespaces.
    pub kind: String,
    pub database: Option<String>,
}

impl std::ops::Deref for SourceFile {
    type Target = FileRef;

    fn deref(&self) -> &FileRef {
        &self.file
    }
}

impl Source {
    pub fn file(&self, kind: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.kind == kind)
    }

    pub fn databases(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter().filter(|f| f.kind == "database")
    }

    /// Refuses encrypted `files` when there is no identity to decrypt them.
    pub fn check_key<'a>(&self, mut files: impl Iterator<Item = &'a SourceFile>) -> Result<(), Error> {
        match files.find(|f| f.sealed.is_some()) {
            Some(file) if self.key.is_none() => {
                let to = file.sealed.as_deref().filter(|r| !r.is_empty()).map(|r| format!(" (to {})", r.join(", "))).unwrap_or_default();
                Err(Error::Usage(format!("{} is encrypted{to}: give the identity that decrypts it with --identity (or PGVAULT_IDENTITY)", self.label)))
            }
            _ => Ok(()),
        }
    }
}

/// A complete point of the vault, from its manifest.
pub fn from_point(ctx: Context, server: &str, point: &str, key: Option<Identity>) -> Result<Source, Error> {
    let folder = points::folder(server, point);
    let store = ctx.store()?;
    ctx.run(store.get(&format!("{folder}/{MARKER}"))).map_err(|source| Error::Incomplete { folder: folder.clone(), source })?;
    let manifest = points::read_manifest(&store, server, point, ctx.cancelled())?;
    let files = manifest
        .files
        .iter()
        .map(|f| SourceFile { file: FileRef::of(&folder, f, manifest.encryption.as_ref()), kind: f.kind.clone(), database: f.database.clone() })
        .collect();
    Ok(Source { ctx, store, label: folder, files, key, manifest: Some(manifest) })
}

/// Files in Azure Backup's restore-as-files layout directly under `prefix` (a folder, or
/// the container's root when empty).
pub fn from_files(ctx: Context, prefix: &str, key: Option<Identity>) -> Result<Source, Error> {
    let folder = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
    let label = format!("{}/{folder}", ctx.name());
    let names: Vec<String> = points::blobs(&ctx, &folder)?.into_iter().map(|b| b.path[folder.len()..].to_string()).filter(|n| !n.contains('/')).collect();
    let files = parse_layout(&names, &label)?;
    let store = ctx.store()?;
    let files = files.into_iter().map(|f| SourceFile { file: FileRef { blob: format!("{folder}{}", f.blob), ..f.file }, ..f }).collect();
    Ok(Source { ctx, store, label, files, key, manifest: None })
}

/// The restore files among `names` (blob names within one folder), named relative to it.
fn parse_layout(names: &[String], label: &str) -> Result<Vec<SourceFile>, Error> {
    if !names.iter().any(|n| n == MARKER) {
        return Err(Error::Content(format!("{label} holds no {MARKER}: it is not a complete restore as files")));
    }
    let mut files = Vec::new();
    let mut backups = std::collections::BTreeSet::new();
    for name in names {
        // Files restored with --keep-encrypted end in .age.
        let (sealed, name_sql) = match name.strip_suffix(crypt::SUFFIX) {
            Some(plain) => (Some(Vec::new()), plain),
            None => (None, name.as_str()),
        };
        let Some(stem) = name_sql.strip_suffix(".sql") else { continue };
        let (backup, kind, database) = if let Some((backup, db)) = stem.split_once("_database_") {
            (backup, "database", Some(db.replace("%2F", "/").replace("%25", "%")))
        } else if let Some((backup, kind)) = stem.rsplit_once('_').filter(|(_, k)| ["roles", "schema", "schemas", "tablespaces"].contains(k)) {
            (backup, if kind == "schemas" { "schema" } else { kind }, None)
        } else {
            continue;
        };
        backups.insert(backup.to_string());
        files.push(SourceFile { file: FileRef { blob: name.clone(), sealed, stored: None, plain: None }, kind: kind.to_string(), database });
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
