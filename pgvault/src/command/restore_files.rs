//! `pgvault restore-files`: a restore point put into a target container in Azure Backup's
//! restore-as-files layout: `<prefix><point>_database_<db>.sql` for each database,
//! `<prefix><point>_roles.sql`, `_schema.sql`, `_tablespaces.sql`, and, last,
//! `<prefix>backupstarttimestamp`. The point and the target are validated first. Each file
//! streams from the vault to the target and is committed only when its size and SHA-256
//! match the manifest, so a damaged file never lands. (A server-side copy would save the
//! traffic but could not be checked before it is visible.) An encrypted point's files are
//! decrypted with an identity into the same names, or with `--keep-encrypted` copied as
//! they are stored, with the `.age` suffix.

use serde::Serialize;
use storage::rest::Properties;
use storage::BlobStore;

use super::as_job;
use super::validate::{check_target, target_location};
use crate::cli::Cli;
use crate::error::Error;
use crate::progress::Progress;
use crate::report::Report;
use crate::vault::jobs::Job;
use crate::vault::crypt::{self, Identity};
use crate::vault::points::{self, MARKER};
use crate::vault::verify::{self, FileRef};
use crate::vault::Context;

#[derive(Serialize)]
pub struct RestoredFiles {
    server: String,
    point: String,
    /// The blob names written.
    files: Vec<String>,
    #[serde(skip)]
    target: String,
}

impl Report for RestoredFiles {
    fn text(&self) -> String {
        format!("{}/{} restored as {} files into {}\n", self.server, self.point, self.files.len(), self.target)
    }
}

/// Restores `server/point` into `target` under `prefix`: an encrypted point decrypted with
/// `key`, or copied encrypted when `keep_encrypted`. Returns the blob names written.
pub fn copy_point(ctx: &Context, (server, point): (&str, &str), (target, prefix): (&Context, &str), (key, keep_encrypted): (Option<&Identity>, bool), progress: &Progress, job: &Job) -> Result<Vec<String>, Error> {
    storage::names::validate_prefix(prefix).map_err(|e| Error::Usage(e.to_string()))?;
    let (manifest, mut problems) = verify::check_point(ctx, server, point, key.filter(|_| !keep_encrypted))?;
    problems.extend(check_target(target, prefix));
    let manifest = match manifest {
        Some(m) if problems.is_empty() => m,
        _ => return Err(Error::Problems { what: format!("{server}/{point} was not restored; validation found"), problems }),
    };
    match (&manifest.encryption, key, keep_encrypted) {
        (Some(e), None, false) => {
            return Err(Error::Usage(format!(
                "{server}/{point} is encrypted (to {}): give --identity to restore its files decrypted, or --keep-encrypted to copy them as they are",
                e.recipients.join(", ")
            )))
        }
        (None, _, true) => return Err(Error::Usage(format!("{server}/{point} is not encrypted; --keep-encrypted is for encrypted points"))),
        _ => {}
    }
    let key = key.filter(|_| !keep_encrypted);
    let folder = points::folder(server, point);
    let store = ctx.store()?;
    let mut written = Vec::new();
    for entry in &manifest.files {
        let file = FileRef::of(&folder, entry, manifest.encryption.as_ref());
        // Decrypted files take the name Azure Backup gives them; kept encrypted, age's suffix.
        let name = match key {
            Some(_) => format!("{prefix}{}", entry.name.strip_suffix(crypt::SUFFIX).unwrap_or(&entry.name)),
            None => format!("{prefix}{}", entry.name),
        };
        let bytes = if key.is_some() || file.sealed.is_none() { entry.bytes } else { entry.stored().bytes };
        let bar = progress.file(&name, Some(bytes));
        copy_verified(ctx, &store, &file, key, (target, &name), &|n| bar.add(n))?;
        bar.done(bytes);
        job.add_bytes(bytes);
        written.push(name);
    }
    let client = target.client()?;
    let marker = format!("{prefix}{MARKER}");
    let stamp = manifest.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let properties = Properties { content_type: Some("text/plain"), content_encoding: None };
    target.run(client.put_blob(&target.vault.container, &marker, stamp.into_bytes().into(), &properties)).map_err(|e| Error::storage(&marker, e))?;
    written.push(marker);
    Ok(written)
}

fn copy_verified(ctx: &Context, store: &BlobStore, file: &FileRef, key: Option<&Identity>, (target, name): (&Context, &str), advanced: &dyn Fn(u64)) -> Result<(), Error> {
    let mut writer = target.writer(name)?;
    // On a mismatch the writer is dropped, which commits nothing.
    verify::read_verified(store, file, key, ctx.cancelled(), &mut |piece| {
        advanced(piece.len() as u64);
        writer.write(piece, target.cancelled()).map_err(|e| Error::storage(name, e))
    })?;
    writer.finish(target.cancelled()).and_then(|staged| staged.commit(target.cancelled())).map(|_| ()).map_err(|e| Error::storage(name, e))
}

pub fn command(cli: &Cli, vault: &str, point: &str, (target, prefix): (&str, &str), identity: Option<&std::path::Path>, keep_encrypted: bool) -> Result<RestoredFiles, Error> {
    let key = if keep_encrypted { None } else { super::identity(cli, identity)? };
    let ctx = super::open(cli, "--vault", vault)?;
    let (target, prefix) = target_location(cli, target, prefix)?;
    let (server, point) = verify::find_point(&ctx, point)?;
    let progress = Progress::new(cli.json);
    let detail = format!("{}/{prefix}", target.name());
    let files = as_job(&ctx, "restore-files", Some(detail), &progress, |job| {
        job.set_point(&server, &point);
        copy_point(&ctx, (&server, &point), (&target, &prefix), (key.as_ref(), keep_encrypted), &progress, job)
    })?;
    Ok(RestoredFiles { server, point, files, target: target.name() })
}
