//! `pgvault restore-files`: a restore point put into a target container in Azure Backup's
//! restore-as-files layout: `<prefix><point>_database_<db>.sql` for each database,
//! `<prefix><point>_roles.sql`, `_schema.sql`, `_tablespaces.sql`, and, last,
//! `<prefix>backupstarttimestamp`. The point and the target are validated first. Each file
//! streams from the vault to the target and is committed only when its size and SHA-256
//! match the manifest, so a damaged file never lands. (A server-side copy would save the
//! traffic but could not be checked before it is visible.)

use std::time::Duration;

use storage::rest::Properties;
use storage::runtime::block_on;
use storage::{BlobStore, BlobWriter, Compression, RestClient, UploadOptions};

use crate::vault::jobs::Job;
use crate::vault::points::{self, FileEntry, MARKER};
use crate::progress::Progress;
use crate::vault::verify;
use super::validate::target_location;
use super::{as_job, interrupted};
use crate::cli::Cli;
use crate::vault::Vault;

/// Restores `server/point` into `target` under `prefix`; returns the blob names written.
pub fn copy_point(vault: &Vault, (server, point): (&str, &str), (target, prefix): (&Vault, &str), timeout: Duration, progress: &Progress, job: &Job, cancelled: &dyn Fn() -> bool) -> Result<Vec<String>, String> {
    storage::names::validate_prefix(prefix).map_err(|e| e.to_string())?;
    let (manifest, mut problems) = verify::check_point(vault, server, point, timeout, cancelled)?;
    problems.extend(super::validate::check_target(target, prefix, timeout, cancelled));
    let manifest = match manifest {
        Some(m) if problems.is_empty() => m,
        _ => return Err(format!("{server}/{point} was not restored; validation found:\n  {}", problems.join("\n  "))),
    };
    let folder = points::folder(server, point);
    let store = BlobStore::new(&vault.account, &vault.container, timeout).map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    for file in &manifest.files {
        let name = format!("{prefix}{}", file.name);
        let bar = progress.file(&name, Some(file.bytes));
        copy_verified(&store, &format!("{folder}/{}", file.name), (target, &name), file, timeout, &|n| bar.add(n), cancelled)?;
        bar.done(file.bytes);
        job.add_bytes(file.bytes);
        written.push(name);
    }
    let client = RestClient::new(&target.account, timeout).map_err(|e| e.to_string())?;
    let marker = format!("{prefix}{MARKER}");
    let stamp = manifest.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let properties = Properties { content_type: Some("text/plain"), content_encoding: None };
    block_on(client.put_blob(&target.container, &marker, stamp.into_bytes().into(), &properties), cancelled).map_err(|e| format!("{marker}: {e}"))?;
    written.push(marker);
    Ok(written)
}

fn copy_verified(store: &BlobStore, source: &str, (target, name): (&Vault, &str), file: &FileEntry, timeout: Duration, advanced: &dyn Fn(u64), cancelled: &dyn Fn() -> bool) -> Result<(), String> {
    let options = UploadOptions { compression: Compression::None, content_type: "application/octet-stream".into(), content_encoding: None, concurrency: 4, timeout };
    let mut writer = BlobWriter::start(&target.account, &target.container, name, options).map_err(|e| format!("{name}: {e}"))?;
    // On a mismatch the writer is dropped, which commits nothing.
    verify::read_verified(store, source, Some((file.bytes, &file.sha256)), cancelled, &mut |piece| {
        advanced(piece.len() as u64);
        writer.write(piece, cancelled).map_err(|e| format!("{name}: {e}"))
    })?;
    writer.finish(cancelled).and_then(|staged| staged.commit(cancelled)).map(|_| ()).map_err(|e| format!("{name}: {e}"))
}

pub fn command(cli: &Cli, vault: &str, point: &str, target: &str, prefix: &str) -> Result<(), String> {
    let timeout = cli.timeout();
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let (target, prefix) = target_location(target, prefix, cli)?;
    let prefix = prefix.as_str();
    let (server, point) = verify::find_point(&vault, point, timeout)?;
    let progress = Progress::new(cli.json);
    let detail = format!("{}/{}/{prefix}", target.account.name, target.container);
    let written = as_job(&vault, "restore-files", Some(detail), cli, &progress, |job| {
        job.set_point(&server, &point);
        copy_point(&vault, (&server, &point), (&target, prefix), timeout, &progress, job, &interrupted)
    })?;
    if cli.json {
        println!("{}", serde_json::json!({ "server": server, "point": point, "files": written }));
    } else {
        println!("{server}/{point} restored as {} files into {}/{}", written.len(), target.account.name, target.container);
    }
    Ok(())
}
