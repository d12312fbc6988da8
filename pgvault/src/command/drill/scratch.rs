//! The scratch PostgreSQL a drill restores into: initdb into a temporary directory with this
//! host's server programs, started on a free port of 127.0.0.1 (and a socket in that
//! directory), trusted connections only from there, no durability (nothing in it is kept),
//! tablespaces allowed in place; stopped and removed when dropped. As root it runs as the
//! postgres user, since PostgreSQL refuses to run as root.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::command::restore::archive;
use crate::error::Error;
use crate::postgres::Postgres;

pub struct Scratch {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The user and group the server runs as, when pgvault runs as root.
    owner: Option<(u32, u32)>,
    /// What `postgres --version` says, e.g. "postgres (PostgreSQL) 15.10".
    pub version: String,
    running: bool,
}

impl Scratch {
    /// Starts a server whose major is at least that of `point_version` (the server the point
    /// was taken from), from `given` (--pg-bin) or the newest found.
    pub fn start(given: Option<&Path>, point_version: &str) -> Result<Scratch, Error> {
        let (bin, version) = programs(given, archive::major(point_version))?;
        let owner = if unsafe { libc::geteuid() } == 0 { Some(postgres_user()?) } else { None };
        let dir = tempfile::Builder::new().prefix("pgvault-drill-").tempdir().map_err(|e| Error::io("a directory for the scratch server", e))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| Error::io(dir.path().display().to_string(), e))?;
        }
        let mut scratch = Scratch { dir, bin, port: 0, owner, version, running: false };
        let data = scratch.data();
        scratch.run("initdb", |c| {
            c.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]);
        })?;
        let socket = scratch.dir.path().display().to_string().replace('\'', "''");
        let settings = format!(
            "\n# pgvault drill\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket}'\nfsync = off\n\
             synchronous_commit = off\nfull_page_writes = off\nallow_in_place_tablespaces = on\nmax_connections = 20\n"
        );
        let conf = data.join("postgresql.conf");
        std::fs::OpenOptions::new().append(true).open(&conf).and_then(|mut f| std::io::Write::write_all(&mut f, settings.as_bytes())).map_err(|e| Error::io(conf.display().to_string(), e))?;
        // Another program may take the free port found before the server binds it: try again.
        let mut failure = None;
        for _ in 0..5 {
            scratch.port = free_port()?;
            let log = scratch.dir.path().join("server.log");
            let port = scratch.port;
            match scratch.run("pg_ctl", |c| {
                c.arg("-D").arg(&data).arg("-l").arg(&log).args(["-w", "-t", "120", "-o", &format!("-p {port}"), "start"]);
            }) {
                Ok(_) => {
                    scratch.running = true;
                    return Ok(scratch);
                }
                Err(e) => {
                    let said = std::fs::read_to_string(&log).unwrap_or_default();
                    let taken = said.contains("Address already in use");
                    failure = Some(Error::Postgres(format!("the scratch server did not start: {e}\n{}", tail(&said, 20))));
                    if !taken {
                        break;
                    }
                }
            }
        }
        Err(failure.expect("tried at least once"))
    }

    /// The client programs of the same installation, connected to the scratch server.
    pub fn postgres(&self) -> Postgres {
        Postgres::new(Some(self.bin.clone()), Some(format!("host=127.0.0.1 port={} user=postgres", self.port)))
    }

    /// How reports name it: "a scratch PostgreSQL 15.10 (/usr/lib/postgresql/15/bin)".
    pub fn describe(&self) -> String {
        let version = self.version.split_once(") ").map_or(self.version.as_str(), |(_, v)| v);
        format!("a scratch PostgreSQL {version} ({})", self.bin.display())
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server programs as the server's user, in the scratch directory.
    fn run(&self, program: &str, args: impl FnOnce(&mut Command)) -> Result<Output, Error> {
        let mut command = Command::new(self.bin.join(program));
        args(&mut command);
        command.current_dir(self.dir.path()).env_remove("PGDATA");
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        let out = command.output().map_err(|e| Error::Postgres(format!("could not run {program}: {e}")))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(Error::Postgres(format!("{program} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())))
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            if let Err(e) = self.run("pg_ctl", |c| {
                c.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]);
            }) {
                eprintln!("pgvault: the scratch server in {} did not stop: {e}", self.dir.path().display());
            }
        }
    }
}

/// The directory of initdb, pg_ctl and postgres to use, and what postgres --version says:
/// `given`, or the newest of PATH, pg_config --bindir and /usr/lib/postgresql/*/bin; it must
/// be of major `wanted` or newer.
fn programs(given: Option<&Path>, wanted: Option<u32>) -> Result<(PathBuf, String), Error> {
    let candidates: Vec<PathBuf> = match given {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
            if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
                dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
            if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
                dirs.extend(entries.flatten().map(|e| e.path().join("bin")));
            }
            dirs
        }
    };
    let found: Vec<(u32, String, PathBuf)> = candidates
        .into_iter()
        .filter(|d| ["initdb", "pg_ctl", "postgres", "pg_restore", "psql"].iter().all(|p| d.join(p).is_file()))
        .filter_map(|d| {
            let out = Command::new(d.join("postgres")).arg("--version").output().ok()?;
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Some((archive::major(&version)?, version, d))
        })
        .collect();
    let where_ = if given.is_some() { "in --pg-bin" } else { "on PATH, at pg_config --bindir or under /usr/lib/postgresql" };
    let Some((major, version, dir)) = found.into_iter().max_by_key(|(major, _, _)| *major) else {
        return Err(Error::Postgres(format!("no PostgreSQL server programs (initdb, pg_ctl, postgres, pg_restore, psql) {where_}; install the server package or give --pg-bin, or drill into a server with --target-db")));
    };
    if let Some(wanted) = wanted.filter(|w| major < *w) {
        return Err(Error::Postgres(format!(
            "the point comes from PostgreSQL {wanted} and the server programs {where_} are of {major} ({}); give --pg-bin the programs of {wanted} or newer",
            dir.display()
        )));
    }
    Ok((dir, version))
}

/// The postgres user's ids, for a scratch server started by root.
fn postgres_user() -> Result<(u32, u32), Error> {
    let name = c"postgres";
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(Error::Postgres("run as root, pgvault drill starts its scratch server as the postgres user, and there is none; run it as another user, or drill into a server with --target-db".into()));
    }
    Ok(unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("a free port on 127.0.0.1", e))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Error::io("a free port on 127.0.0.1", e))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
