//! `pgvault list`: the complete restore points of a vault, newest first.

use super::print_rows;
use crate::cli::Cli;
use crate::vault::{points, Vault};

pub fn command(cli: &Cli, vault: &str, server: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<(), String> {
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

