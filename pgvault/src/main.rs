//! pgvault: whole-server PostgreSQL backups into an Azure Blob Storage vault.

mod backup;
mod globals;
mod jobs;
mod points;
mod postgres;
mod progress;
mod psql_script;
mod prune;
mod restore;
mod restore_files;
mod restore_source;
mod secrets;
mod validate;
mod vault;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::jobs::Job;
use crate::postgres::Postgres;
use crate::progress::Progress;
use crate::vault::{StorageArgs, Vault};

#[derive(Parser)]
#[command(
    name = "pgvault",
    version,
    about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault",
    long_about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault \
                  (pg_dump custom format per database, pg_dumpall roles, schema and tablespaces), \
                  list the restore points, validate one, restore it as files in Azure \
                  Backup's layout or into a server, keep a history of jobs, and prune by \
                  retention.\n\n\
                  PostgreSQL is reached as a connection string (--source-db, --target-db) or \
                  libpq's environment says (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...). The storage account's credential comes from --key-file, \
                  --sas-token-file or --connection-string-file (files only their owner may read), \
                  from AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, \
                  or from --key, --sas-token or --connection-string (a command line shows to other \
                  local users until pgvault hides it, a moment after it starts); or is an Entra ID \
                  identity: a service principal (--tenant-id, --client-id, --client-secret-file or \
                  AZURE_CLIENT_SECRET), a workload identity (--tenant-id, \
                  --client-id, --federated-token-file, or Kubernetes' AZURE_* variables) or, with \
                  --managed-identity, the host's managed identity; or comes from a config file \
                  (--config, default ~/.config/pgvault/config.toml; mode 600 when it holds a \
                  credential). With none, requests are anonymous (public containers).",
    after_help = "Examples:\n  \
                  PGHOST=db1 pgvault backup --vault myaccount/backups --server db1\n  \
                  pgvault list --vault myaccount/backups --server db1 --from 2026-11-01\n  \
                  pgvault validate --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores\n  \
                  pgvault restore-files --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores --prefix drill/\n  \
                  pgvault restore --vault myaccount/backups --point db1/20261123T223000Z --target-db postgresql://admin@db2/postgres --create --globals -j 4\n  \
                  pgvault restore --from myaccount/restores/drill --target-db 'host=db2 user=admin' --database app --create\n  \
                  pgvault jobs --vault myaccount/backups\n  \
                  pgvault prune --vault myaccount/backups --keep-last 4 --keep-monthly 12 --yes\n  \
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
    /// Log what pgvault does to standard error (-v: steps, -vv: requests too).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,
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
        /// The server, as a connection string or URI (default: libpq's environment);
        /// its database name does not matter.
        #[arg(long)]
        source_db: Option<String>,
    },
    /// Restore databases (and on request roles and tablespaces) into a server.
    #[command(after_help = "Every file needed is checked against the point's manifest (size and SHA-256) before \
                            anything is restored. With -j 1 each dump streams into pg_restore; with more \
                            jobs it is spooled to a temporary file first (pg_restore needs one to work in \
                            parallel). --globals restores roles then tablespaces with psql first, leaving \
                            out those that exist on the target. --from reads files Azure Backup restored \
                            into a container (<name>_database_<db>.sql, _roles, _schema or _schemas, \
                            _tablespaces, backupstarttimestamp); these carry no checksums.\n\n\
                            What goes to psql (roles, tablespaces, dumps in plain SQL) is read first as psql \
                            reads it: a psql meta-command (\\! runs a shell command) other than the \\connect \
                            <database>, \\encoding, \\restrict and \\unrestrict lines pg_dump writes refuses the \
                            whole restore, naming the file and line, before anything is created. psql runs \
                            with -X and ON_ERROR_STOP, and, where it has \\restrict (13.22, 14.19, 15.14, 16.10, \
                            17.6, 18), restricted to SQL but for those lines.")]
    Restore {
        /// Vault: <account>/<container> (with --point).
        #[arg(long, requires = "point")]
        vault: Option<String>,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long, conflicts_with = "from")]
        point: Option<String>,
        /// Restore-as-files output instead of a point: <account>/<container>[/<prefix>].
        #[arg(long, required_unless_present = "point")]
        from: Option<String>,
        /// The server to restore into, as a connection string or URI (its database name
        /// does not matter); default: libpq's environment.
        #[arg(long)]
        target_db: Option<String>,
        /// Restore only these databases (repeatable).
        #[arg(long)]
        database: Vec<String>,
        /// pg_restore jobs per database; above 1 the dump is spooled to a temporary file.
        #[arg(long, short = 'j', default_value_t = 1)]
        jobs: usize,
        /// Create each database (it must not exist, unless --clean).
        #[arg(long)]
        create: bool,
        /// Drop each object (with --create: each database) before restoring it.
        #[arg(long)]
        clean: bool,
        /// Restore roles and tablespaces first.
        #[arg(long)]
        globals: bool,
        /// With --globals: leave out the roles and attributes only Azure Database for
        /// PostgreSQL has (azure_pg_admin, azuresu, azure_superuser, replication,
        /// NOSUPERUSER, NOBYPASSRLS).
        #[arg(long, requires = "globals")]
        drop_azure_roles: bool,
        /// Do not restore object owners (pg_restore --no-owner).
        #[arg(long)]
        no_owner: bool,
        /// Do not restore privileges (pg_restore --no-privileges).
        #[arg(long)]
        no_privileges: bool,
        /// Where dumps are spooled with -j above 1 (default: the temporary directory).
        #[arg(long)]
        spool_dir: Option<PathBuf>,
    },
    /// The history of backup, restore-files and restore jobs, newest first.
    Jobs {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Show at most this many jobs.
        #[arg(long, default_value_t = 50)]
        last: usize,
    },
    /// Delete the restore points no retention rule keeps (dry run unless --yes).
    #[command(after_help = "Each server's newest complete point always stays. Incomplete points (no marker) \
                            older than a day are deleted too. A point is deleted marker first.")]
    Prune {
        /// Vault: <account>/<container>.
        #[arg(long)]
        vault: String,
        /// Keep each server's newest N points.
        #[arg(long, default_value_t = 0)]
        keep_last: usize,
        /// Keep the points of the last D days.
        #[arg(long)]
        keep_days: Option<u64>,
        /// Keep the newest point of each of the last W weeks that have one.
        #[arg(long, default_value_t = 0)]
        keep_weekly: usize,
        /// Keep the newest point of each of the last M months that have one.
        #[arg(long, default_value_t = 0)]
        keep_monthly: usize,
        /// Delete; without it, only say what would be deleted.
        #[arg(long)]
        yes: bool,
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
        /// Target of a restore as files: <account>/<container>[/<prefix>] (same credentials).
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
        /// Target: <account>/<container>[/<prefix>] (same credentials).
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
    postgres::stop_all();
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

fn main() {
    let matches = Cli::command().get_matches();
    // Credentials typed on the command line are hidden from other users at once.
    let hidden = secrets::hide_from_command_line();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = hidden {
        eprintln!("pgvault: warning: {e}");
    }
    let on_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    cli.storage = match cli.storage.clone().with_files(&on_command_line).and_then(vault::StorageArgs::with_config) {
        Ok(storage) => storage,
        Err(e) => {
            eprintln!("pgvault: {e}");
            std::process::exit(1);
        }
    };
    storage::retry::set_policy(cli.storage.retry_policy());
    if cli.verbose > 0 {
        let level = if cli.verbose > 1 { "debug" } else { "info" };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pgvault={level},storage={level}")));
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
    // Ctrl-C stops uploads at their next step; nothing is then committed as complete.
    unsafe {
        libc::signal(libc::SIGINT, on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    let outcome = match &cli.command {
        Commands::Backup { vault, server, include, exclude, jobs, lock_wait_timeout, source_db } => {
            let options = backup::BackupOptions {
                server: server.clone(),
                include: include.clone(),
                exclude: exclude.clone(),
                jobs: *jobs,
                lock_wait_timeout: *lock_wait_timeout,
                timeout: cli.timeout(),
            };
            run_backup(&cli, vault, source_db.clone(), &options)
        }
        Commands::Validate { vault, point, target, prefix } => run_validate(&cli, vault, point, target.as_deref(), prefix),
        Commands::RestoreFiles { vault, point, target, prefix } => run_restore_files(&cli, vault, point, target, prefix),
        Commands::Restore { vault, point, from, target_db, database, jobs, create, clean, globals, drop_azure_roles, no_owner, no_privileges, spool_dir } => {
            let options = restore::RestoreOptions {
                databases: database.clone(),
                jobs: (*jobs).max(1),
                create: *create,
                clean: *clean,
                globals: *globals,
                drop_azure_roles: *drop_azure_roles,
                no_owner: *no_owner,
                no_privileges: *no_privileges,
                spool_dir: spool_dir.clone(),
            };
            let pg = Postgres::new(cli.pg_bin.clone(), target_db.clone());
            match (vault, point, from) {
                (Some(vault), Some(point), None) => run_restore_point(&cli, vault, point, &pg, &options),
                (None, None, Some(from)) => run_restore_from(&cli, from, &pg, &options),
                _ => Err("give --vault with --point, or --from".into()),
            }
        }
        Commands::List { vault, server, from, to } => run_list(&cli, vault, server.as_deref(), from.as_deref(), to.as_deref()),
        Commands::Jobs { vault, last } => run_jobs(&cli, vault, *last),
        Commands::Prune { vault, keep_last, keep_days, keep_weekly, keep_monthly, yes } => {
            let policy = prune::Policy { keep_last: *keep_last, keep_days: *keep_days, keep_weekly: *keep_weekly, keep_monthly: *keep_monthly };
            run_prune(&cli, vault, &policy, *yes)
        }
    };
    if let Err(e) = outcome {
        let e = if interrupted() { format!("interrupted: {e}") } else { e };
        eprintln!("pgvault: {e}");
        std::process::exit(1);
    }
}

impl Cli {
    fn timeout(&self) -> Duration {
        self.storage.timeout()
    }
}

/// Runs `work` as a job recorded in `vault`; a job that cannot be recorded is mentioned,
/// and does not stop the work.
fn as_job<T>(vault: &Vault, kind: &str, detail: Option<String>, cli: &Cli, progress: &Progress, work: impl FnOnce(&Job) -> Result<T, String>) -> Result<T, String> {
    let (job, problem) = Job::start(vault, kind, detail, cli.timeout());
    if let Some(problem) = problem {
        progress.note(&problem);
    }
    let outcome = work(&job);
    if let Err(problem) = job.finish(&outcome.as_ref().map(|_| ()).map_err(Clone::clone), interrupted()) {
        progress.note(&problem);
    }
    outcome
}

fn run_backup(cli: &Cli, vault: &str, source_db: Option<String>, options: &backup::BackupOptions) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let pg = Postgres::new(cli.pg_bin.clone(), source_db);
    let progress = Progress::new(cli.json);
    // Storage problems (credentials, container) show before any dump starts.
    backup::check_vault(&vault, cli.timeout(), &interrupted)?;
    let manifest = as_job(&vault, "backup", None, cli, &progress, |job| {
        job.set_server(&options.server);
        backup::run(&vault, &pg, options, &progress, job, &interrupted)
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

fn run_validate(cli: &Cli, vault: &str, point: &str, target: Option<&str>, prefix: &str) -> Result<(), String> {
    let timeout = cli.timeout();
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let (server, point) = validate::find_point(&vault, point, timeout)?;
    let (_, mut problems) = validate::check_point(&vault, &server, &point, timeout, &interrupted)?;
    if let Some(target) = target {
        let (target, prefix) = target_location(target, prefix, cli)?;
        problems.extend(validate::check_target(&target, &prefix, timeout, &interrupted));
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

/// `--target <account>/<container>[/<prefix>]` and `--prefix`: the prefix in one of them.
fn target_location(target: &str, prefix: &str, cli: &Cli) -> Result<(Vault, String), String> {
    let (vault, in_target) = Vault::for_flag_with_prefix("--target", target, &cli.storage)?;
    match (in_target.is_empty(), prefix.is_empty()) {
        (false, false) => Err(format!("--target \"{target}\" has a prefix and --prefix gives another; give it in one of them")),
        (false, true) => Ok((vault, in_target)),
        (true, _) => Ok((vault, prefix.to_string())),
    }
}

fn run_restore_files(cli: &Cli, vault: &str, point: &str, target: &str, prefix: &str) -> Result<(), String> {
    let timeout = cli.timeout();
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let (target, prefix) = target_location(target, prefix, cli)?;
    let prefix = prefix.as_str();
    let (server, point) = validate::find_point(&vault, point, timeout)?;
    let progress = Progress::new(cli.json);
    let detail = format!("{}/{}/{prefix}", target.account.name, target.container);
    let written = as_job(&vault, "restore-files", Some(detail), cli, &progress, |job| {
        job.set_point(&server, &point);
        restore_files::run(&vault, (&server, &point), (&target, prefix), timeout, &progress, job, &interrupted)
    })?;
    if cli.json {
        println!("{}", serde_json::json!({ "server": server, "point": point, "files": written }));
    } else {
        println!("{server}/{point} restored as {} files into {}/{}", written.len(), target.account.name, target.container);
    }
    Ok(())
}

fn run_restore_point(cli: &Cli, vault: &str, point: &str, pg: &Postgres, options: &restore::RestoreOptions) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let (server, point) = validate::find_point(&vault, point, cli.timeout())?;
    let source = restore_source::from_point(&vault, &server, &point, cli.timeout(), &interrupted)?;
    let progress = Progress::new(cli.json);
    let restored = as_job(&vault, "restore", None, cli, &progress, |job| {
        job.set_point(&server, &point);
        restore::run(&source, pg, options, &progress, job, &interrupted)
    })?;
    print_restored(cli, &restored);
    Ok(())
}

fn run_restore_from(cli: &Cli, from: &str, pg: &Postgres, options: &restore::RestoreOptions) -> Result<(), String> {
    let (container, prefix) = Vault::for_flag_with_prefix("--from", from, &cli.storage)?;
    let source = restore_source::from_files(&container, &prefix, cli.timeout())?;
    let progress = Progress::new(cli.json);
    // Files restored as files are not a vault: the job is not recorded there.
    let restored = restore::run(&source, pg, options, &progress, &Job::unrecorded("restore"), &interrupted)?;
    print_restored(cli, &restored);
    Ok(())
}

fn print_restored(cli: &Cli, restored: &restore::Restored) {
    if cli.json {
        println!("{}", serde_json::to_string_pretty(restored).expect("a summary serializes"));
    } else {
        let globals = if restored.globals.is_empty() { String::new() } else { format!(" and {}", restored.globals.join(", ")) };
        println!("{}: restored {} database(s){globals}: {} ({} bytes read)", restored.source, restored.databases.len(), restored.databases.join(", "), restored.bytes);
    }
}

fn run_list(cli: &Cli, vault: &str, server: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    if let Some(s) = server {
        points::validate_server(s)?;
    }
    let from = from.map(points::parse_time).transpose()?;
    let to = to.map(points::parse_time).transpose()?;
    let found = points::list(&vault, server, from, to, cli.timeout())?;
    let header = format!("{:<20} {:<18} {:<21} {:>9} {:>14}", "server", "point", "started (UTC)", "databases", "bytes");
    print_rows(cli.json, &found, "no complete restore point", &header, |p| {
        format!("{:<20} {:<18} {:<21} {:>9} {:>14}", p.server, p.point, p.started_at.format("%Y-%m-%d %H:%M:%S"), p.databases, p.bytes)
    });
    Ok(())
}

/// Rows as JSON with --json, else a line saying there are none, or a header and a line each.
fn print_rows<T: serde::Serialize>(json: bool, rows: &[T], none: &str, header: &str, line: impl Fn(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(rows).expect("rows serialize"));
    } else if rows.is_empty() {
        println!("{none}");
    } else {
        println!("{header}");
        for row in rows {
            println!("{}", line(row));
        }
    }
}

fn run_jobs(cli: &Cli, vault: &str, last: usize) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let mut found = jobs::list(&vault, cli.timeout())?;
    found.truncate(last);
    let header = format!("{:<14} {:<12} {:<20} {:<18} {:<21} {:>8} {:>14}  error", "kind", "status", "server", "point", "started (UTC)", "seconds", "bytes");
    print_rows(cli.json, &found, "no job recorded", &header, |j| {
        let seconds = j.finished_at.map(|f| (f - j.started_at).num_seconds().to_string()).unwrap_or_default();
        let error = j.error.as_deref().and_then(|e| e.lines().next()).unwrap_or("");
        format!(
            "{:<14} {:<12} {:<20} {:<18} {:<21} {seconds:>8} {:>14}  {error}",
            j.kind,
            j.status,
            j.server.as_deref().unwrap_or("-"),
            j.point.as_deref().unwrap_or("-"),
            j.started_at.format("%Y-%m-%d %H:%M:%S"),
            j.bytes
        )
    });
    Ok(())
}

fn run_prune(cli: &Cli, vault: &str, policy: &prune::Policy, yes: bool) -> Result<(), String> {
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let plans = prune::plan(&vault, policy, chrono::Utc::now(), cli.timeout())?;
    let doomed: Vec<&prune::PointPlan> = plans.iter().filter(|p| p.kept_by.is_empty()).collect();
    let deleted = if yes { prune::delete(&vault, &plans, cli.timeout(), &interrupted)? } else { 0 };
    if cli.json {
        println!("{}", serde_json::json!({ "points": plans, "deleted": deleted, "dry_run": !yes }));
        return Ok(());
    }
    for p in &plans {
        let what = if p.kept_by.is_empty() { if yes { "deleted".to_string() } else { "would delete".to_string() } } else { format!("keep ({})", p.kept_by.join(", ")) };
        let state = if p.complete { "" } else { " (incomplete)" };
        println!("{:<20} {:<18} {:>14} {what}{state}", p.server, p.point, p.bytes);
    }
    let bytes: u64 = doomed.iter().map(|p| p.bytes).sum();
    if yes {
        println!("{deleted} point(s) deleted, {bytes} bytes");
    } else {
        println!("dry run: {} point(s), {bytes} bytes would be deleted; add --yes to delete them", doomed.len());
    }
    Ok(())
}
