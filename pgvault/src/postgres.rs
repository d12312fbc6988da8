//! The PostgreSQL client programs pgvault drives (pg_dump, pg_dumpall, psql, pg_restore),
//! found under `--pg-bin` or on PATH. They connect as a connection string (URI or
//! key=value) says, or as libpq's environment says (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...),
//! which they inherit.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct Postgres {
    bin: Option<PathBuf>,
    /// The server's connection string; its database name is replaced per database.
    conninfo: Option<String>,
}

impl Postgres {
    pub fn new(bin: Option<PathBuf>, conninfo: Option<String>) -> Postgres {
        Postgres { bin, conninfo }
    }

    /// A command for `program`, checked to exist.
    pub fn command(&self, program: &str) -> Result<Command, Error> {
        let path = match &self.bin {
            Some(dir) => {
                let path = dir.join(program);
                if !path.is_file() {
                    return Err(Error::Postgres(format!("{program} is not in --pg-bin {}", dir.display())));
                }
                path
            }
            None => find_on_path(program).ok_or_else(|| Error::Postgres(format!("{program} is not on PATH; install the PostgreSQL client programs or give --pg-bin")))?,
        };
        Ok(Command::new(path))
    }

    /// A command for `program` connected to `database` (its `-d` argument).
    pub fn command_on(&self, program: &str, database: &str) -> Result<Command, Error> {
        let mut command = self.command(program)?;
        command.args(["-d", &with_database(self.conninfo.as_deref(), database)]);
        Ok(command)
    }

    /// Runs a query with psql in `database`; returns its rows, fields separated by tabs.
    pub fn query(&self, database: &str, sql: &str) -> Result<Vec<Vec<String>>, Error> {
        let out = self
            .command_on("psql", database)?
            .args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| Error::Postgres(format!("could not run psql: {e}")))?;
        if !out.status.success() {
            return Err(Error::Postgres(format!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect())
    }

    /// A psql session in `database`, kept open for statements sent one after another (a
    /// transaction that holds a snapshot while pg_dump uses it, say). Its search_path is
    /// pg_catalog alone, so that no object a role made can stand in for a built-in one.
    pub fn session(&self, database: &str) -> Result<Session, Error> {
        let mut command = self.command_on("psql", database)?;
        command.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
        let mut program = Running::start(command, Stdio::piped(), Stdio::piped())?;
        let out = BufReader::new(program.child.stdout.take().expect("piped"));
        let mut session = Session { program: Some(program), out };
        session.lines("SET search_path = pg_catalog;")?;
        Ok(session)
    }

    /// The first column of a query's rows.
    pub fn column(&self, database: &str, sql: &str) -> Result<Vec<String>, Error> {
        Ok(self.query(database, sql)?.into_iter().filter_map(|r| r.into_iter().next()).collect())
    }

    /// Databases a backup covers: those that accept connections, templates aside.
    pub fn databases(&self) -> Result<Vec<String>, Error> {
        self.column(MAINTENANCE_DB, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")
    }

    /// What `program --version` prints, e.g. "psql (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)".
    pub fn client_version(&self, program: &str) -> Result<String, Error> {
        let out = self.command(program)?.arg("--version").output().map_err(|e| Error::Postgres(format!("could not run {program}: {e}")))?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || text.is_empty() {
            return Err(Error::Postgres(format!("{program} --version failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(text)
    }

    pub fn server_version(&self) -> Result<String, Error> {
        self.column(MAINTENANCE_DB, "SHOW server_version")?.into_iter().next().ok_or_else(|| Error::Postgres("the server did not say its version".into()))
    }
}

/// One psql connection to which pgvault sends statements one after another; each answer is
/// read up to a line pgvault asks psql to echo after it. psql stops at the first error,
/// which the next call returns with what psql said.
pub struct Session {
    program: Option<Running>,
    out: BufReader<ChildStdout>,
}

impl Session {
    /// Runs `sql` (statements with their terminators: `;`, or `\gexec`); the lines of its
    /// output, unaligned, without headers.
    pub fn lines(&mut self, sql: &str) -> Result<Vec<String>, Error> {
        const END: &str = "--pgvault-end-of-answer--";
        let Some(program) = self.program.as_mut() else { return Err(Error::Postgres("psql ended earlier".into())) };
        if let Err(e) = program.write(format!("{sql}\n\\echo {END}\n").as_bytes()) {
            return Err(self.failure().unwrap_or(e));
        }
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            match self.out.read_line(&mut line) {
                Ok(0) | Err(_) => return Err(self.failure().unwrap_or_else(|| Error::Postgres("psql ended without an answer".into()))),
                Ok(_) => {}
            }
            let line = line.strip_suffix('\n').unwrap_or(&line);
            if line == END {
                return Ok(lines);
            }
            lines.push(line.to_string());
        }
    }

    /// Ends the session (what it began and did not commit is rolled back).
    pub fn close(mut self) -> Result<(), Error> {
        self.program.take().map_or(Ok(()), Running::finish)
    }

    /// psql's own error, once it has ended.
    fn failure(&mut self) -> Option<Error> {
        self.program.take().and_then(|p| p.finish().err())
    }
}

/// The database pgvault connects to for what concerns the whole server.
pub const MAINTENANCE_DB: &str = "postgres";

/// `conninfo` (a URI, key=value pairs, or nothing: libpq's environment) naming `database`.
/// libpq keeps the last value given for a keyword, so appending `dbname` overrides any.
pub fn with_database(conninfo: Option<&str>, database: &str) -> String {
    match conninfo.map(str::trim).filter(|c| !c.is_empty()) {
        Some(uri) if uri.starts_with("postgresql://") || uri.starts_with("postgres://") => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}dbname={}", percent_encode(database))
        }
        Some(pairs) => format!("{pairs} dbname={}", quote_value(database)),
        None => format!("dbname={}", quote_value(database)),
    }
}

fn quote_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn percent_encode(value: &str) -> String {
    value.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| Path::new(p).is_file()))
}

/// Process ids of the programs running, for `stop_all` (a signal handler may only touch
/// atomics and call kill).
static RUNNING: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

/// Asks every program pgvault started to stop (on Ctrl-C, so that a dump waiting on a lock
/// or a restore in progress does not hold pgvault). Async-signal-safe.
pub fn stop_all() {
    for slot in &RUNNING {
        let pid = slot.load(Ordering::Relaxed);
        if pid > 0 {
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
}

/// A client program running with its standard error collected on the side (so that a
/// chatty program never blocks on a full pipe).
pub struct Running {
    pub child: Child,
    program: String,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command`; standard input and output as given, standard error collected.
    pub fn start(mut command: Command, stdin: Stdio, stdout: Stdio) -> Result<Running, Error> {
        let program = command.get_program().to_string_lossy().rsplit('/').next().unwrap_or_default().to_string();
        let mut child = command.stdin(stdin).stdout(stdout).stderr(Stdio::piped()).spawn().map_err(|e| Error::Postgres(format!("could not start {program}: {e}")))?;
        let pid = child.id() as i32;
        let _ = RUNNING.iter().any(|s| s.compare_exchange(0, pid, Ordering::Relaxed, Ordering::Relaxed).is_ok());
        tracing::info!(pid, "started {program}");
        let mut stderr = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(Running { child, program, stderr: Some(stderr) })
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// Stops the program (after a failure on our side); its outcome no longer matters.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `bytes` to the program's standard input.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.child.stdin.as_mut().expect("piped").write_all(bytes).map_err(|source| Error::StoppedReading { program: self.program.clone(), source })
    }

    /// Waits for the program; an error carries its exit status and what it printed.
    pub fn finish(mut self) -> Result<(), Error> {
        drop(self.child.stdin.take());
        let status = self.child.wait().map_err(|e| Error::Postgres(format!("{}: {e}", self.program)))?;
        let stderr = self.stderr.take().and_then(|t| t.join().ok()).unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            Err(Error::ProgramFailed { program: self.program.clone(), status, stderr: stderr.trim().to_string() })
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Ended (or given up on): never signal this process id again.
        let pid = self.child.id() as i32;
        if let Some(slot) = RUNNING.iter().find(|s| s.load(Ordering::Relaxed) == pid) {
            slot.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_a_connection_string() {
        assert_eq!(with_database(None, "app"), "dbname='app'");
        assert_eq!(with_database(Some("host=db1 port=5433"), "it's"), "host=db1 port=5433 dbname='it\\'s'");
        assert_eq!(with_database(Some("postgresql://u@db1/postgres"), "a b"), "postgresql://u@db1/postgres?dbname=a%20b");
        assert_eq!(with_database(Some("postgres://db1/x?sslmode=require"), "app"), "postgres://db1/x?sslmode=require&dbname=app");
    }
}
