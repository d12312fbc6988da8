//! `pgvault restore`: databases back into a server with pg_restore, and on request the
//! roles and tablespaces with psql.
//!
//! Every file needed is checked against its manifest (size and SHA-256) before anything is
//! restored, so an altered point is refused whole; files are checked again as they are
//! read. With `-j 1` a dump streams from the vault into pg_restore; with more jobs it is
//! spooled into a temporary file first, since pg_restore can only work in parallel on a
//! file it can seek in. A database file that is not a custom-format archive (no `PGDMP`
//! magic) is plain SQL and goes to psql, as the roles and tablespaces do: before anything is
//! restored, each file that goes to psql is read for psql meta-commands (psql_script), and
//! read again as it streams into psql.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod archive;
mod globals;
mod psql_script;
pub mod source;

use super::as_job;
use crate::cli::Cli;
use crate::error::Error;
use crate::postgres::{Postgres, Running, MAINTENANCE_DB};
use crate::progress::Progress;
use crate::report::Report;
use crate::vault::jobs::Job;
use crate::vault::verify;
use psql_script::{Psql, Refusal, Script};
use source::{Source, SourceFile};

pub struct RestoreOptions {
    /// Only these databases (all when empty).
    pub databases: Vec<String>,
    /// pg_restore --jobs; above 1 the dump is spooled to a temporary file.
    pub jobs: usize,
    /// Create each database (pg_restore --create) rather than restore into an existing one.
    pub create: bool,
    /// Drop the objects (with --create: the database) before restoring them.
    pub clean: bool,
    /// Restore roles and tablespaces first.
    pub globals: bool,
    /// Leave out the roles and attributes only Azure Database for PostgreSQL has.
    pub drop_azure_roles: bool,
    pub no_owner: bool,
    pub no_privileges: bool,
    /// Where dumps are spooled for a parallel restore (default: the temporary directory).
    pub spool_dir: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize)]
pub struct Restored {
    pub source: String,
    pub databases: Vec<String>,
    pub globals: Vec<String>,
    pub bytes: u64,
}

impl Report for Restored {
    fn text(&self) -> String {
        let globals = if self.globals.is_empty() { String::new() } else { format!(" and {}", self.globals.join(", ")) };
        format!("{}: restored {} database(s){globals}: {} ({} bytes read)\n", self.source, self.databases.len(), self.databases.join(", "), self.bytes)
    }
}

pub fn run(source: &Source, pg: &Postgres, options: &RestoreOptions, progress: &Progress, job: &Job) -> Result<Restored, Error> {
    let databases = choose(source, &options.databases)?;
    let global_files: Vec<&SourceFile> = if options.globals { ["roles", "tablespaces"].iter().filter_map(|k| source.file(k)).collect() } else { Vec::new() };
    let psql = Psql::from_version(&pg.client_version("psql")?)?;
    let pg_restore = pg.client_version("pg_restore")?;

    // Everything that can be known wrong is reported before anything is restored: sizes and
    // checksums, whatever psql would run besides SQL, the target.
    let mut problems: Vec<String> = databases.iter().flat_map(|file| inspect(source, file, &psql, &pg_restore, progress)).collect();
    let mut globals = Vec::new();
    for file in global_files {
        match read_globals(source, file, &psql, progress) {
            Ok((sql, bytes)) => globals.push((file, sql, bytes)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    problems.extend(check_target(pg, &databases, options)?);
    if problems.is_empty() {
        for (file, sql, _) in &mut globals {
            match fit_globals(pg, file, sql, options, &psql) {
                Ok(fitted) => *sql = fitted,
                Err(e) => problems.push(format!("{}: {e}", file.blob)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Problems { what: format!("{} was not restored; found", source.label), problems });
    }
    if databases.iter().any(|f| f.expected.is_none()) {
        progress.note(&format!("{} has no manifest: its files' checksums cannot be checked", source.label));
    }

    let mut restored = Restored { source: source.label.clone(), databases: Vec::new(), globals: Vec::new(), bytes: 0 };
    for (file, sql, bytes) in globals {
        let mut sink = Sink::psql(pg, MAINTENANCE_DB, &psql, &file.blob).map_err(|e| e.about(&file.blob))?;
        match sink.write(sql.as_bytes()) {
            Ok(()) => sink.finish(),
            Err(e) => Err(sink.wait().err().unwrap_or(e)),
        }
        .map_err(|e| e.about(&file.blob))?;
        progress.file(&file.blob, None).done(bytes);
        job.add_bytes(bytes);
        restored.bytes += bytes;
        restored.globals.push(file.kind.clone());
    }
    for file in databases {
        let database = file.database.as_deref().expect("a database file names its database");
        let bytes = restore_database(source, file, database, pg, &psql, options, progress).map_err(|e| e.about(format!("database {database}")))?;
        job.add_bytes(bytes);
        restored.bytes += bytes;
        restored.databases.push(database.to_string());
    }
    Ok(restored)
}

/// The database files to restore: all, or those named (each must be in the source).
fn choose<'a>(source: &'a Source, names: &[String]) -> Result<Vec<&'a SourceFile>, Error> {
    let all: Vec<&SourceFile> = source.databases().collect();
    if names.is_empty() {
        return Ok(all);
    }
    let have = |name: &String| all.iter().find(|f| f.database.as_ref() == Some(name)).copied();
    names
        .iter()
        .map(|name| {
            have(name).ok_or_else(|| {
                let list: Vec<&str> = all.iter().filter_map(|f| f.database.as_deref()).collect();
                Error::Usage(format!("{} has no database \"{name}\"; it has {}", source.label, list.join(", ")))
            })
        })
        .collect()
}

/// Problems with a database file: its size and checksum where a manifest gives them, and
/// when it is plain SQL, what psql would run of it besides SQL. A custom-format archive
/// without a manifest is read no further than its first bytes.
fn inspect(source: &Source, file: &SourceFile, psql: &Psql, pg_restore: &str, progress: &Progress) -> Vec<String> {
    // Stops the read once what is to be known is known.
    const ENOUGH: &str = "(read enough)";
    let bar = progress.file(&format!("checking {}", file.blob), file.expected.as_ref().map(|e| e.0));
    let mut kind = Kind::default();
    let mut script = Script::new(psql);
    let mut out = Vec::new();
    let mut refusal: Option<Refusal> = None;
    let mut head = Vec::new();
    let read = verify::read_hashed(&source.store, &file.blob, source.ctx.cancelled(), &mut |piece| {
        bar.add(piece.len() as u64);
        let Some(bytes) = kind.take(piece) else { return Ok(()) };
        match kind {
            Kind::Archive => {
                let wanted = archive::HEADER_BYTES.saturating_sub(head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..wanted]);
                if file.expected.is_none() && head.len() == archive::HEADER_BYTES {
                    return Err(Error::Content(ENOUGH.into()));
                }
                Ok(())
            }
            _ => {
                out.clear();
                script.feed(&bytes, &mut out).map_err(|r| {
                    refusal = Some(r);
                    Error::Content(ENOUGH.into())
                })
            }
        }
    });
    let mut problems = Vec::new();
    match read {
        Ok(read) => {
            if let Some(rest) = kind.end() {
                out.clear();
                refusal = script.feed(&rest, &mut out).err();
            }
            if refusal.is_none() && matches!(kind, Kind::Sql) {
                refusal = script.finish(&mut out).err();
            }
            if let Some((bytes, sha256)) = &file.expected {
                problems.extend(verify::mismatch(&file.blob, read, (*bytes, sha256)));
            }
        }
        Err(Error::Content(e)) if e == ENOUGH => {}
        Err(e) => problems.push(e.to_string()),
    }
    problems.extend(refusal.map(|r| format!("{}: {r}", file.blob)));
    if matches!(kind, Kind::Archive) {
        problems.extend(too_new(&file.blob, &head, pg_restore));
    }
    problems
}

/// Why `pg_restore` (its --version) cannot read the archive that starts with `head`, when
/// it was written by the pg_dump of a newer major.
fn too_new(blob: &str, head: &[u8], pg_restore: &str) -> Option<String> {
    let dumped_by = archive::parse(head)?.pg_dump_version?;
    let (dump, restore) = (archive::major(&dumped_by)?, archive::major(pg_restore)?);
    (dump > restore).then(|| {
        format!(
            "{blob}: written by pg_dump {dumped_by}, and pg_restore {} cannot read archives of a newer major; \
             restore with the programs of PostgreSQL {dump} or newer (--pg-bin) into a server of {dump} or newer",
            pg_restore.split_once(") ").map_or(pg_restore, |(_, v)| v).trim()
        )
    })
}

/// A database file's first bytes, until they tell a custom-format archive (pg_dump -Fc
/// starts with "PGDMP") from plain SQL.
#[derive(Default)]
enum Kind {
    #[default]
    Unknown,
    Head(Vec<u8>),
    Archive,
    Sql,
}

impl Kind {
    /// Takes the next piece of the file; once the kind is known, the bytes to pass on (those
    /// held back first).
    fn take<'a>(&mut self, piece: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        let decide = |head: &[u8]| if head.starts_with(b"PGDMP") { Kind::Archive } else { Kind::Sql };
        match self {
            Kind::Unknown if piece.len() >= 5 => {
                *self = decide(piece);
                Some(Cow::Borrowed(piece))
            }
            Kind::Unknown => {
                *self = Kind::Head(piece.to_vec());
                None
            }
            Kind::Head(head) => {
                head.extend_from_slice(piece);
                if head.len() < 5 {
                    return None;
                }
                let head = std::mem::take(head);
                *self = decide(&head);
                Some(Cow::Owned(head))
            }
            Kind::Archive | Kind::Sql => Some(Cow::Borrowed(piece)),
        }
    }

    /// At the end of the file: what was held back, if it never was passed on (a file of
    /// under 5 bytes, which is plain SQL).
    fn end(&mut self) -> Option<Vec<u8>> {
        match std::mem::replace(self, Kind::Sql) {
            Kind::Head(head) => Some(head),
            Kind::Unknown => None,
            other => {
                *self = other;
                None
            }
        }
    }
}

/// Roles or tablespaces: read whole (checked against the manifest, if any) and checked for
/// psql meta-commands.
fn read_globals(source: &Source, file: &SourceFile, psql: &Psql, progress: &Progress) -> Result<(String, u64), Error> {
    let bar = progress.file(&format!("checking {}", file.blob), file.expected.as_ref().map(|e| e.0));
    let mut sql = Vec::new();
    let read = verify::read_hashed(&source.store, &file.blob, source.ctx.cancelled(), &mut |piece| {
        bar.add(piece.len() as u64);
        sql.extend_from_slice(piece);
        Ok(())
    })?;
    let bytes = read.0;
    if let Some(problem) = file.expected.as_ref().and_then(|(b, s)| verify::mismatch(&file.blob, read, (*b, s))) {
        return Err(Error::Content(problem));
    }
    let sql = String::from_utf8(sql).map_err(|_| Error::Content(format!("{}: is not UTF-8 text; restore it with psql by hand", file.blob)))?;
    Script::check(psql, sql.as_bytes()).map_err(|r| Error::Content(format!("{}: {r}", file.blob)))?;
    Ok((sql, bytes))
}

/// Problems with the target: it must be reachable, and each database must be absent when
/// it is to be created (unless --clean) and present when it is not.
fn check_target(pg: &Postgres, databases: &[&SourceFile], options: &RestoreOptions) -> Result<Vec<String>, Error> {
    let existing: HashSet<String> = pg.column(MAINTENANCE_DB, "SELECT datname FROM pg_database").map_err(|e| e.about("the target server"))?.into_iter().collect();
    let mut problems = Vec::new();
    for name in databases.iter().filter_map(|f| f.database.as_ref()) {
        match (options.create, existing.contains(name)) {
            (true, true) if !options.clean => problems.push(format!("database \"{name}\" exists on the target; drop it, add --clean to replace it, or restore into it without --create")),
            (false, false) => problems.push(format!("database \"{name}\" does not exist on the target; add --create to create it")),
            _ => {}
        }
    }
    Ok(problems)
}

/// Streams a file through `each`; an error if it is not what its manifest says.
fn read_checked(source: &Source, file: &SourceFile, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<u64, Error> {
    verify::read_verified(&source.store, &file.blob, file.expected.as_ref().map(|(b, s)| (*b, s.as_str())), source.ctx.cancelled(), each)
}

/// Roles or tablespaces as they are to run: what exists on the target (and on request what
/// only Azure has) left out, which comments out lines, so the result is checked again.
fn fit_globals(pg: &Postgres, file: &SourceFile, sql: &str, options: &RestoreOptions, psql: &Psql) -> Result<String, Error> {
    let sql = if file.kind == "roles" {
        let existing = pg.column(MAINTENANCE_DB, "SELECT quote_ident(rolname) FROM pg_roles")?.into_iter().collect();
        globals::roles(sql, &existing, options.drop_azure_roles)
    } else {
        let existing = pg.column(MAINTENANCE_DB, "SELECT quote_ident(spcname) FROM pg_tablespace")?.into_iter().collect();
        globals::tablespaces(sql, &existing)
    };
    Script::check(psql, sql.as_bytes()).map_err(|r| Error::Content(format!("with what exists on the target left out, {r}")))?;
    Ok(sql)
}

/// Where a file's bytes go: pg_restore as they are, or psql as psql_script lets them through.
struct Sink {
    program: Running,
    /// For psql: the check, the file's name, and what the check passes on.
    script: Option<(Script, String, Vec<u8>)>,
    /// psql's first file (`\restrict <key>`), kept until psql ends.
    _prologue: Option<tempfile::NamedTempFile>,
}

impl Sink {
    /// psql in `database`: no psqlrc, stopping at the first error, starting as UTF-8 (the
    /// files say their encoding; pg_dump's do), restricted first where it has `\restrict`.
    fn psql(pg: &Postgres, database: &str, psql: &Psql, name: &str) -> Result<Sink, Error> {
        let mut command = pg.command_on("psql", database)?;
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]).env("PGCLIENTENCODING", "UTF8");
        let prologue = match psql.prologue() {
            Some(text) => {
                let unwritten = |e| Error::io("cannot write psql's first line", e);
                let mut file = tempfile::Builder::new().prefix("pgvault-psql-").tempfile().map_err(unwritten)?;
                file.write_all(text.as_bytes()).and_then(|_| file.flush()).map_err(unwritten)?;
                command.arg("-f").arg(file.path()).args(["-f", "-"]);
                Some(file)
            }
            None => None,
        };
        let program = Running::start(command, Stdio::piped(), Stdio::null())?;
        Ok(Sink { program, script: Some((Script::new(psql), name.to_string(), Vec::new())), _prologue: prologue })
    }

    fn archive(pg: &Postgres, database: &str, options: &RestoreOptions, file: Option<&Path>) -> Result<Sink, Error> {
        let stdin = if file.is_some() { Stdio::null() } else { Stdio::piped() };
        Ok(Sink { program: Running::start(restore_command(pg, database, options, file)?, stdin, Stdio::null())?, script: None, _prologue: None })
    }

    fn write(&mut self, piece: &[u8]) -> Result<(), Error> {
        let bytes = match &mut self.script {
            None => piece,
            Some((script, name, out)) => {
                out.clear();
                script.feed(piece, out).map_err(|r| changed(name, r))?;
                out.as_slice()
            }
        };
        self.program.write(bytes)
    }

    /// The end of the input: waits for the program.
    fn finish(mut self) -> Result<(), Error> {
        if let Some((script, name, out)) = &mut self.script {
            out.clear();
            if let Err(r) = script.finish(out) {
                let e = changed(name, r);
                self.program.kill();
                return Err(e);
            }
            if let Err(e) = self.program.write(out) {
                return Err(self.program.finish().err().unwrap_or(e));
            }
        }
        self.program.finish()
    }

    /// Waits for a program that stopped reading: its own error says more than a broken pipe.
    fn wait(self) -> Result<(), Error> {
        self.program.finish()
    }

    /// Stops the program after a failure on this side.
    fn kill(self) {
        self.program.kill();
    }
}

fn changed(name: &str, refusal: Refusal) -> Error {
    Error::Content(format!("{name} changed after it was checked, and psql was stopped before its {refusal}"))
}

/// One database: streamed into pg_restore (or psql), or spooled first for a parallel restore.
fn restore_database(source: &Source, file: &SourceFile, database: &str, pg: &Postgres, psql: &Psql, options: &RestoreOptions, progress: &Progress) -> Result<u64, Error> {
    let bar = progress.file(&format!("{database} <- {}", file.blob), file.expected.as_ref().map(|e| e.0));
    let bytes = if options.jobs > 1 {
        let dir = options.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
        let spool = tempfile::Builder::new().prefix("pgvault-restore-").tempfile_in(&dir).map_err(|e| Error::io(format!("cannot spool into {}", dir.display()), e))?;
        let mut out = BufWriter::with_capacity(1 << 20, spool.as_file());
        let bytes = read_checked(source, file, &mut |piece| {
            bar.add(piece.len() as u64);
            out.write_all(piece).map_err(|source| Error::Spool { dir: dir.clone(), source })
        })?;
        out.flush().map_err(|e| Error::io(format!("spooling into {}", dir.display()), e))?;
        drop(out);
        let custom = is_custom_archive(spool.path())?;
        prepare_target(pg, database, custom, options)?;
        if custom {
            Sink::archive(pg, database, options, Some(spool.path()))?.program.finish()?;
        } else {
            let mut sink = Sink::psql(pg, database, psql, &file.blob)?;
            let unread = |e| Error::io(spool.path().display().to_string(), e);
            let mut spooled = std::fs::File::open(spool.path()).map_err(unread)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = spooled.read(&mut buf).map_err(unread);
                match n.and_then(|n| if n == 0 { Ok(0) } else { sink.write(&buf[..n]).map(|_| n) }) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e @ Error::StoppedReading { .. }) => return Err(sink.wait().err().unwrap_or(e)),
                    Err(e) => {
                        sink.kill();
                        return Err(e);
                    }
                }
            }
            sink.finish()?;
        }
        bytes
    } else {
        let mut kind = Kind::default();
        let mut sink: Option<Sink> = None;
        let start = |custom: bool| -> Result<Sink, Error> {
            prepare_target(pg, database, custom, options)?;
            if custom {
                Sink::archive(pg, database, options, None)
            } else {
                Sink::psql(pg, database, psql, &file.blob)
            }
        };
        let streamed = read_checked(source, file, &mut |piece| {
            bar.add(piece.len() as u64);
            let Some(bytes) = kind.take(piece) else { return Ok(()) };
            if sink.is_none() {
                sink = Some(start(matches!(kind, Kind::Archive))?);
            }
            sink.as_mut().expect("started").write(&bytes)
        });
        // A file of under 5 bytes is held back to its end.
        let streamed = match (streamed, kind.end()) {
            (Ok(bytes), Some(rest)) if !rest.is_empty() => start(false).and_then(|mut s| {
                let written = s.write(&rest);
                sink = Some(s);
                written.map(|_| bytes)
            }),
            (streamed, _) => streamed,
        };
        match (streamed, sink) {
            (Ok(bytes), Some(sink)) => sink.finish().map(|_| bytes)?,
            (Ok(_), None) => return Err(Error::Content(format!("{} is empty", file.blob))),
            // The program's own error says more than a broken pipe.
            (Err(e @ Error::StoppedReading { .. }), Some(sink)) => return Err(sink.wait().err().unwrap_or(e)),
            (Err(e), Some(sink)) => {
                sink.kill();
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        }
    };
    bar.done(bytes);
    Ok(bytes)
}

fn is_custom_archive(path: &Path) -> Result<bool, Error> {
    let mut magic = [0u8; 5];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| Error::io(path.display().to_string(), e))?;
    Ok(n == 5 && &magic == b"PGDMP")
}

/// A plain SQL file does not create its database: with --create it is made here (dropped
/// first with --clean) before psql runs the file. pg_restore does this itself.
fn prepare_target(pg: &Postgres, database: &str, custom: bool, options: &RestoreOptions) -> Result<(), Error> {
    if custom || !options.create {
        return Ok(());
    }
    if options.clean {
        pg.query(MAINTENANCE_DB, &format!("DROP DATABASE IF EXISTS {}", quote_ident(database)))?;
    }
    pg.query(MAINTENANCE_DB, &format!("CREATE DATABASE {}", quote_ident(database)))?;
    Ok(())
}

/// pg_restore for a custom-format archive, reading `file`, or standard input when there is none.
fn restore_command(pg: &Postgres, database: &str, options: &RestoreOptions, file: Option<&Path>) -> Result<Command, Error> {
    // With --create pg_restore connects elsewhere and creates the database itself; it
    // cannot drop the database it is connected to.
    let connect = match (options.create, database) {
        (false, _) => database,
        (true, MAINTENANCE_DB) => "template1",
        (true, _) => MAINTENANCE_DB,
    };
    let mut command = pg.command_on("pg_restore", connect)?;
    command.arg("--exit-on-error");
    if options.create {
        command.arg("--create");
    }
    if options.clean {
        command.args(["--clean", "--if-exists"]);
    }
    if options.no_owner {
        command.arg("--no-owner");
    }
    if options.no_privileges {
        command.arg("--no-privileges");
    }
    if let Some(path) = file {
        command.arg(format!("--jobs={}", options.jobs)).arg(path);
    }
    Ok(command)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `pgvault restore`: a point of a vault (`--vault`, `--point`), or files Azure Backup
/// restored (`--from`), into a server.
pub fn command(cli: &Cli, (vault, point, from): (Option<&str>, Option<&str>, Option<&str>), pg: &Postgres, options: &RestoreOptions) -> Result<Restored, Error> {
    match (vault, point, from) {
        (Some(vault), Some(point), None) => from_point(cli, vault, point, pg, options),
        (None, None, Some(from)) => from_files(cli, from, pg, options),
        _ => Err(Error::Usage("give --vault with --point, or --from".into())),
    }
}

fn from_point(cli: &Cli, vault: &str, point: &str, pg: &Postgres, options: &RestoreOptions) -> Result<Restored, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let (server, point) = verify::find_point(&ctx, point)?;
    let source = source::from_point(ctx, &server, &point)?;
    let progress = Progress::new(cli.json);
    as_job(&source.ctx, "restore", None, &progress, |job| {
        job.set_point(&server, &point);
        run(&source, pg, options, &progress, job)
    })
}

fn from_files(cli: &Cli, from: &str, pg: &Postgres, options: &RestoreOptions) -> Result<Restored, Error> {
    let (ctx, prefix) = super::open_with_prefix(cli, "--from", from)?;
    let source = source::from_files(ctx, &prefix)?;
    let progress = Progress::new(cli.json);
    // Files restored as files are not a vault: the job is not recorded there.
    run(&source, pg, options, &progress, &Job::unrecorded("restore"))
}
