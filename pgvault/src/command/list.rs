//! `pgvault list`: the complete restore points of a vault, newest first, with whether (and
//! to whom) each is encrypted.

use serde::Serialize;

use crate::cli::Cli;
use crate::error::Error;
use crate::report::{table, Report};
use crate::vault::points::{self, PointSummary};

#[derive(Serialize)]
#[serde(transparent)]
pub struct Points(Vec<PointSummary>);

impl Report for Points {
    fn text(&self) -> String {
        let header = format!("{:<20} {:<18} {:<21} {:>9} {:>14}  {}", "server", "point", "started (UTC)", "databases", "bytes", "encrypted");
        table(&self.0, "no complete restore point", &header, |p| {
            let encrypted = match p.encrypted_to.len() {
                0 => "no".to_string(),
                1 => format!("age, to {}", p.encrypted_to[0]),
                n => format!("age, to {} and {} more", p.encrypted_to[0], n - 1),
            };
            format!("{:<20} {:<18} {:<21} {:>9} {:>14}  {encrypted}", p.server, p.point, p.started_at.format("%Y-%m-%d %H:%M:%S"), p.databases, p.bytes)
        })
    }
}

pub fn command(cli: &Cli, vault: &str, server: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<Points, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    if let Some(s) = server {
        points::validate_server(s)?;
    }
    let from = from.map(points::parse_time).transpose()?;
    let to = to.map(points::parse_time).transpose()?;
    Ok(Points(points::list(&ctx, server, from, to)?))
}
