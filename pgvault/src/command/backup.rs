//! `pgvault backup`: one restore point for a whole server. Each database with `pg_dump -Fc`,
//! several at once, then the globals with pg_dumpall (roles, schema, tablespaces); every dump
//! streams from the program's output into a block upload, hashed on the way, with no
//! temporary file. A file is committed only when its program exited successfully; the
//! manifest and then the marker are written only when every file is.

use std::collections::VecDeque;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};
use storage::rest::Properties;
use storage::runtime::block_on;
use storage::{BlobWriter, Compression, RestClient, UploadOptions};

use crate::vault::jobs::Job;
use crate::vault::points::{self, FileEntry, Manifest, MARKER};
use crate::postgres::{Postgres, Running, MAINTENANCE_DB};
use crate::progress::Progress;
use super::{as_job, interrupted};
use crate::cli::Cli;
use crate::vault::Vault;

pub struct BackupOptions {
    pub server: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub jobs: usize,
    /// pg_dump --lock-wait-timeout, in milliseconds.
    pub lock_wait_timeout: Option<u64>,
    pub timeout: Duration,
}

pub fn run(vault: &Vault, pg: &Postgres, options: &BackupOptions, progress: &Progress, job: &Job, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Manifest, String> {
    points::validate_server(&options.server)?;
    let client = RestClient::new(&vault.account, options.timeout).map_err(|e| e.to_string())?;
    let version = pg.server_version()?;
    let databases = select(pg.databases()?, &options.include, &options.exclude)?;

    let started_at = Utc::now();
    let point = points::point_id(started_at);
    let folder = points::folder(&options.server, &point);
    job.set_point(&options.server, &point);
    let dump = |name: String, kind: &str, database: Option<String>, command: Command| -> Result<FileEntry, String> {
        let bar = progress.file(database.as_deref().unwrap_or(kind), None);
        let (bytes, sha256) = stream_to_blob(vault, &format!("{folder}/{name}"), command, options.timeout, cancelled, &|n| bar.add(n))?;
        bar.done(bytes);
        job.add_bytes(bytes);
        Ok(FileEntry { name, kind: kind.to_string(), database, bytes, sha256 })
    };

    let queue = Mutex::new(databases.into_iter().collect::<VecDeque<_>>());
    let done = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| loop {
                let Some(database) = queue.lock().expect("never poisoned").pop_front() else { break };
                let outcome = pg.command_on("pg_dump", &database).and_then(|mut command| {
                    command.arg("-Fc");
                    if let Some(ms) = options.lock_wait_timeout {
                        command.arg(format!("--lock-wait-timeout={ms}"));
                    }
                    dump(points::database_file(&point, &database), "database", Some(database.clone()), command)
                });
                match outcome {
                    Ok(entry) => done.lock().expect("never poisoned").push(entry),
                    Err(e) => {
                        failures.lock().expect("never poisoned").push(format!("database {database}: {e}"));
                        // One failure fails the point: take no more work.
                        queue.lock().expect("never poisoned").clear();
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("never poisoned");
    if !failures.is_empty() {
        return Err(format!("backup {folder} failed, no restore point was made:\n  {}", failures.join("\n  ")));
    }
    let mut databases = done.into_inner().expect("never poisoned");
    databases.sort_by(|a, b| a.name.cmp(&b.name));

    let mut files = Vec::new();
    files.push(roles(pg, &point, &dump, progress)?);
    for (kind, flag) in [("schema", "--schema-only"), ("tablespaces", "--tablespaces-only")] {
        let mut command = pg.command_on("pg_dumpall", MAINTENANCE_DB)?;
        command.arg(flag);
        if let Some(ms) = options.lock_wait_timeout.filter(|_| kind == "schema") {
            command.arg(format!("--lock-wait-timeout={ms}"));
        }
        files.push(dump(points::globals_file(&point, kind), kind, None, command).map_err(|e| format!("backup {folder} failed at its {kind} file: {e}"))?);
    }

    files.extend(databases);

    let manifest = Manifest {
        server: options.server.clone(),
        point: point.clone(),
        postgres_version: version,
        started_at,
        finished_at: Utc::now(),
        tool: format!("pgvault {}", env!("CARGO_PKG_VERSION")),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let put = |name: &str, body: Vec<u8>, content_type: &str| {
        let properties = Properties { content_type: Some(content_type), content_encoding: None };
        block_on(client.put_blob(&vault.container, &format!("{folder}/{name}"), body.into(), &properties), cancelled)
            .map_err(|e| format!("{folder}/{name}: {e}"))
    };
    put(&points::manifest_file(&point), json, "application/json")?;
    // Last: the marker that makes the point complete.
    put(MARKER, started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into_bytes(), "text/plain")?;
    Ok(manifest)
}

/// Fails when the vault cannot be listed (credentials, container), before any dump starts.
pub fn check_vault(vault: &Vault, timeout: Duration, cancelled: &dyn Fn() -> bool) -> Result<(), String> {
    let client = RestClient::new(&vault.account, timeout).map_err(|e| e.to_string())?;
    block_on(client.list_page(&vault.container, "", None, 1), cancelled).map(|_| ()).map_err(|e| format!("vault {}/{}: {e}", vault.account.name, vault.container))
}

/// Streams one program's output into one file of the point.
type Dump<'a> = dyn Fn(String, &str, Option<String>, Command) -> Result<FileEntry, String> + 'a;

/// pg_dumpall --roles-only; where pg_authid cannot be read (managed services), again
/// without passwords, and saying so.
fn roles(pg: &Postgres, point: &str, dump: &Dump, progress: &Progress) -> Result<FileEntry, String> {
    let name = points::globals_file(point, "roles");
    let mut command = pg.command_on("pg_dumpall", MAINTENANCE_DB)?;
    command.arg("--roles-only");
    match dump(name.clone(), "roles", None, command) {
        Err(e) if e.contains("pg_authid") => {
            progress.note("pg_authid cannot be read: roles are backed up without their passwords (--no-role-passwords)");
            let mut command = pg.command_on("pg_dumpall", MAINTENANCE_DB)?;
            command.args(["--roles-only", "--no-role-passwords"]);
            dump(name, "roles", None, command)
        }
        other => other,
    }
}

/// The databases to back up: all, or those `include` names, minus those `exclude` names.
/// A name given that does not exist is an error.
fn select(all: Vec<String>, include: &[String], exclude: &[String]) -> Result<Vec<String>, String> {
    for name in include.iter().chain(exclude) {
        if !all.contains(name) {
            return Err(format!("database \"{name}\" does not exist or does not accept connections; the server has {}", all.join(", ")));
        }
    }
    Ok(all.into_iter().filter(|d| (include.is_empty() || include.contains(d)) && !exclude.contains(d)).collect())
}

/// Runs `command`, uploading its standard output to `blob`; returns its size and SHA-256.
/// Nothing is committed unless the program succeeds.
fn stream_to_blob(vault: &Vault, blob: &str, command: Command, timeout: Duration, cancelled: &dyn Fn() -> bool, advanced: &dyn Fn(u64)) -> Result<(u64, String), String> {
    let options = UploadOptions { compression: Compression::None, content_type: "application/octet-stream".into(), content_encoding: None, concurrency: 4, timeout };
    let mut writer = BlobWriter::start(&vault.account, &vault.container, blob, options).map_err(|e| format!("{blob}: {e}"))?;
    let mut program = Running::start(command, Stdio::null(), Stdio::piped())?;
    let mut stdout = program.child.stdout.take().expect("piped");
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let streamed = loop {
        match stdout.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                hasher.update(&buf[..n]);
                bytes += n as u64;
                advanced(n as u64);
                if let Err(e) = writer.write(&buf[..n], cancelled) {
                    break Err(format!("{blob}: {e}"));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("reading the output of {}: {e}", program.program())),
        }
    };
    if let Err(e) = streamed {
        program.kill();
        return Err(e);
    }
    program.finish()?;
    let staged = writer.finish(cancelled).map_err(|e| format!("{blob}: {e}"))?;
    staged.commit(cancelled).map_err(|e| format!("{blob}: {e}"))?;
    tracing::info!(blob, bytes, "committed");
    Ok((bytes, format!("{:x}", hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_selection() {
        let all = vec!["app".to_string(), "postgres".into(), "shop".into()];
        assert_eq!(select(all.clone(), &[], &[]).unwrap(), all);
        assert_eq!(select(all.clone(), &["shop".into()], &[]).unwrap(), vec!["shop"]);
        assert_eq!(select(all.clone(), &[], &["postgres".into()]).unwrap(), vec!["app", "shop"]);
        let e = select(all, &["nope".into()], &[]).unwrap_err();
        assert!(e.contains("\"nope\"") && e.contains("app, postgres, shop"), "{e}");
    }
}

pub fn command(cli: &Cli, vault: &str, source_db: Option<String>, options: &BackupOptions) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let pg = Postgres::new(cli.pg_bin.clone(), source_db);
    let progress = Progress::new(cli.json);
    // Storage problems (credentials, container) show before any dump starts.
    check_vault(&vault, cli.timeout(), &interrupted)?;
    let manifest = as_job(&vault, "backup", None, cli, &progress, |job| {
        job.set_server(&options.server);
        run(&vault, &pg, options, &progress, job, &interrupted)
    })?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&manifest).expect("a manifest serializes"));
    } else {
        println!(
            "restore point {}/{}: {} databases, {} bytes, {} s",
            manifest.server,
            manifest.point,
            manifest.databases(),
            manifest.bytes(),
            (manifest.finished_at - manifest.started_at).num_seconds()
        );
    }
    Ok(())
}
