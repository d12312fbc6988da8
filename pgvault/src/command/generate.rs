//! `pgvault generate`: the manual pages and shell completions, made from the same clap
//! definitions as the command line itself (cli.rs), so they cannot drift from it. The
//! packages ship what this prints.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, Generated};
use crate::error::Error;

/// Prints `what` on standard output, or, for the manual with `out_dir`, writes one page per
/// command there.
pub fn command(what: Generated, out_dir: Option<&Path>) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let written = match (what, out_dir) {
        (Generated::Man, Some(dir)) => {
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
        }
        (Generated::Man, None) => clap_mangen::Man::new(Cli::command()).render(&mut out),
        (_, Some(_)) => return Err(Error::Usage("--out-dir goes with `generate man` only; completions print on standard output".into())),
        (shell, None) => {
            let shell = match shell {
                Generated::Bash => clap_complete::Shell::Bash,
                Generated::Zsh => clap_complete::Shell::Zsh,
                _ => clap_complete::Shell::Fish,
            };
            clap_complete::generate(shell, &mut Cli::command(), "pgvault", &mut out);
            Ok(())
        }
    };
    written.and_then(|()| out.flush()).map_err(|source| Error::Io {
        what: out_dir.map_or_else(|| "standard output".to_string(), |dir| dir.display().to_string()),
        source,
    })
}
