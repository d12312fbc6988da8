//! pgvault: whole-server PostgreSQL backups into an Azure Blob Storage vault.

mod cli;
mod command;
mod error;
mod postgres;
mod progress;
mod report;
mod secrets;
mod vault;

use std::sync::atomic::{AtomicBool, Ordering};

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Commands};
use crate::command::{backup, drill, generate, interrupted, jobs, list, prune, restore, restore_files, validate};
use crate::error::Error;
use crate::postgres::Postgres;
use crate::report::Report;

pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
    postgres::stop_all();
}


fn main() {
    let matches = Cli::command().get_matches();
    // Made from the flags alone: no credentials, config file or storage settings are read.
    if let Some(("generate", args)) = matches.subcommand() {
        let what = *args.get_one::<cli::Generated>("what").expect("clap requires it");
        let out_dir = args.get_one::<std::path::PathBuf>("out_dir");
        generate::command(what, out_dir.map(|p| p.as_path())).unwrap_or_else(|e| fail(e));
        return;
    }
    // Credentials typed on the command line are hidden from other users at once.
    let hidden = secrets::hide_from_command_line();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = hidden {
        eprintln!("pgvault: warning: {e}");
    }
    let on_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    cli.storage = cli.storage.clone().with_files(&on_command_line).and_then(vault::StorageArgs::with_config).unwrap_or_else(|e| fail(e));
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
        Commands::Backup { vault, server, include, exclude, jobs, lock_wait_timeout, source_db, encrypt_to, recipients_file, no_row_counts } => {
            let outcome = command::recipients(&cli, encrypt_to, recipients_file).and_then(|recipients| {
                let options = backup::BackupOptions {
                    server: server.clone(),
                    include: include.clone(),
                    exclude: exclude.clone(),
                    jobs: *jobs,
                    lock_wait_timeout: *lock_wait_timeout,
                    recipients,
                    row_counts: !*no_row_counts,
                };
                backup::command(&cli, vault, source_db.clone(), &options)
            });
            show(&cli, outcome)
        }
        Commands::Validate { vault, point, target, prefix, identity } => show(&cli, validate::command(&cli, vault, point, target.as_deref(), prefix, identity.as_deref())),
        Commands::RestoreFiles { vault, point, target, prefix, identity, keep_encrypted } => {
            show(&cli, restore_files::command(&cli, vault, point, (target, prefix), identity.as_deref(), *keep_encrypted))
        }
        Commands::Restore { vault, point, from, target_db, database, jobs, create, clean, globals, drop_azure_roles, no_owner, no_privileges, spool_dir, identity, check_first } => {
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
                identity: identity.clone(),
                check_first: *check_first,
                ..Default::default()
            };
            let pg = Postgres::new(cli.pg_bin.clone(), target_db.clone());
            show(&cli, restore::command(&cli, (vault.as_deref(), point.as_deref(), from.as_deref()), &pg, &options))
        }
        Commands::Drill { vault, point, server, database, target_db, identity } => {
            let which = match (point, server) {
                (Some(point), _) => drill::Which::Point(point.clone()),
                (None, server) => drill::Which::Newest(server.clone().unwrap_or_default()),
            };
            show(&cli, drill::command(&cli, vault, &which, database, target_db.as_deref(), identity.as_deref()))
        }
        Commands::List { vault, server, from, to } => show(&cli, list::command(&cli, vault, server.as_deref(), from.as_deref(), to.as_deref())),
        Commands::Jobs { vault, last } => show(&cli, jobs::command(&cli, vault, *last)),
        Commands::Prune { vault, keep_last, keep_days, keep_weekly, keep_monthly, yes } => {
            let policy = prune::Policy { keep_last: *keep_last, keep_days: *keep_days, keep_weekly: *keep_weekly, keep_monthly: *keep_monthly };
            show(&cli, prune::command(&cli, vault, &policy, *yes))
        }
        Commands::Generate { .. } => unreachable!("answered before the storage settings are read"),
    };
    if let Err(e) = outcome {
        fail(if interrupted() { Error::Interrupted(Box::new(e)) } else { e });
    }
}

/// Prints a command's report on standard output, as `--json` asks; then the failure the
/// report may mean.
fn show(cli: &Cli, outcome: Result<impl Report, Error>) -> Result<(), Error> {
    let report = outcome?;
    print!("{}", report.render(cli.json));
    report.outcome()
}

/// Says what went wrong and exits: 2 for bad usage (as for a flag clap refuses), 3 when
/// interrupted, else 1.
fn fail(e: Error) -> ! {
    eprintln!("pgvault: {e}");
    std::process::exit(e.exit_code())
}

