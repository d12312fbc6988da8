//! The PostgreSQL client programs pgvault drives (pg_dump, pg_dumpall, psql, pg_restore),
//! found under `--pg-bin` or on PATH. They connect as libpq's environment says (PGHOST,
//! PGPORT, PGUSER, PGPASSWORD, ...), which they inherit.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Postgres {
    bin: Option<PathBuf>,
}

impl Postgres {
    pub fn new(bin: Option<PathBuf>) -> Postgres {
        Postgres { bin }
    }

    /// A command for `program`, checked to exist.
    pub fn command(&self, program: &str) -> Result<Command, String> {
        let path = match &self.bin {
            Some(dir) => {
                let path = dir.join(program);
                if !path.is_file() {
                    return Err(format!("{program} is not in --pg-bin {}", dir.display()));
                }
                path
            }
            None => find_on_path(program).ok_or_else(|| format!("{program} is not on PATH; install the PostgreSQL client programs or give --pg-bin"))?,
        };
        Ok(Command::new(path))
    }

    /// Runs a query with psql in `database`; returns its rows, fields separated by tabs.
    pub fn query(&self, database: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let out = self
            .command("psql")?
            .args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql])
            .output()
            .map_err(|e| format!("could not run psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect())
    }

    /// Databases a backup covers: those that accept connections, templates aside.
    pub fn databases(&self) -> Result<Vec<String>, String> {
        let rows = self.query("postgres", "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")?;
        Ok(rows.into_iter().filter_map(|r| r.into_iter().next()).collect())
    }

    pub fn server_version(&self) -> Result<String, String> {
        let rows = self.query("postgres", "SHOW server_version")?;
        rows.into_iter().next().and_then(|r| r.into_iter().next()).ok_or_else(|| "the server did not say its version".into())
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| Path::new(p).is_file()))
}
