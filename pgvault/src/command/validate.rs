//! `pgvault validate`: before a restore, every problem with a restore point and a target:
//! the point is complete, each file's size and SHA-256 match its manifest (vault::verify),
//! and the target container exists and takes a write (a probe blob, written and deleted).

use serde::Serialize;
use storage::rest::Properties;

use crate::cli::Cli;
use crate::error::Error;
use crate::report::Report;
use crate::vault::{verify, Context};

#[derive(Serialize)]
pub struct Validation {
    server: String,
    point: String,
    valid: bool,
    problems: Vec<String>,
}

impl Report for Validation {
    fn text(&self) -> String {
        if self.valid {
            return format!("{}/{}: valid\n", self.server, self.point);
        }
        self.problems.iter().map(|p| format!("problem: {p}\n")).collect()
    }

    fn outcome(&self) -> Result<(), Error> {
        if self.valid {
            Ok(())
        } else {
            Err(Error::Invalid { point: format!("{}/{}", self.server, self.point), count: self.problems.len() })
        }
    }
}

pub fn command(cli: &Cli, vault: &str, point: &str, target: Option<&str>, prefix: &str) -> Result<Validation, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let (server, point) = verify::find_point(&ctx, point)?;
    let (_, mut problems) = verify::check_point(&ctx, &server, &point)?;
    if let Some(target) = target {
        let (target, prefix) = target_location(cli, target, prefix)?;
        problems.extend(check_target(&target, &prefix));
    }
    Ok(Validation { server, point, valid: problems.is_empty(), problems })
}

/// `--target <account>/<container>[/<prefix>]` and `--prefix`: the prefix in one of them.
pub fn target_location(cli: &Cli, target: &str, prefix: &str) -> Result<(Context, String), Error> {
    let (ctx, in_target) = super::open_with_prefix(cli, "--target", target)?;
    match (in_target.is_empty(), prefix.is_empty()) {
        (false, false) => Err(Error::Usage(format!("--target \"{target}\" has a prefix and --prefix gives another; give it in one of them"))),
        (false, true) => Ok((ctx, in_target)),
        (true, _) => Ok((ctx, prefix.to_string())),
    }
}

/// Problems with writing into `target` under `prefix`.
pub fn check_target(target: &Context, prefix: &str) -> Vec<String> {
    let client = match target.client() {
        Ok(c) => c,
        Err(e) => return vec![format!("target {}: {e}", target.name())],
    };
    let container = &target.vault.container;
    let probe = format!("{prefix}.pgvault-probe-{:016x}", rand_suffix());
    let written = target.run(client.put_blob(container, &probe, b"probe".to_vec().into(), &Properties::default())).and_then(|_| target.run(client.delete_blob(container, &probe)));
    match written {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!("target {} cannot be written: {e}", target.name())],
    }
}

fn rand_suffix() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}
