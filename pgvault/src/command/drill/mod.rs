//! `pgvault drill`: proves that a restore point restores. Its databases are restored, roles
//! and tablespaces first, into a scratch PostgreSQL that pgvault starts and removes
//! (scratch.rs), or into a server the user gives (each database D as `pgvault_drill_D`,
//! dropped afterwards); then each database is checked: pg_restore exited 0, every table of
//! the dump's table of contents exists, and every table has the rows counted in the dump's
//! own snapshot at backup time (the manifest's `tables`). A verdict per database; the job
//! is recorded as failed when any database fails.

mod scratch;

use std::collections::HashSet;
use std::io::Read;
use std::process::Stdio;

use serde::Serialize;

use super::as_judged_job;
use super::restore::source::{self, Source, SourceFile};
use super::restore::{self, quote_ident, Kind, RestoreOptions, ENOUGH};
use crate::cli::Cli;
use crate::error::Error;
use crate::postgres::{Postgres, Running, MAINTENANCE_DB};
use crate::progress::Progress;
use crate::report::Report;
use crate::vault::jobs::Job;
use crate::vault::points::{self, TableRows};
use crate::vault::verify;

/// Which point to drill.
pub enum Which {
    /// `<server>/<point>`, or `<point>` when one server has it.
    Point(String),
    /// The newest complete point of this server.
    Newest(String),
}

/// Databases restored into a server of the user's are named this and their name.
pub const TARGET_PREFIX: &str = "pgvault_drill_";

#[derive(Serialize)]
pub struct Drill {
    server: String,
    point: String,
    /// What it was restored into.
    target: String,
    passed: bool,
    databases: Vec<Verdict>,
}

#[derive(Serialize)]
pub struct Verdict {
    database: String,
    passed: bool,
    /// Tables checked, and their rows.
    tables: usize,
    rows: u64,
    problems: Vec<String>,
    /// What was not checked (no row counts recorded, a dump in plain SQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

impl Report for Drill {
    fn text(&self) -> String {
        let mut out = format!("drill of {}/{} into {}:\n", self.server, self.point, self.target);
        for v in &self.databases {
            let verdict = if v.passed { "ok" } else { "FAILED" };
            out.push_str(&format!("  {}: {verdict} ({} tables, {} rows)\n", v.database, v.tables, v.rows));
            for line in v.problems.iter().chain(&v.notes) {
                out.push_str(&format!("    {line}\n"));
            }
        }
        out.push_str(if self.passed { "the point restores as it was backed up\n" } else { "the point does NOT restore as it was backed up\n" });
        out
    }

    fn outcome(&self) -> Result<(), Error> {
        let failed: Vec<&str> = self.databases.iter().filter(|v| !v.passed).map(|v| v.database.as_str()).collect();
        if failed.is_empty() {
            return Ok(());
        }
        Err(Error::Content(format!("{}/{}: the drill failed for database(s) {}", self.server, self.point, failed.join(", "))))
    }
}

pub fn command(cli: &Cli, vault: &str, which: &Which, databases: &[String], target_db: Option<&str>, identity: Option<&std::path::Path>) -> Result<Drill, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let (server, point) = match which {
        Which::Point(point) => verify::find_point(&ctx, point)?,
        Which::Newest(server) => {
            points::validate_server(server)?;
            let newest = points::list(&ctx, Some(server), None, None)?.into_iter().next();
            let newest = newest.ok_or_else(|| Error::Usage(format!("vault {} has no complete restore point of server \"{server}\"", ctx.name())))?;
            (newest.server, newest.point)
        }
    };
    let key = super::identity(cli, identity)?;
    let source = source::from_point(ctx, &server, &point, key)?;
    let files = restore::choose(&source, databases)?;
    source.check_key(files.iter().copied())?;
    let progress = Progress::new(cli.json);
    let detail = target_db.map(|_| "a server given with --target-db".to_string()).unwrap_or_else(|| "a scratch server".into());
    as_judged_job(&source.ctx, "drill", Some(detail), &progress, |job| {
        job.set_point(&server, &point);
        let (target, verdicts) = match target_db {
            None => {
                let version = source.manifest.as_ref().map(|m| m.postgres_version.as_str()).unwrap_or_default();
                let scratch = scratch::Scratch::start(cli.pg_bin.as_deref(), version)?;
                progress.note(&format!("restoring into {}", scratch.describe()));
                let verdicts = into_scratch(&source, &files, &scratch.postgres(), &progress, job);
                (scratch.describe(), verdicts)
            }
            Some(conninfo) => {
                let pg = Postgres::new(cli.pg_bin.clone(), Some(conninfo.to_string()));
                ("the server given with --target-db".to_string(), into_target(&source, &files, &pg, &progress, job)?)
            }
        };
        let passed = verdicts.iter().all(|v| v.passed);
        Ok(Drill { server: server.clone(), point: point.clone(), target, passed, databases: verdicts })
    })
}

/// Into the scratch server: roles and tablespaces with the first database, then each
/// database with --create, but for those initdb made (postgres): into them, in one
/// transaction.
fn into_scratch(source: &Source, files: &[&SourceFile], pg: &Postgres, progress: &Progress, job: &Job) -> Vec<Verdict> {
    let made: HashSet<String> = pg.column(MAINTENANCE_DB, "SELECT datname FROM pg_database").unwrap_or_default().into_iter().collect();
    let mut verdicts = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let database = file.database.clone().unwrap_or_default();
        let create = !made.contains(&database);
        let options = RestoreOptions { databases: vec![database.clone()], jobs: 1, create, globals: i == 0, in_place_tablespaces: true, ..Default::default() };
        let restored = restore::run(source, pg, &options, progress, job);
        verdicts.push(judge(source, file, pg, &database, restored.map(|_| ())));
        if super::interrupted() {
            break;
        }
    }
    verdicts
}

/// Into a server of the user's: each database D into a new `pgvault_drill_D`, without
/// owners, privileges or tablespaces (its roles and tablespaces are not the point's), which
/// is dropped once checked.
fn into_target(source: &Source, files: &[&SourceFile], pg: &Postgres, progress: &Progress, job: &Job) -> Result<Vec<Verdict>, Error> {
    let existing: HashSet<String> = pg.column(MAINTENANCE_DB, "SELECT datname FROM pg_database")?.into_iter().collect();
    let taken: Vec<String> = files.iter().filter_map(|f| f.database.as_deref()).map(|d| format!("{TARGET_PREFIX}{d}")).filter(|d| existing.contains(d)).collect();
    if !taken.is_empty() {
        return Err(Error::Usage(format!("the drill restores into new databases, and {} exist(s) on the target: drop them or drill elsewhere", taken.join(", "))));
    }
    let mut verdicts = Vec::new();
    for file in files {
        let database = file.database.clone().unwrap_or_default();
        let target = format!("{TARGET_PREFIX}{database}");
        let options = RestoreOptions { databases: vec![database.clone()], jobs: 1, no_owner: true, no_privileges: true, no_tablespaces: true, prefix: TARGET_PREFIX.into(), ..Default::default() };
        let restored = pg.query(MAINTENANCE_DB, &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&target))).and_then(|_| restore::run(source, pg, &options, progress, job).map(|_| ()));
        let mut verdict = judge(source, file, pg, &target, restored);
        verdict.database = database;
        if let Err(e) = pg.query(MAINTENANCE_DB, &format!("DROP DATABASE IF EXISTS {}", quote_ident(&target))) {
            verdict.notes.push(format!("database \"{target}\" could not be dropped: {e}"));
        }
        verdicts.push(verdict);
        if super::interrupted() {
            break;
        }
    }
    Ok(verdicts)
}

/// The verdict on one database restored (or not) into `restored_as`.
fn judge(source: &Source, file: &SourceFile, pg: &Postgres, restored_as: &str, restored: Result<(), Error>) -> Verdict {
    let database = file.database.clone().unwrap_or_default();
    let recorded = recorded_tables(source, &database);
    let mut verdict = Verdict { database, passed: false, tables: 0, rows: 0, problems: Vec::new(), notes: Vec::new() };
    if let Err(e) = restored {
        verdict.problems.push(format!("the restore failed: {e}"));
        return verdict;
    }
    match check(source, file, pg, restored_as, recorded.as_deref(), &mut verdict) {
        Ok(()) => {}
        Err(e) => verdict.problems.push(format!("the restored database could not be checked: {e}")),
    }
    verdict.passed = verdict.problems.is_empty();
    verdict
}

fn recorded_tables(source: &Source, database: &str) -> Option<Vec<TableRows>> {
    let manifest = source.manifest.as_ref()?;
    manifest.files.iter().find(|f| f.kind == "database" && f.database.as_deref() == Some(database)).and_then(|f| f.tables.clone())
}

/// The tables of the dump's table of contents, and the row counts recorded, against what
/// the restored database holds.
fn check(source: &Source, file: &SourceFile, pg: &Postgres, restored_as: &str, recorded: Option<&[TableRows]>, verdict: &mut Verdict) -> Result<(), Error> {
    let mut session = pg.session(restored_as)?;
    let present: HashSet<(String, String)> = session
        .lines("SELECT json_build_array(n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p');")?
        .iter()
        .map(|line| serde_json::from_str::<(String, String)>(line).map_err(|e| Error::Postgres(format!("psql answered {line:?} to a list of tables ({e})"))))
        .collect::<Result<_, _>>()?;
    match table_of_contents(source, file, pg)? {
        Some(listed) => {
            for entry in listed {
                if !present.iter().any(|(schema, table)| entry.starts_with(&format!("{schema} {table} "))) {
                    verdict.problems.push(format!("table \"{entry}\" (schema, name, owner) of the dump's table of contents does not exist"));
                }
            }
        }
        None => verdict.notes.push("the dump is plain SQL, which has no table of contents to check".into()),
    }
    let Some(recorded) = recorded else {
        verdict.notes.push("the point has no row counts (backed up with --no-row-counts): rows not checked".into());
        return session.close();
    };
    for t in recorded {
        let name = format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.table));
        verdict.tables += 1;
        verdict.rows += t.rows;
        if !present.contains(&(t.schema.clone(), t.table.clone())) {
            verdict.problems.push(format!("table {name} does not exist ({} rows at backup)", t.rows));
            continue;
        }
        let rows = session.lines(&format!("SELECT count(*) FROM ONLY {name};"))?;
        match rows.first().and_then(|r| r.parse::<u64>().ok()) {
            Some(rows) if rows == t.rows => {}
            Some(rows) => verdict.problems.push(format!("table {name} has {rows} rows, {} at backup", t.rows)),
            None => return Err(Error::Postgres(format!("psql answered {rows:?} to the count of {name}"))),
        }
    }
    session.close()
}

/// The TABLE entries of a custom-format dump's table of contents, as pg_restore -l lists
/// them ("schema name owner"); none for a plain SQL dump. Only the start of the file is read.
fn table_of_contents(source: &Source, file: &SourceFile, pg: &Postgres) -> Result<Option<Vec<String>>, Error> {
    let mut kind = Kind::default();
    let mut lister: Option<Running> = None;
    let read = verify::read(&source.store, file, source.key.as_ref(), source.ctx.cancelled(), &mut |piece| {
        let Some(bytes) = kind.take(piece) else { return Ok(()) };
        if !matches!(kind, Kind::Archive) {
            return Err(Error::Content(ENOUGH.into()));
        }
        if lister.is_none() {
            let mut command = pg.command("pg_restore")?;
            command.arg("-l");
            lister = Some(Running::start(command, Stdio::piped(), Stdio::piped())?);
        }
        // Once pg_restore has read the table of contents it stops reading: that is enough.
        match lister.as_mut().expect("started").write(&bytes) {
            Err(Error::StoppedReading { .. }) => Err(Error::Content(ENOUGH.into())),
            other => other,
        }
    });
    match read {
        Ok(_) => {}
        Err(Error::Content(e)) if e == ENOUGH => {}
        Err(e) => return Err(e),
    }
    kind.end();
    let Some(mut lister) = lister.filter(|_| matches!(kind, Kind::Archive)) else { return Ok(None) };
    let mut listing = String::new();
    let mut stdout = lister.child.stdout.take().expect("piped");
    drop(lister.child.stdin.take());
    stdout.read_to_string(&mut listing).map_err(|e| Error::io("reading pg_restore -l", e))?;
    lister.finish()?;
    Ok(Some(tables_listed(&listing)))
}

/// "schema name owner" of each TABLE line of pg_restore -l's listing
/// (`<id>; <catalog oid> <oid> TABLE <schema> <name> <owner>`).
fn tables_listed(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| {
            let (_, rest) = l.split_once("; ")?;
            let mut parts = rest.splitn(3, ' ');
            let (_, _, entry) = (parts.next()?, parts.next()?, parts.next()?);
            entry.strip_prefix("TABLE ").filter(|e| !e.starts_with("DATA ")).map(str::to_string)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing() {
        let listing = ";\n; Archive created at 2026-11-30\n;\n215; 1259 16390 TABLE sales orders vr_owner\n216; 1259 16391 TABLE public Mixed Case postgres\n3390; 0 16390 TABLE DATA sales orders vr_owner\n2; 3079 16384 EXTENSION - plpgsql \n";
        assert_eq!(tables_listed(listing), vec!["sales orders vr_owner", "public Mixed Case postgres"]);
    }
}
