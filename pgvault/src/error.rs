//! What can go wrong in pgvault, by kind: a flag's value, the storage settings, a storage
//! request, a vault's content, a PostgreSQL client program, a local file, problems found by
//! a check, an interruption. Each prints as the one line (or list) pgvault shows after
//! `pgvault: `. A failure exits with status 1, bad usage with 2 (as clap does for a flag it
//! refuses), an interruption with 3.

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::vault::points::MARKER;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag's value cannot be used.
    #[error("{flag}: {reason}")]
    Flag { flag: String, reason: String },
    /// What was asked for does not hold together: flags that exclude each other, a name or
    /// a time that is not valid, a database or point that is not there.
    #[error("{0}")]
    Usage(String),
    /// The storage settings (credentials, config file, endpoint) cannot be used.
    #[error("{0}")]
    Settings(String),
    /// A blob storage request failed; `doing` names what it was about, where that says more
    /// than the storage error itself.
    #[error("{}{source}", about(.doing))]
    Storage { doing: Option<String>, source: storage::Error },
    /// A point's manifest cannot be read.
    #[error("{folder}: no manifest ({source})")]
    NoManifest { folder: String, source: storage::Error },
    /// A point's manifest is not what pgvault writes.
    #[error("{folder}: the manifest is not readable: {source}")]
    BadManifest { folder: String, source: serde_json::Error },
    /// A point without its completion marker.
    #[error("{folder} is not a complete restore point: its {MARKER} marker cannot be read ({source})")]
    Incomplete { folder: String, source: storage::Error },
    /// Something else in a vault or a restore-as-files folder is not what it must be: a
    /// missing file, a job record that is not one, a file psql may not run.
    #[error("{0}")]
    Content(String),
    /// A PostgreSQL client program cannot be found or run, or answered nothing usable.
    #[error("{0}")]
    Postgres(String),
    /// A PostgreSQL client program exited with an error; `stderr` is what it said.
    #[error("{program} failed ({status}): {stderr}")]
    ProgramFailed { program: String, status: ExitStatus, stderr: String },
    /// A program stopped reading what pgvault sends it (its own error, if any, says why).
    #[error("{program} stopped reading: {source}")]
    StoppedReading { program: String, source: std::io::Error },
    /// A local file or directory; `what` names it.
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    /// Spooling a dump for a parallel restore.
    #[error("spooling into {}: {source} (--spool-dir names a place with room)", .dir.display())]
    Spool { dir: PathBuf, source: std::io::Error },
    /// Problems that stopped the work before it changed anything, one a line.
    #[error("{what}:\n  {}", .problems.join("\n  "))]
    Problems { what: String, problems: Vec<String> },
    /// Validation found problems (listed in the report).
    #[error("{point}: {count} problem(s)")]
    Invalid { point: String, count: usize },
    /// Ctrl-C or SIGTERM stopped the work; the error it ended with.
    #[error("interrupted: {0}")]
    Interrupted(Box<Error>),
    /// A restore failed; what it had done was undone, or could not be.
    #[error("{source}{}", undo_text(.undone, .left))]
    Undone { source: Box<Error>, undone: Vec<String>, left: Vec<String> },
    /// An error in the work on `subject` (a database, a file).
    #[error("{subject}: {source}")]
    About { subject: String, source: Box<Error> },
}

fn undo_text(undone: &[String], left: &[String]) -> String {
    let mut text = String::new();
    if !undone.is_empty() {
        text.push_str(&format!("\n  undone: {}", undone.join(", ")));
    }
    if !left.is_empty() {
        text.push_str(&format!("\n  not undone: {}", left.join("; ")));
    }
    text
}

fn about(doing: &Option<String>) -> String {
    doing.as_ref().map(|d| format!("{d}: ")).unwrap_or_default()
}

impl Error {
    /// A storage error in the work on `doing`.
    pub fn storage(doing: impl Into<String>, source: storage::Error) -> Error {
        Error::Storage { doing: Some(doing.into()), source }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { what: what.into(), source }
    }

    /// The exit status this error ends pgvault with.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Flag { .. } | Error::Usage(_) | Error::Settings(_) => 2,
            Error::Interrupted(_) => 3,
            Error::About { source, .. } => source.exit_code(),
            _ => 1,
        }
    }

    /// This error, as one in the work on `subject`.
    pub fn about(self, subject: impl Into<String>) -> Error {
        Error::About { subject: subject.into(), source: Box::new(self) }
    }
}

/// A storage error that needs no more words than its own.
impl From<storage::Error> for Error {
    fn from(source: storage::Error) -> Error {
        Error::Storage { doing: None, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let flag = Error::Flag { flag: "--vault".into(), reason: "\"nope\" is not <account>/<container>".into() };
        assert_eq!(flag.to_string(), "--vault: \"nope\" is not <account>/<container>");
        assert_eq!(Error::from(storage::Error::Cancelled).to_string(), "cancelled");
        assert_eq!(Error::storage("vault a/b", storage::Error::Cancelled).to_string(), "vault a/b: cancelled");
        let gone = Error::NoManifest { folder: "s/p".into(), source: storage::Error::BlobNotFound { container: "c".into(), blob: "b".into() } };
        assert_eq!(gone.to_string(), "s/p: no manifest (blob with the given name does not exist)");
        let problems = Error::Problems { what: "s/p was not restored; found".into(), problems: vec!["one".into(), "two".into()] };
        assert_eq!(problems.to_string(), "s/p was not restored; found:\n  one\n  two");
        assert_eq!(Error::Invalid { point: "s/p".into(), count: 2 }.to_string(), "s/p: 2 problem(s)");
        let nested = Error::Postgres("psql failed: no".into()).about("database app");
        assert_eq!(Error::Interrupted(Box::new(nested)).to_string(), "interrupted: database app: psql failed: no");
        let undone = Error::Undone { source: Box::new(Error::Content("f: altered".into())), undone: vec!["database \"a\" dropped".into(), "role r dropped".into()], left: vec!["x".into()] };
        assert_eq!(undone.to_string(), "f: altered\n  undone: database \"a\" dropped, role r dropped\n  not undone: x");
        let spool = Error::Spool { dir: "/tmp".into(), source: std::io::Error::other("full") };
        assert_eq!(spool.to_string(), "spooling into /tmp: full (--spool-dir names a place with room)");
        assert_eq!(Error::Usage("no".into()).about("x").exit_code(), 2);
        assert_eq!(Error::Interrupted(Box::new(Error::Usage("no".into()))).exit_code(), 3);
        assert_eq!(Error::Content("altered".into()).exit_code(), 1);
    }
}
