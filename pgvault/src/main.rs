//! pgvault: whole-server PostgreSQL backups into an Azure Blob Storage vault.

mod backup;
mod points;
mod postgres;
mod restore_files;
mod validate;
mod vault;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::points::FileEntry;
use crate::postgres::Postgres;
use crate::vault::{StorageArgs, Vault};

#[derive(Parser)]
#[command(
    name = "pgvault",
    version,
    about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault",
    long_about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault \
                  (pg_dump custom format per database, pg_dumpall roles, schema and tablespaces), \
                  list the restore points, validate one, and restore it as files in Azure \
                  Backup's layout.\n\n\
                  PostgreSQL is reached as libpq's environment says (PGHOST, PGPORT, PGUSER, \
                  PGPASSWORD, ...). The storage account's credential comes from --key, --sas-token \
                  or --connection-string, or from AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or \
                  AZURE_STORAGE_CONNECTION_STRING.",
    after_help = "Examples:\n  \
                  PGHOST=db1 pgvault backup --vault myaccount/backups --server db1\n  \
                  pgvault list --vault myaccount/backups --server db1 --from 2026-11-01\n  \
                  pgvault validate --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores\n  \
                  pgvault restore-files --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores --prefix drill/\n  \
                  pgvault list --vault devstoreaccount1/backups --endpoint http://127.0.0.1:10000/{account} --json"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
    #[command(flatten)]
    storage: StorageArgs,
    /// Directory of pg_dump, pg_dumpall, psql and pg_restore (default: PATH).
    #[arg(long, global = true)]
    pg_bin: Option<PathBuf>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Commands {
    /// Make one restore point of the whole server.
    #[command(after_help = "The point is complete when its backupstarttimestamp marker is written, last. \
                            A failed or interrupted backup leaves no marker and is never listed.")]
    Backup {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Name of the server in the vault (a folder).
        #[arg(long)]
        server: String,
        /// Back up only these databases (repeatable).
        #[arg(long)]
        include: Vec<String>,
        /// Leave these databases out (repeatable).
        #[arg(long)]
        exclude: Vec<String>,
        /// Databases dumped at once.
        #[arg(long, short = 'j', default_value_t = 2)]
        jobs: usize,
        /// Fail a database's dump when a table lock is not granted within this many
        /// milliseconds (pg_dump --lock-wait-timeout), instead of waiting.
        #[arg(long)]
        lock_wait_timeout: Option<u64>,
    },
    /// Check a restore point and a restore target; print every problem.
    #[command(after_help = "Checks that the point is complete, that every file's size and SHA-256 match \
                            its manifest, and that the target container exists and can be written \
                            (a probe blob is written and deleted). Exits 1 when anything is wrong.")]
    Validate {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long)]
        point: String,
        /// Target of a restore as files: <account>/<container> (same credentials).
        #[arg(long)]
        target: Option<String>,
        /// Prefix of the restored files in the target.
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Put a restore point into a container in Azure Backup's restore-as-files layout.
    #[command(name = "restore-files", after_help = "Validates the point and the target first. Writes <prefix><point>_database_<db>.sql \
                            for each database, <prefix><point>_roles.sql, _schema.sql, _tablespaces.sql, \
                            and last <prefix>backupstarttimestamp. Each file is checked against the \
                            manifest's SHA-256 before it becomes visible.")]
    RestoreFiles {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long)]
        point: String,
        /// Target: <account>/<container> (same credentials).
        #[arg(long)]
        target: String,
        /// Prefix of the restored files in the target, e.g. "drill-2026-11/".
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// List complete restore points, newest first.
    List {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Only this server's points.
        #[arg(long)]
        server: Option<String>,
        /// Only points started at or after this time (RFC 3339, or a date).
        #[arg(long)]
        from: Option<String>,
        /// Only points started at or before this time.
        #[arg(long)]
        to: Option<String>,
    },
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

fn main() {
    let cli = Cli::parse();
    // Ctrl-C stops uploads at their next step; nothing is then committed as complete.
    unsafe {
        libc::signal(libc::SIGINT, on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    let outcome = match &cli.command {
        Commands::Backup { vault, server, include, exclude, jobs, lock_wait_timeout } => {
            let options = backup::BackupOptions {
                server: server.clone(),
                include: include.clone(),
                exclude: exclude.clone(),
                jobs: *jobs,
                lock_wait_timeout: *lock_wait_timeout,
                timeout: Duration::from_secs(cli.storage.timeout),
            };
            run_backup(&cli, vault, &options)
        }
        Commands::Validate { vault, point, target, prefix } => run_validate(&cli, vault, point, target.as_deref(), prefix),
        Commands::RestoreFiles { vault, point, target, prefix } => run_restore_files(&cli, vault, point, target, prefix),
        Commands::List { vault, server, from, to } => run_list(&cli, vault, server.as_deref(), from.as_deref(), to.as_deref()),
    };
    if let Err(e) = outcome {
        let e = if interrupted() { format!("interrupted: {e}") } else { e };
        eprintln!("pgvault: {e}");
        std::process::exit(1);
    }
}

struct Report {
    json: bool,
}

impl backup::Progress for Report {
    fn file_done(&self, file: &FileEntry) {
        if !self.json {
            eprintln!("  {:<60} {:>12} bytes", file.name, file.bytes);
        }
    }

    fn note(&self, message: &str) {
        eprintln!("pgvault: note: {message}");
    }
}

fn run_backup(cli: &Cli, vault: &str, options: &backup::BackupOptions) -> Result<(), String> {
    let vault = Vault::resolve(vault, &cli.storage)?;
    let pg = Postgres::new(cli.pg_bin.clone());
    let manifest = backup::run(&vault, &pg, options, &Report { json: cli.json }, &interrupted)?;
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

fn run_validate(cli: &Cli, vault: &str, point: &str, target: Option<&str>, prefix: &str) -> Result<(), String> {
    let timeout = Duration::from_secs(cli.storage.timeout);
    let vault = Vault::resolve(vault, &cli.storage)?;
    let (server, point) = validate::find_point(&vault, point, timeout)?;
    let (_, mut problems) = validate::check_point(&vault, &server, &point, timeout, &interrupted)?;
    if let Some(target) = target {
        problems.extend(validate::check_target(&Vault::resolve(target, &cli.storage)?, prefix, timeout, &interrupted));
    }
    if cli.json {
        println!("{}", serde_json::json!({ "server": server, "point": point, "valid": problems.is_empty(), "problems": problems }));
    } else if problems.is_empty() {
        println!("{server}/{point}: valid");
    } else {
        for p in &problems {
            println!("problem: {p}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{server}/{point}: {} problem(s)", problems.len()))
    }
}

fn run_restore_files(cli: &Cli, vault: &str, point: &str, target: &str, prefix: &str) -> Result<(), String> {
    let timeout = Duration::from_secs(cli.storage.timeout);
    let vault = Vault::resolve(vault, &cli.storage)?;
    let target = Vault::resolve(target, &cli.storage)?;
    let (server, point) = validate::find_point(&vault, point, timeout)?;
    let quiet = cli.json;
    let done = |name: &str, bytes: u64| {
        if !quiet {
            eprintln!("  {name:<60} {bytes:>12} bytes");
        }
    };
    let written = restore_files::run(&vault, (&server, &point), &target, prefix, timeout, &interrupted, &done)?;
    if cli.json {
        println!("{}", serde_json::json!({ "server": server, "point": point, "files": written }));
    } else {
        println!("{server}/{point} restored as {} files into {}/{}", written.len(), target.account.name, target.container);
    }
    Ok(())
}

fn run_list(cli: &Cli, vault: &str, server: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<(), String> {
    let vault = Vault::resolve(vault, &cli.storage)?;
    if let Some(s) = server {
        points::validate_server(s)?;
    }
    let from = from.map(points::parse_time).transpose()?;
    let to = to.map(points::parse_time).transpose()?;
    let found = points::list(&vault, server, from, to, Duration::from_secs(cli.storage.timeout))?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&found).expect("points serialize"));
        return Ok(());
    }
    if found.is_empty() {
        println!("no complete restore point");
        return Ok(());
    }
    println!("{:<20} {:<18} {:<21} {:>9} {:>14}", "server", "point", "started (UTC)", "databases", "bytes");
    for p in found {
        println!("{:<20} {:<18} {:<21} {:>9} {:>14}", p.server, p.point, p.started_at.format("%Y-%m-%d %H:%M:%S"), p.databases, p.bytes);
    }
    Ok(())
}
