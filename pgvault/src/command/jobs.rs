//! `pgvault jobs`: the history of backups, restores and prunes recorded in a vault.

use serde::Serialize;

use crate::cli::Cli;
use crate::error::Error;
use crate::report::{table, Report};
use crate::vault::jobs::{self, JobRecord};

#[derive(Serialize)]
#[serde(transparent)]
pub struct Jobs(Vec<JobRecord>);

impl Report for Jobs {
    fn text(&self) -> String {
        let header = format!("{:<14} {:<12} {:<20} {:<18} {:<21} {:>8} {:>14}  error", "kind", "status", "server", "point", "started (UTC)", "seconds", "bytes");
        table(&self.0, "no job recorded", &header, |j| {
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
        })
    }
}

pub fn command(cli: &Cli, vault: &str, last: usize) -> Result<Jobs, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let mut found = jobs::list(&ctx)?;
    found.truncate(last);
    Ok(Jobs(found))
}
