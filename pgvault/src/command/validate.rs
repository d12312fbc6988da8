//! `pgvault validate`: before a restore, every problem with a restore point and a target:
//! the point is complete, each file's size and SHA-256 match its manifest (vault::verify;
//! for an encrypted point the stored bytes, and with an identity the decrypted ones too),
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
    /// The recipients, when the point is encrypted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    encrypted_to: Vec<String>,
    /// Whether the plain bytes of encrypted files were checked (with an identity).
    decrypted: bool,
}

impl Report for Validation {
    fn text(&self) -> String {
        if self.valid {
            let how = match (self.encrypted_to.is_empty(), self.decrypted) {
                (true, _) => "",
                (false, true) => " (encrypted; decrypted and checked)",
                (false, false) => " (encrypted; stored bytes checked, contents not: give --identity to check them too)",
            };
            return format!("{}/{}: valid{how}\n", self.server, self.point);
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

pub fn command(cli: &Cli, vault: &str, point: &str, target: Option<&str>, prefix: &str, identity: Option<&std::path::Path>) -> Result<Validation, Error> {
    let key = super::identity(cli, identity)?;
    let ctx = super::open(cli, "--vault", vault)?;
    let (server, point) = verify::find_point(&ctx, point)?;
    let (manifest, mut problems) = verify::check_point(&ctx, &server, &point, key.as_ref())?;
    if let Some(target) = target {
        let (target, prefix) = target_location(cli, target, prefix)?;
        problems.extend(check_target(&target, &prefix));
    }
    let encrypted_to = manifest.and_then(|m| m.encryption).map(|e| e.recipients).unwrap_or_default();
    let decrypted = key.is_some() && !encrypted_to.is_empty();
    Ok(Validation { server, point, valid: problems.is_empty(), problems, encrypted_to, decrypted })
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
