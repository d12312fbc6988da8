//! `pgvault restore-files`: a restore point put into a target container in Azure Backup's
//! restore-as-files layout: `<prefix><point>_database_<db>.sql` for each database,
//! `<prefix><point>_roles.sql`, `_schema.sql`, `_tablespaces.sql`, and, last,
//! `<prefix>backupstarttimestamp`. The point and the target are validated first. Each file
//! streams from the vault to the target and is committed only when its size and SHA-256
//! match the manifest, so a damaged file never lands. (A server-side copy would save the
//! traffic but could not be checked before it is visible.)

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
use crate::vault::points::{self, FileEntry, MARKER};
use crate::vault::{verify, Context};

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

/// Restores `server/point` into `target` under `prefix`; returns the blob names written.
pub fn copy_point(ctx: &Context, (server, point): (&str, &str), (target, prefix): (&Context, &str), progress: &Progress, job: &Job) -> Result<Vec<String>, Error> {
    storage::names::validate_prefix(prefix).map_err(|e| Error::Usage(e.to_string()))?;
    let (manifest, mut problems) = verify::check_point(ctx, server, point)?;
    problems.extend(check_target(target, prefix));
    let manifest = match manifest {
        Some(m) if problems.is_empty() => m,
        _ => return Err(Error::Problems { what: format!("{server}/{point} was not restored; validation found"), problems }),
    };
    let folder = points::folder(server, point);
    let store = ctx.store()?;
    let mut written = Vec::new();
    for file in &manifest.files {
        let name = format!("{prefix}{}", file.name);
        let bar = progress.file(&name, Some(file.bytes));
        copy_verified(ctx, &store, &format!("{folder}/{}", file.name), (target, &name), file, &|n| bar.add(n))?;
        bar.done(file.bytes);
        job.add_bytes(file.bytes);
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

fn copy_verified(ctx: &Context, store: &BlobStore, source: &str, (target, name): (&Context, &str), file: &FileEntry, advanced: &dyn Fn(u64)) -> Result<(), Error> {
    let mut writer = target.writer(name)?;
    // On a mismatch the writer is dropped, which commits nothing.
    verify::read_verified(store, source, Some((file.bytes, &file.sha256)), ctx.cancelled(), &mut |piece| {
        advanced(piece.len() as u64);
        writer.write(piece, target.cancelled()).map_err(|e| Error::storage(name, e))
    })?;
    writer.finish(target.cancelled()).and_then(|staged| staged.commit(target.cancelled())).map(|_| ()).map_err(|e| Error::storage(name, e))
}

pub fn command(cli: &Cli, vault: &str, point: &str, target: &str, prefix: &str) -> Result<RestoredFiles, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let (target, prefix) = target_location(cli, target, prefix)?;
    let (server, point) = verify::find_point(&ctx, point)?;
    let progress = Progress::new(cli.json);
    let detail = format!("{}/{prefix}", target.name());
    let files = as_job(&ctx, "restore-files", Some(detail), &progress, |job| {
        job.set_point(&server, &point);
        copy_point(&ctx, (&server, &point), (&target, &prefix), &progress, job)
    })?;
    Ok(RestoredFiles { server, point, files, target: target.name() })
}
