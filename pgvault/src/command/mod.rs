//! One module per command, each with one entry point, `command`, called by main.rs with
//! the parsed flags and returning a report (report.rs); and what the commands share:
//! opening a vault as a context, the keys of encryption, recording a job, asking whether to
//! stop.

pub mod backup;
pub mod drill;
pub mod generate;
pub mod jobs;
pub mod list;
pub mod prune;
pub mod restore;
pub mod restore_files;
pub mod validate;

use crate::cli::Cli;
use crate::error::Error;
use crate::progress::Progress;
use crate::report::Report;
use crate::vault::crypt::{Identity, Recipients};
use crate::vault::jobs::Job;
use crate::vault::{Context, Vault};

/// Whether Ctrl-C or SIGTERM asked pgvault to stop.
pub fn interrupted() -> bool {
    crate::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The vault `<account>/<container>` given as `flag`, with what the command's storage calls
/// need: the timeout of the command line, and Ctrl-C to stop them.
pub fn open(cli: &Cli, flag: &str, location: &str) -> Result<Context, Error> {
    Ok(context(cli, Vault::for_flag(flag, location, &cli.storage)?))
}

/// `open` for `<account>/<container>[/<prefix>]`, and the prefix ("" when none).
pub fn open_with_prefix(cli: &Cli, flag: &str, location: &str) -> Result<(Context, String), Error> {
    let (vault, prefix) = Vault::for_flag_with_prefix(flag, location, &cli.storage)?;
    Ok((context(cli, vault), prefix))
}

/// The public keys a backup encrypts to: those given (flags or environment), else the config
/// file's; none: the point is not encrypted.
pub fn recipients(cli: &Cli, given: &[String], files: &[std::path::PathBuf]) -> Result<Option<Recipients>, Error> {
    if given.is_empty() && files.is_empty() {
        Recipients::parse(&cli.storage.encrypt_to, cli.storage.recipients_file.as_slice())
    } else {
        Recipients::parse(given, files)
    }
}

/// The identity that decrypts a point: the one given (flag or environment), else the config
/// file's, if any.
pub fn identity(cli: &Cli, given: Option<&std::path::Path>) -> Result<Option<Identity>, Error> {
    given.or(cli.storage.identity.as_deref()).map(Identity::from_file).transpose()
}

fn context(cli: &Cli, vault: Vault) -> Context {
    Context::new(vault, cli.timeout(), interrupted)
}

/// Runs `work` as a job recorded in the context's vault; a job that cannot be recorded is
/// mentioned, and does not stop the work.
pub fn as_job<T>(ctx: &Context, kind: &str, detail: Option<String>, progress: &Progress, work: impl FnOnce(&Job) -> Result<T, Error>) -> Result<T, Error> {
    recorded(ctx, (kind, detail), progress, work, |_| None)
}

/// `as_job` for work whose report can itself mean failure (a drill that found a
/// difference): the job is recorded as failed with the report's error.
pub fn as_judged_job<T: Report>(ctx: &Context, kind: &str, detail: Option<String>, progress: &Progress, work: impl FnOnce(&Job) -> Result<T, Error>) -> Result<T, Error> {
    recorded(ctx, (kind, detail), progress, work, |report| report.outcome().err())
}

fn recorded<T>(ctx: &Context, (kind, detail): (&str, Option<String>), progress: &Progress, work: impl FnOnce(&Job) -> Result<T, Error>, judged: impl Fn(&T) -> Option<Error>) -> Result<T, Error> {
    let (job, problem) = Job::start(ctx, kind, detail);
    if let Some(problem) = problem {
        progress.note(&problem.to_string());
    }
    let outcome = work(&job);
    let failure = outcome.as_ref().ok().and_then(&judged);
    if let Err(problem) = job.finish(outcome.as_ref().err().or(failure.as_ref()), interrupted()) {
        progress.note(&problem.to_string());
    }
    outcome
}
