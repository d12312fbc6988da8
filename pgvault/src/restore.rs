//! `pgvault restore`: databases back into a server with pg_restore, and on request the
//! roles and tablespaces with psql.
//!
//! Every file needed is checked against its manifest (size and SHA-256) before anything is
//! restored, so an altered point is refused whole; files are checked again as they are
//! read. With `-j 1` a dump streams from the vault into pg_restore; with more jobs it is
//! spooled into a temporary file first, since pg_restore can only work in parallel on a
//! file it can seek in. A database file that is not a custom-format archive (no `PGDMP`
//! magic) is plain SQL and goes to psql.

use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::globals;
use crate::jobs::Job;
use crate::postgres::{Postgres, Running, MAINTENANCE_DB};
use crate::progress::Progress;
use crate::restore_source::{Source, SourceFile};
use crate::validate;

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

pub fn run(source: &Source, pg: &Postgres, options: &RestoreOptions, progress: &Progress, job: &Job, cancelled: &dyn Fn() -> bool) -> Result<Restored, String> {
    let databases = choose(source, &options.databases)?;
    let globals: Vec<&SourceFile> = if options.globals { ["roles", "tablespaces"].iter().filter_map(|k| source.file(k)).collect() } else { Vec::new() };

    // Everything that can be known wrong is reported before anything is restored.
    let mut problems = verify(source, databases.iter().chain(&globals).copied(), progress, cancelled);
    problems.extend(check_target(pg, &databases, options)?);
    if !problems.is_empty() {
        return Err(format!("{} was not restored; found:\n  {}", source.label, problems.join("\n  ")));
    }
    if databases.iter().any(|f| f.expected.is_none()) {
        progress.note(&format!("{} has no manifest: its files' checksums cannot be checked", source.label));
    }

    let mut restored = Restored { source: source.label.clone(), databases: Vec::new(), globals: Vec::new(), bytes: 0 };
    for file in globals {
        let bytes = restore_globals(source, file, pg, options, progress, cancelled).map_err(|e| format!("{}: {e}", file.blob))?;
        job.add_bytes(bytes);
        restored.bytes += bytes;
        restored.globals.push(file.kind.clone());
    }
    for file in databases {
        let database = file.database.as_deref().expect("a database file names its database");
        let bytes = restore_database(source, file, database, pg, options, progress, cancelled).map_err(|e| format!("database {database}: {e}"))?;
        job.add_bytes(bytes);
        restored.bytes += bytes;
        restored.databases.push(database.to_string());
    }
    Ok(restored)
}

/// The database files to restore: all, or those named (each must be in the source).
fn choose<'a>(source: &'a Source, names: &[String]) -> Result<Vec<&'a SourceFile>, String> {
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
                format!("{} has no database \"{name}\"; it has {}", source.label, list.join(", "))
            })
        })
        .collect()
}

/// Problems with the files' sizes and checksums, where the source has a manifest.
fn verify<'a>(source: &Source, files: impl Iterator<Item = &'a SourceFile>, progress: &Progress, cancelled: &dyn Fn() -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    for file in files {
        let Some((bytes, sha256)) = &file.expected else { continue };
        let bar = progress.file(&format!("checking {}", file.blob), Some(*bytes));
        problems.extend(validate::check_file(&source.store, &file.blob, (*bytes, sha256), cancelled, &|n| bar.add(n)));
    }
    problems
}

/// Problems with the target: it must be reachable, and each database must be absent when
/// it is to be created (unless --clean) and present when it is not.
fn check_target(pg: &Postgres, databases: &[&SourceFile], options: &RestoreOptions) -> Result<Vec<String>, String> {
    let existing: HashSet<String> = pg.column(MAINTENANCE_DB, "SELECT datname FROM pg_database").map_err(|e| format!("the target server: {e}"))?.into_iter().collect();
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
fn read_checked(source: &Source, file: &SourceFile, cancelled: &dyn Fn() -> bool, each: &mut dyn FnMut(&[u8]) -> Result<(), String>) -> Result<u64, String> {
    validate::read_verified(&source.store, &file.blob, file.expected.as_ref().map(|(b, s)| (*b, s.as_str())), cancelled, each)
}

/// Roles or tablespaces, with what exists on the target (and on request what only Azure
/// has) left out, run by psql in the maintenance database.
fn restore_globals(source: &Source, file: &SourceFile, pg: &Postgres, options: &RestoreOptions, progress: &Progress, cancelled: &dyn Fn() -> bool) -> Result<u64, String> {
    let mut sql = Vec::new();
    let bytes = read_checked(source, file, cancelled, &mut |piece| {
        sql.extend_from_slice(piece);
        Ok(())
    })?;
    let sql = String::from_utf8(sql).map_err(|_| "is not UTF-8 text; restore it with psql by hand".to_string())?;
    let sql = if file.kind == "roles" {
        let existing = pg.column(MAINTENANCE_DB, "SELECT quote_ident(rolname) FROM pg_roles")?.into_iter().collect();
        globals::roles(&sql, &existing, options.drop_azure_roles)
    } else {
        let existing = pg.column(MAINTENANCE_DB, "SELECT quote_ident(spcname) FROM pg_tablespace")?.into_iter().collect();
        globals::tablespaces(&sql, &existing)
    };
    let mut psql = Running::start(psql(pg, MAINTENANCE_DB)?, Stdio::piped(), Stdio::null())?;
    let written = psql.child.stdin.as_mut().expect("piped").write_all(sql.as_bytes());
    psql.finish().and(written.map_err(|e| format!("psql: {e}")))?;
    progress.file(&file.blob, None).done(bytes);
    Ok(bytes)
}

fn psql(pg: &Postgres, database: &str) -> Result<Command, String> {
    let mut command = pg.command_on("psql", database)?;
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    Ok(command)
}

/// One database: streamed into pg_restore (or psql), or spooled first for a parallel restore.
fn restore_database(source: &Source, file: &SourceFile, database: &str, pg: &Postgres, options: &RestoreOptions, progress: &Progress, cancelled: &dyn Fn() -> bool) -> Result<u64, String> {
    let bar = progress.file(&format!("{database} <- {}", file.blob), file.expected.as_ref().map(|e| e.0));
    let bytes = if options.jobs > 1 {
        let dir = options.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
        let spool = tempfile::Builder::new().prefix("pgvault-restore-").tempfile_in(&dir).map_err(|e| format!("cannot spool into {}: {e}", dir.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, spool.as_file());
        let bytes = read_checked(source, file, cancelled, &mut |piece| {
            bar.add(piece.len() as u64);
            out.write_all(piece).map_err(|e| format!("spooling into {}: {e} (--spool-dir names a place with room)", dir.display()))
        })?;
        out.flush().map_err(|e| format!("spooling into {}: {e}", dir.display()))?;
        drop(out);
        let custom = is_custom_archive(spool.path())?;
        prepare_target(pg, database, custom, options)?;
        let command = restore_command(pg, database, custom, options, Some(spool.path()))?;
        Running::start(command, Stdio::null(), Stdio::null())?.finish()?;
        bytes
    } else {
        let mut running: Option<Running> = None;
        let streamed = read_checked(source, file, cancelled, &mut |piece| {
            if running.is_none() {
                let custom = piece.starts_with(b"PGDMP");
                prepare_target(pg, database, custom, options)?;
                let command = restore_command(pg, database, custom, options, None)?;
                running = Some(Running::start(command, Stdio::piped(), Stdio::null())?);
            }
            let program = running.as_mut().expect("started");
            program.child.stdin.as_mut().expect("piped").write_all(piece).map_err(|e| format!("{} stopped reading: {e}", program.program()))
        });
        match (streamed, running) {
            (Ok(bytes), Some(program)) => program.finish().map(|_| bytes)?,
            (Ok(_), None) => return Err(format!("{} is empty", file.blob)),
            // The program's own error says more than a broken pipe.
            (Err(e), Some(program)) if e.contains("stopped reading") => return Err(program.finish().err().unwrap_or(e)),
            (Err(e), Some(program)) => {
                program.kill();
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        }
    };
    bar.done(bytes);
    Ok(bytes)
}

fn is_custom_archive(path: &Path) -> Result<bool, String> {
    let mut magic = [0u8; 5];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(n == 5 && &magic == b"PGDMP")
}

/// pg_restore for a custom-format archive, psql for plain SQL; reading `file`, or standard
/// input when there is none. For plain SQL with --create, the database is created here
/// (pg_restore does that itself for an archive).
/// A plain SQL file does not create its database: with --create it is made here (dropped
/// first with --clean) before psql runs the file. pg_restore does this itself.
fn prepare_target(pg: &Postgres, database: &str, custom: bool, options: &RestoreOptions) -> Result<(), String> {
    if custom || !options.create {
        return Ok(());
    }
    if options.clean {
        pg.query(MAINTENANCE_DB, &format!("DROP DATABASE IF EXISTS {}", quote_ident(database)))?;
    }
    pg.query(MAINTENANCE_DB, &format!("CREATE DATABASE {}", quote_ident(database)))?;
    Ok(())
}

fn restore_command(pg: &Postgres, database: &str, custom: bool, options: &RestoreOptions, file: Option<&Path>) -> Result<Command, String> {
    if !custom {
        let mut command = psql(pg, database)?;
        if let Some(path) = file {
            command.arg("-f").arg(path);
        }
        return Ok(command);
    }
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
