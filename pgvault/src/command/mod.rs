//! One module per command, each with one entry point, `command`, called by main.rs with
//! the parsed flags; and what the commands share: recording a job, printing rows, asking
//! whether to stop.

pub mod backup;
pub mod jobs;
pub mod list;
pub mod prune;
pub mod restore;
pub mod restore_files;
pub mod validate;

use crate::cli::Cli;
use crate::progress::Progress;
use crate::vault::jobs::Job;
use crate::vault::Vault;

/// Whether Ctrl-C or SIGTERM asked pgvault to stop.
pub fn interrupted() -> bool {
    crate::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs `work` as a job recorded in `vault`; a job that cannot be recorded is mentioned,
/// and does not stop the work.
pub fn as_job<T>(vault: &Vault, kind: &str, detail: Option<String>, cli: &Cli, progress: &Progress, work: impl FnOnce(&Job) -> Result<T, String>) -> Result<T, String> {
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

/// Rows as JSON with --json, else a line saying there are none, or a header and a line each.
pub fn print_rows<T: serde::Serialize>(json: bool, rows: &[T], none: &str, header: &str, line: impl Fn(&T) -> String) {
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

