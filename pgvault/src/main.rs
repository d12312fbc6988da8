//! pgvault: whole-server PostgreSQL backups into an Azure Blob Storage vault.
//!
//! The command line is in place; backup, restore points, validation, restores, jobs and
//! retention come with their own changes.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "pgvault",
    version,
    about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault",
    long_about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault \
                  (pg_dump custom format per database, pg_dumpall roles and tablespaces), list \
                  restore points, restore a point as files in Azure Backup's layout or into a \
                  server with pg_restore, and prune by retention.\n\n\
                  This version only answers --help and --version."
)]
struct Cli {}

fn main() {
    Cli::parse();
    eprintln!("pgvault: no command yet; see pgvault --help");
    std::process::exit(2);
}
