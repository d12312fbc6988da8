//! `pgvault backup`: one restore point for a whole server. Each database with `pg_dump -Fc`,
//! several at once, then the globals with pg_dumpall (roles, schema, tablespaces); every dump
//! streams from the program's output into a block upload, hashed on the way, with no
//! temporary file. A file is committed only when its program exited successfully; the
//! manifest and then the marker are written only when every file is. Each database's
//! manifest entry holds its tables' exact row counts in the dump's own snapshot (rows.rs).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;
use storage::rest::Properties;
use storage::BlobWriter;

mod rows;

use super::as_job;
use crate::cli::Cli;
use crate::error::Error;
use crate::postgres::{Postgres, Running, MAINTENANCE_DB};
use crate::progress::Progress;
use crate::report::Report;
use crate::vault::jobs::Job;
use crate::vault::crypt::{self, Recipients};
use crate::vault::points::{self, Digest, Encryption, FileEntry, Hashing, Manifest, MARKER};
use crate::vault::Context;

pub struct BackupOptions {
    pub server: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub jobs: usize,
    /// pg_dump --lock-wait-timeout, in milliseconds.
    pub lock_wait_timeout: Option<u64>,
    /// Encrypt every file to these public keys.
    pub recipients: Option<Recipients>,
    /// Record each table's rows in the manifest, counted in the dump's snapshot.
    pub row_counts: bool,
}

/// The restore point made: its manifest.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Backup(Manifest);

impl Report for Backup {
    fn text(&self) -> String {
        let m = &self.0;
        format!("restore point {}/{}: {} databases, {} bytes, {} s\n", m.server, m.point, m.databases(), m.bytes(), (m.finished_at - m.started_at).num_seconds())
    }
}

pub fn run(ctx: &Context, pg: &Postgres, options: &BackupOptions, progress: &Progress, job: &Job) -> Result<Manifest, Error> {
    points::validate_server(&options.server)?;
    let client = ctx.client()?;
    let version = pg.server_version()?;
    let databases = select(pg.databases()?, &options.include, &options.exclude)?;

    let started_at = Utc::now();
    let point = points::point_id(started_at);
    let folder = points::folder(&options.server, &point);
    job.set_point(&options.server, &point);
    let sealed = options.recipients.as_ref();
    let dump = |name: String, kind: &str, database: Option<String>, command: Command| -> Result<FileEntry, Error> {
        let bar = progress.file(database.as_deref().unwrap_or(kind), None);
        let name = if sealed.is_some() { format!("{name}{}", crypt::SUFFIX) } else { name };
        let (plain, stored) = stream_to_blob(ctx, &format!("{folder}/{name}"), command, sealed, &|n| bar.add(n))?;
        bar.done(plain.bytes);
        job.add_bytes(plain.bytes);
        Ok(FileEntry { name, kind: kind.to_string(), database, bytes: plain.bytes, sha256: plain.sha256, stored, tables: None })
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
                    let name = points::database_file(&point, &database);
                    if !options.row_counts {
                        return dump(name, "database", Some(database.clone()), command);
                    }
                    counted(pg, &database, options, command, |command| dump(name, "database", Some(database.clone()), command))
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
        return Err(Error::Problems { what: format!("backup {folder} failed, no restore point was made"), problems: failures });
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
        files.push(dump(points::globals_file(&point, kind), kind, None, command).map_err(|e| e.about(format!("backup {folder} failed at its {kind} file")))?);
    }

    files.extend(databases);

    let manifest = Manifest {
        server: options.server.clone(),
        point: point.clone(),
        postgres_version: version,
        started_at,
        finished_at: Utc::now(),
        tool: format!("pgvault {}", env!("CARGO_PKG_VERSION")),
        encryption: sealed.map(|r| Encryption { format: "age".into(), recipients: r.keys() }),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let put = |name: &str, body: Vec<u8>, content_type: &str| {
        let properties = Properties { content_type: Some(content_type), content_encoding: None };
        let blob = format!("{folder}/{name}");
        ctx.run(client.put_blob(&ctx.vault.container, &blob, body.into(), &properties)).map_err(|e| Error::storage(blob, e))
    };
    put(&points::manifest_file(&point), json, "application/json")?;
    // Last: the marker that makes the point complete.
    put(MARKER, started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into_bytes(), "text/plain")?;
    Ok(manifest)
}

/// A database's dump (`dump` given the pg_dump `command`) with its tables' rows counted in
/// the same snapshot, while pg_dump reads.
fn counted(pg: &Postgres, database: &str, options: &BackupOptions, mut command: Command, dump: impl FnOnce(Command) -> Result<FileEntry, Error>) -> Result<FileEntry, Error> {
    let counting = |e: Error| e.about("counting its rows (--no-row-counts backs up without them)");
    let mut snapshot = rows::Snapshot::take(pg, database, options.lock_wait_timeout).map_err(counting)?;
    command.arg(format!("--snapshot={}", snapshot.name));
    let (entry, tables) = std::thread::scope(|scope| {
        let tables = scope.spawn(|| snapshot.count());
        let entry = dump(command);
        (entry, tables.join().expect("counting does not panic"))
    });
    let mut entry = entry?;
    entry.tables = Some(tables.map_err(counting)?);
    snapshot.close().map_err(counting)?;
    Ok(entry)
}

/// Fails when the vault cannot be listed (credentials, container), before any dump starts.
pub fn check_vault(ctx: &Context) -> Result<(), Error> {
    let client = ctx.client()?;
    ctx.run(client.list_page(&ctx.vault.container, "", None, 1)).map(|_| ()).map_err(|e| Error::storage(format!("vault {}", ctx.name()), e))
}

/// Streams one program's output into one file of the point.
type Dump<'a> = dyn Fn(String, &str, Option<String>, Command) -> Result<FileEntry, Error> + 'a;

/// pg_dumpall --roles-only; where pg_authid cannot be read (managed services), again
/// without passwords, and saying so.
fn roles(pg: &Postgres, point: &str, dump: &Dump, progress: &Progress) -> Result<FileEntry, Error> {
    let name = points::globals_file(point, "roles");
    let mut command = pg.command_on("pg_dumpall", MAINTENANCE_DB)?;
    command.arg("--roles-only");
    match dump(name.clone(), "roles", None, command) {
        Err(Error::ProgramFailed { stderr, .. }) if stderr.contains("pg_authid") => {
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
fn select(all: Vec<String>, include: &[String], exclude: &[String]) -> Result<Vec<String>, Error> {
    for name in include.iter().chain(exclude) {
        if !all.contains(name) {
            return Err(Error::Usage(format!("database \"{name}\" does not exist or does not accept connections; the server has {}", all.join(", "))));
        }
    }
    Ok(all.into_iter().filter(|d| (include.is_empty() || include.contains(d)) && !exclude.contains(d)).collect())
}

/// Runs `command`, uploading its standard output to `blob`, encrypted to `sealed` when
/// given; returns the size and SHA-256 of the output, and of the stored bytes when they
/// differ (encrypted). Nothing is committed unless the program succeeds.
fn stream_to_blob(ctx: &Context, blob: &str, command: Command, sealed: Option<&Recipients>, advanced: &dyn Fn(u64)) -> Result<(Digest, Option<Digest>), Error> {
    let sink = BlobSink { writer: ctx.writer(blob)?, ctx, hashing: Hashing::default(), failure: None };
    let unwritable = |sink_failure: Option<storage::Error>, e: std::io::Error| match sink_failure {
        Some(failure) => Error::storage(blob, failure),
        None => Error::io(format!("encrypting {blob}"), e),
    };
    let mut out = match sealed {
        None => Out::Plain(sink),
        Some(recipients) => Out::Sealed(recipients.encrypt(sink).map_err(|e| Error::io(format!("encrypting {blob}"), e))?),
    };
    let mut program = Running::start(command, Stdio::null(), Stdio::piped())?;
    let mut stdout = program.child.stdout.take().expect("piped");
    let mut plain = Hashing::default();
    let mut buf = vec![0u8; 1 << 20];
    let streamed = loop {
        match stdout.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                plain.add(&buf[..n]);
                advanced(n as u64);
                if let Err(e) = out.write_all(&buf[..n]) {
                    break Err(unwritable(out.failure(), e));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(Error::io(format!("reading the output of {}", program.program()), e)),
        }
    };
    if let Err(e) = streamed {
        program.kill();
        return Err(e);
    }
    program.finish()?;
    let sink = match out {
        Out::Plain(sink) => sink,
        Out::Sealed(mut sealed) => match sealed.flush().and_then(|_| sealed.finish()) {
            Ok(sink) => sink,
            Err(e) => return Err(Error::io(format!("encrypting {blob}"), e)),
        },
    };
    let encrypted = matches!(sealed, Some(_));
    let BlobSink { writer, hashing, failure, .. } = sink;
    if let Some(failure) = failure {
        return Err(Error::storage(blob, failure));
    }
    let staged = writer.finish(ctx.cancelled()).map_err(|e| Error::storage(blob, e))?;
    staged.commit(ctx.cancelled()).map_err(|e| Error::storage(blob, e))?;
    let (plain, stored) = (plain.digest(), hashing.digest());
    tracing::info!(blob, bytes = plain.bytes, stored = stored.bytes, "committed");
    Ok((plain, encrypted.then_some(stored)))
}

/// Where a program's output goes: the blob, through age when the point is encrypted.
enum Out<'a> {
    Plain(BlobSink<'a>),
    Sealed(age::stream::StreamWriter<BlobSink<'a>>),
}

impl Out<'_> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Plain(sink) => sink.write_all(bytes),
            Out::Sealed(sealed) => sealed.write_all(bytes),
        }
    }

    /// The storage error behind a failed write, if that is what it was.
    fn failure(&mut self) -> Option<storage::Error> {
        match self {
            Out::Plain(sink) => sink.failure.take(),
            // The age stream keeps its sink to itself; its error says what the storage said.
            Out::Sealed(_) => None,
        }
    }
}

/// A block upload as a `Write`, hashing what it is given (the stored bytes).
struct BlobSink<'a> {
    writer: BlobWriter,
    ctx: &'a Context,
    hashing: Hashing,
    failure: Option<storage::Error>,
}

impl Write for BlobSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.writer.write(bytes, self.ctx.cancelled()) {
            let said = e.to_string();
            self.failure = Some(e);
            return Err(std::io::Error::other(said));
        }
        self.hashing.add(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
        let e = select(all, &["nope".into()], &[]).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("app, postgres, shop"), "{e}");
    }
}

pub fn command(cli: &Cli, vault: &str, source_db: Option<String>, options: &BackupOptions) -> Result<Backup, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let pg = Postgres::new(cli.pg_bin.clone(), source_db);
    let progress = Progress::new(cli.json);
    // Storage problems (credentials, container) show before any dump starts.
    check_vault(&ctx)?;
    let manifest = as_job(&ctx, "backup", None, &progress, |job| {
        job.set_server(&options.server);
        run(&ctx, &pg, options, &progress, job)
    })?;
    Ok(Backup(manifest))
}
