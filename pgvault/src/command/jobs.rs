//! `pgvault jobs`: the history of backups, restores and prunes recorded in a vault.

use super::print_rows;
use crate::cli::Cli;
use crate::vault::{jobs, Vault};

pub fn command(cli: &Cli, vault: &str, last: usize) -> Result<(), String> {
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

