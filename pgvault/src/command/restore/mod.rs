//! `pgvault restore`: databases back into a server with pg_restore, and on request the
//! roles and tablespaces with psql.
//!
//! A point is read once: each dump streams from the vault (decrypted, when the point is
//! encrypted) into pg_restore, hashed on the way, and the end of each file is held back
//! until its size and SHA-256 match the manifest, so pg_restore cannot finish on bytes that
//! are not the point's. What a failed restore did is undone: the databases it created are
//! dropped, and a restore into an existing database runs in one transaction (pg_restore
//! --single-transaction, psql -1), as do the roles and tablespaces it created. Before
//! anything changes, the start of each dump is read (its kind, the pg_dump that wrote it,
//! whether the identity decrypts it) and the roles, tablespaces and target are checked;
//! `--check-first` reads every file whole first, as a second read. With more than one job a
//! dump is spooled into a temporary file and checked before pg_restore starts, since
//! pg_restore can only work in parallel on a file it can seek in. A database file that is not a custom-format archive (no `PGDMP`
//! magic) is plain SQL and goes to psql, as the roles and tablespaces do: before anything is
//! restored, each file that goes to psql is read for psql meta-commands (psql_script), and
//! read again as it streams into psql.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod archive;
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

#[derive(Default)]
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
    /// The age identity file that decrypts an encrypted point.
    pub identity: Option<PathBuf>,
    /// Read every file whole and check it before restoring anything.
    pub check_first: bool,
    /// Restore each database D into the database named this prefix and D (a drill into a
    /// server of the user's).
    pub prefix: String,
    /// pg_restore --no-tablespaces: every object in the target database's default.
    pub no_tablespaces: bool,
    /// Create the tablespaces in the server's own directory (LOCATION '', which a scratch
    /// server allows) instead of where they were.
    pub in_place_tablespaces: bool,
}

impl RestoreOptions {
    /// The database on the target that the point's database `name` is restored into.
    pub fn target(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
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
    source.check_key(databases.iter().chain(&global_files).copied())?;
    let psql = Psql::from_version(&pg.client_version("psql")?)?;
    let pg_restore = pg.client_version("pg_restore")?;

    // Everything that can be known wrong without reading the dumps whole is reported before
    // anything is restored: whether they decrypt, which pg_dump wrote them, the roles and
    // tablespaces (read whole), the target. --check-first reads the dumps whole too.
    let mut problems: Vec<String> = databases.iter().flat_map(|file| inspect(source, file, &psql, &pg_restore, options.check_first, progress)).collect();
    let mut globals = Vec::new();
    for file in global_files {
        match read_globals(source, file, &psql, progress) {
            Ok((sql, bytes)) => globals.push((file, sql, bytes)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let before = Before::take(pg)?;
    problems.extend(check_target(&before, &databases, options));
    if problems.is_empty() {
        for (file, sql, _) in &mut globals {
            match fit_globals(&before, file, sql, options, &psql) {
                Ok(fitted) => *sql = fitted,
                Err(e) => problems.push(format!("{}: {e}", file.blob)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Problems { what: format!("{} was not restored; found", source.label), problems });
    }
    if databases.iter().any(|f| f.stored.is_none()) {
        progress.note(&format!("{} has no manifest: its files' checksums cannot be checked", source.label));
    }
    for name in databases.iter().filter_map(|f| f.database.as_deref()).map(|d| options.target(d)).filter(|d| before.databases.contains(d)) {
        if options.create && options.clean {
            progress.note(&format!("database \"{name}\" exists and --clean replaces it: if the restore fails, it is not brought back"));
        } else if options.jobs > 1 {
            progress.note(&format!("database \"{name}\" exists: with -j above 1, pg_restore cannot restore into it in one transaction, and a failure leaves what it restored"));
        }
    }

    let mut restored = Restored { source: source.label.clone(), databases: Vec::new(), globals: Vec::new(), bytes: 0 };
    let mut started = Vec::new();
    let outcome = (|| -> Result<(), Error> {
        for (file, sql, bytes) in globals {
            let mut sink = Sink::psql(pg, MAINTENANCE_DB, &psql, &file.blob, false).map_err(|e| e.about(&file.blob))?;
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
        for file in &databases {
            let database = &options.target(file.database.as_deref().expect("a database file names its database"));
            started.push(database.to_string());
            let bytes = restore_database(source, file, database, pg, &psql, options, progress).map_err(|e| e.about(format!("database {database}")))?;
            job.add_bytes(bytes);
            restored.bytes += bytes;
            restored.databases.push(database.to_string());
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(restored),
        Err(e) => Err(before.undo(pg, (&started, &restored.databases), options, e)),
    }
}

/// What exists on the target before a restore changes it, so that a failed restore can take
/// away what it made.
struct Before {
    databases: HashSet<String>,
    /// Names as quote_ident gives them, as the roles and tablespaces files name them.
    roles: HashSet<String>,
    tablespaces: HashSet<String>,
    /// Whether DROP DATABASE takes WITH (FORCE) (PostgreSQL 13 and later).
    force: bool,
}

impl Before {
    fn take(pg: &Postgres) -> Result<Before, Error> {
        let set = |sql: &str| -> Result<HashSet<String>, Error> { Ok(pg.column(MAINTENANCE_DB, sql).map_err(|e| e.about("the target server"))?.into_iter().collect()) };
        let version = pg.column(MAINTENANCE_DB, "SHOW server_version_num").map_err(|e| e.about("the target server"))?;
        Ok(Before {
            databases: set("SELECT datname FROM pg_database")?,
            roles: set("SELECT quote_ident(rolname) FROM pg_roles")?,
            tablespaces: set("SELECT quote_ident(spcname) FROM pg_tablespace")?,
            force: version.first().and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| v >= 130000),
        })
    }

    /// After `cause` stopped a restore that had started on the databases `started` and
    /// finished those of `finished`: drops the databases, tablespaces and roles it made, and
    /// says what it undid and what it could not.
    fn undo(&self, pg: &Postgres, (started, finished): (&[String], &[String]), options: &RestoreOptions, cause: Error) -> Error {
        let mut undone = Vec::new();
        let mut left = Vec::new();
        // What to drop, in order: databases, then tablespaces, then roles (which may own them).
        let mut drops: Vec<(String, String)> = Vec::new();
        let now = match Before::take(pg) {
            Ok(now) => now,
            Err(e) => return Error::Undone { source: Box::new(cause), undone, left: vec![format!("the target could not be read to undo the restore: {e}")] },
        };
        let force = if self.force { " WITH (FORCE)" } else { "" };
        // Every database that is new: those the restore started, and any other a dump
        // created (an archive's CREATE DATABASE names its own database, which a vault
        // writer chooses).
        let mut new: Vec<&String> = now.databases.difference(&self.databases).collect();
        new.sort();
        for name in new {
            drops.push((format!("database \"{name}\" dropped"), format!("DROP DATABASE {}{force}", quote_ident(name))));
        }
        for name in started.iter().filter(|name| self.databases.contains(*name)) {
            let finished = finished.contains(name);
            if finished {
                left.push(format!("database \"{name}\" was restored into before the failure and stays so"));
            } else if options.create && options.clean {
                left.push(format!("database \"{name}\" was replaced (--clean) and is incomplete"));
            } else if options.jobs > 1 {
                left.push(format!("database \"{name}\" keeps what pg_restore restored before it stopped (-j above 1 cannot use one transaction)"));
            }
        }
        for name in now.tablespaces.difference(&self.tablespaces) {
            drops.push((format!("tablespace {name} dropped"), format!("DROP TABLESPACE {name}")));
        }
        for name in now.roles.difference(&self.roles) {
            drops.push((format!("role {name} dropped"), format!("DROP ROLE {name}")));
        }
        for (what, sql) in drops {
            match pg.query(MAINTENANCE_DB, &sql) {
                Ok(_) => undone.push(what),
                Err(e) => left.push(format!("{what}: {e}")),
            }
        }
        if undone.is_empty() && left.is_empty() {
            return cause;
        }
        Error::Undone { source: Box::new(cause), undone, left }
    }
}

/// The database files to restore: all, or those named (each must be in the source).
pub fn choose<'a>(source: &'a Source, names: &[String]) -> Result<Vec<&'a SourceFile>, Error> {
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

/// What a reader returns to stop a read once what is to be known is known.
pub const ENOUGH: &str = "(read enough)";

/// Problems with a database file found from its start: whether it decrypts, and for an
/// archive, whether this pg_restore can read it. With `whole`, the whole file is read: its
/// size and checksum where a manifest gives them, and when it is plain SQL, what psql would
/// run of it besides SQL (without `whole`, checked as it streams into psql).
fn inspect(source: &Source, file: &SourceFile, psql: &Psql, pg_restore: &str, whole: bool, progress: &Progress) -> Vec<String> {
    let bar = progress.file(&format!("checking {}", file.blob), file.plain.as_ref().filter(|_| whole).map(|e| e.bytes));
    let mut kind = Kind::default();
    let mut script = Script::new(psql);
    let mut out = Vec::new();
    let mut refusal: Option<Refusal> = None;
    let mut head = Vec::new();
    let read = verify::read(&source.store, file, source.key.as_ref(), source.ctx.cancelled(), &mut |piece| {
        bar.add(piece.len() as u64);
        let Some(bytes) = kind.take(piece) else { return Ok(()) };
        match kind {
            Kind::Archive => {
                let wanted = archive::HEADER_BYTES.saturating_sub(head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..wanted]);
                // Without a manifest there is nothing to check past the header.
                if !(whole && file.stored.is_some()) && head.len() == archive::HEADER_BYTES {
                    return Err(Error::Content(ENOUGH.into()));
                }
                Ok(())
            }
            _ if !whole => Err(Error::Content(ENOUGH.into())),
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
            problems.extend(read.problems(file));
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
pub enum Kind {
    #[default]
    Unknown,
    Head(Vec<u8>),
    Archive,
    Sql,
}

impl Kind {
    /// Takes the next piece of the file; once the kind is known, the bytes to pass on (those
    /// held back first).
    pub fn take<'a>(&mut self, piece: &'a [u8]) -> Option<Cow<'a, [u8]>> {
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
    pub fn end(&mut self) -> Option<Vec<u8>> {
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
    let bar = progress.file(&format!("checking {}", file.blob), file.plain.as_ref().map(|e| e.bytes));
    let mut sql = Vec::new();
    let bytes = read_checked(source, file, &mut |piece| {
        bar.add(piece.len() as u64);
        sql.extend_from_slice(piece);
        Ok(())
    })?;
    let sql = String::from_utf8(sql).map_err(|_| Error::Content(format!("{}: is not UTF-8 text; restore it with psql by hand", file.blob)))?;
    Script::check(psql, sql.as_bytes()).map_err(|r| Error::Content(format!("{}: {r}", file.blob)))?;
    Ok((sql, bytes))
}

/// Problems with the target: each database must be absent when it is to be created (unless
/// --clean) and present when it is not.
fn check_target(before: &Before, databases: &[&SourceFile], options: &RestoreOptions) -> Vec<String> {
    let mut problems = Vec::new();
    for name in databases.iter().filter_map(|f| f.database.as_deref()).map(|d| options.target(d)) {
        match (options.create, before.databases.contains(&name)) {
            (true, true) if !options.clean => problems.push(format!("database \"{name}\" exists on the target; drop it, add --clean to replace it, or restore into it without --create")),
            (false, false) => problems.push(format!("database \"{name}\" does not exist on the target; add --create to create it")),
            _ => {}
        }
    }
    problems
}

/// Streams a file's plain bytes through `each`; an error if it is not what its manifest
/// says, once `each` has seen them all.
fn read_checked(source: &Source, file: &SourceFile, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<u64, Error> {
    verify::read_verified(&source.store, file, source.key.as_ref(), source.ctx.cancelled(), each)
}

/// Roles or tablespaces as they are to run: what exists on the target (and on request what
/// only Azure has) left out, which comments out lines, so the result is checked again.
fn fit_globals(before: &Before, file: &SourceFile, sql: &str, options: &RestoreOptions, psql: &Psql) -> Result<String, Error> {
    let sql = if file.kind == "roles" { globals::roles(sql, &before.roles, options.drop_azure_roles) } else { globals::tablespaces(sql, &before.tablespaces, options.in_place_tablespaces) };
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
    /// files say their encoding; pg_dump's do), restricted first where it has `\restrict`;
    /// with `single`, in one transaction.
    fn psql(pg: &Postgres, database: &str, psql: &Psql, name: &str, single: bool) -> Result<Sink, Error> {
        let mut command = pg.command_on("psql", database)?;
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]).env("PGCLIENTENCODING", "UTF8");
        if single {
            command.arg("--single-transaction");
        }
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
    let bar = progress.file(&format!("{database} <- {}", file.blob), file.plain.as_ref().map(|e| e.bytes));
    // Into an existing database, in one transaction, so that a failure leaves it as it was.
    let single = !options.create;
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
            let mut sink = Sink::psql(pg, database, psql, &file.blob, single)?;
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
        // The last piece read, held back until the next one comes or the whole file is
        // known to be what the manifest says: pg_restore (or psql) cannot finish, or
        // commit, on a file that is not the point's.
        let mut held: Vec<u8> = Vec::with_capacity(1 << 20);
        let start = |custom: bool| -> Result<Sink, Error> {
            prepare_target(pg, database, custom, options)?;
            if custom {
                Sink::archive(pg, database, options, None)
            } else {
                Sink::psql(pg, database, psql, &file.blob, single)
            }
        };
        let pass = |sink: &mut Option<Sink>, kind: &Kind, bytes: &[u8], held: &mut Vec<u8>| -> Result<(), Error> {
            if sink.is_none() {
                *sink = Some(start(matches!(kind, Kind::Archive))?);
            }
            let sink = sink.as_mut().expect("started");
            if !held.is_empty() {
                sink.write(held)?;
                held.clear();
            }
            held.extend_from_slice(bytes);
            Ok(())
        };
        let streamed = read_checked(source, file, &mut |piece| {
            bar.add(piece.len() as u64);
            match kind.take(piece) {
                Some(bytes) => pass(&mut sink, &kind, &bytes, &mut held),
                None => Ok(()),
            }
        });
        let streamed = streamed.and_then(|bytes| {
            // A file of under 5 bytes is held back by Kind to its end: plain SQL.
            match kind.end() {
                Some(rest) if !rest.is_empty() => pass(&mut sink, &kind, &rest, &mut held).map(|_| bytes),
                _ => Ok(bytes),
            }
        });
        // The file is what the manifest says: the end goes too.
        let streamed = streamed.and_then(|bytes| match sink.as_mut() {
            Some(s) => s.write(&held).map(|_| bytes),
            None => Ok(bytes),
        });
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
    } else if file.is_none() {
        // Streamed into an existing database: one transaction, so that a failure (or a file
        // found altered at its end) leaves it as it was.
        command.arg("--single-transaction");
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
    if options.no_tablespaces {
        command.arg("--no-tablespaces");
    }
    if let Some(path) = file {
        command.arg(format!("--jobs={}", options.jobs)).arg(path);
    }
    Ok(command)
}

/// `name` as an SQL identifier, always quoted.
pub fn quote_ident(name: &str) -> String {
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
    let key = super::identity(cli, options.identity.as_deref())?;
    let source = source::from_point(ctx, &server, &point, key)?;
    let progress = Progress::new(cli.json);
    as_job(&source.ctx, "restore", None, &progress, |job| {
        job.set_point(&server, &point);
        run(&source, pg, options, &progress, job)
    })
}

fn from_files(cli: &Cli, from: &str, pg: &Postgres, options: &RestoreOptions) -> Result<Restored, Error> {
    let (ctx, prefix) = super::open_with_prefix(cli, "--from", from)?;
    let key = super::identity(cli, options.identity.as_deref())?;
    let source = source::from_files(ctx, &prefix, key)?;
    let progress = Progress::new(cli.json);
    // Files restored as files are not a vault: the job is not recorded there.
    run(&source, pg, options, &progress, &Job::unrecorded("restore"))
}
