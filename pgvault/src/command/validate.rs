//! `pgvault validate`: before a restore, every problem with a restore point and a target:
//! the point is complete, each file's size and SHA-256 match its manifest (vault::verify),
//! and the target container exists and takes a write (a probe blob, written and deleted).

use storage::rest::Properties;
use storage::runtime::block_on;
use storage::RestClient;

use super::interrupted;
use crate::cli::Cli;
use crate::vault::{verify, Vault};

pub fn command(cli: &Cli, vault: &str, point: &str, target: Option<&str>, prefix: &str) -> Result<(), String> {
    let timeout = cli.timeout();
    let vault = Vault::for_flag("--vault", vault, &cli.storage)?;
    let (server, point) = verify::find_point(&vault, point, timeout)?;
    let (_, mut problems) = verify::check_point(&vault, &server, &point, timeout, &interrupted)?;
    if let Some(target) = target {
        let (target, prefix) = target_location(target, prefix, cli)?;
        problems.extend(check_target(&target, &prefix, timeout, &interrupted));
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
pub fn target_location(target: &str, prefix: &str, cli: &Cli) -> Result<(Vault, String), String> {
    let (vault, in_target) = Vault::for_flag_with_prefix("--target", target, &cli.storage)?;
    match (in_target.is_empty(), prefix.is_empty()) {
        (false, false) => Err(format!("--target \"{target}\" has a prefix and --prefix gives another; give it in one of them")),
        (false, true) => Ok((vault, in_target)),
        (true, _) => Ok((vault, prefix.to_string())),
    }
}

/// Problems with writing into `target` under `prefix`.
pub fn check_target(target: &Vault, prefix: &str, timeout: std::time::Duration, cancelled: &dyn Fn() -> bool) -> Vec<String> {
    let client = match RestClient::new(&target.account, timeout) {
        Ok(c) => c,
        Err(e) => return vec![format!("target {}/{}: {e}", target.account.name, target.container)],
    };
    let probe = format!("{prefix}.pgvault-probe-{:016x}", rand_suffix());
    let written = block_on(client.put_blob(&target.container, &probe, b"probe".to_vec().into(), &Properties::default()), cancelled)
        .and_then(|_| block_on(client.delete_blob(&target.container, &probe), cancelled));
    match written {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!("target {}/{} cannot be written: {e}", target.account.name, target.container)],
    }
}

fn rand_suffix() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}
