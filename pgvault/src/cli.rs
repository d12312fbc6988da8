//! pgvault's command line: every flag of every command, in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::vault::StorageArgs;

#[derive(Parser)]
#[command(
    name = "pgvault",
    version,
    about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault",
    long_about = "Back up every database of a PostgreSQL server into an Azure Blob Storage vault \
                  (pg_dump custom format per database, pg_dumpall roles, schema and tablespaces), \
                  list the restore points, validate one, restore it as files in Azure \
                  Backup's layout or into a server, keep a history of jobs, and prune by \
                  retention.\n\n\
                  PostgreSQL is reached as a connection string (--source-db, --target-db) or \
                  libpq's environment says (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...). The storage account's credential comes from --key-file, \
                  --sas-token-file or --connection-string-file (files only their owner may read), \
                  from AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, \
                  or from --key, --sas-token or --connection-string (a command line shows to other \
                  local users until pgvault hides it, a moment after it starts); or is an Entra ID \
                  identity: a service principal (--tenant-id, --client-id, --client-secret-file or \
                  AZURE_CLIENT_SECRET), a workload identity (--tenant-id, \
                  --client-id, --federated-token-file, or Kubernetes' AZURE_* variables) or, with \
                  --managed-identity, the host's managed identity; or comes from a config file \
                  (--config, default ~/.config/pgvault/config.toml; mode 600 when it holds a \
                  credential). With none, requests are anonymous (public containers).\n\n\
                  Exit status: 0 done, 1 failed (or found a problem), 2 bad usage (a flag or value \
                  that cannot be used), 3 interrupted (SIGINT or SIGTERM).",
    after_help = "Examples:\n  \
                  PGHOST=db1 pgvault backup --vault myaccount/backups --server db1\n  \
                  pgvault list --vault myaccount/backups --server db1 --from 2026-11-01\n  \
                  pgvault validate --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores\n  \
                  pgvault restore-files --vault myaccount/backups --point db1/20261123T223000Z --target myaccount/restores --prefix drill/\n  \
                  pgvault restore --vault myaccount/backups --point db1/20261123T223000Z --target-db postgresql://admin@db2/postgres --create --globals -j 4\n  \
                  pgvault restore --from myaccount/restores/drill --target-db 'host=db2 user=admin' --database app --create\n  \
                  pgvault jobs --vault myaccount/backups\n  \
                  pgvault drill --vault myaccount/backups --server db1 --identity /etc/pgvault/drill-key.txt\n  \
                  pgvault prune --vault myaccount/backups --keep-last 4 --keep-monthly 12 --yes\n  \
                  pgvault list --vault devstoreaccount1/backups --endpoint http://127.0.0.1:10000/{account} --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Directory of pg_dump, pg_dumpall, psql and pg_restore (default: PATH).
    #[arg(long, global = true)]
    pub pg_bin: Option<PathBuf>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log what pgvault does to standard error (-v: steps, -vv: requests too).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand)]
pub enum Commands {
    /// Make one restore point of the whole server.
    #[command(after_help = "The point is complete when its backupstarttimestamp marker is written, last. \
                            A failed or interrupted backup leaves no marker and is never listed. With \
                            --encrypt-to each file is encrypted with age as it streams (names end in .age; \
                            `age -d -i key.txt` decrypts one); the manifest stays readable and records the \
                            recipients and, for each file, the size and SHA-256 of its encrypted and of its \
                            plain bytes.")]
    Backup {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Name of the server in the vault (a folder).
        #[arg(long)]
        server: String,
        /// Back up only these databases (repeatable).
        #[arg(long)]
        include: Vec<String>,
        /// Leave these databases out (repeatable).
        #[arg(long)]
        exclude: Vec<String>,
        /// Databases dumped at once.
        #[arg(long, short = 'j', default_value_t = 2)]
        jobs: usize,
        /// Fail a database's dump when a table lock is not granted within this many
        /// milliseconds (pg_dump --lock-wait-timeout), instead of waiting.
        #[arg(long)]
        lock_wait_timeout: Option<u64>,
        /// The server, as a connection string or URI (default: libpq's environment);
        /// its database name does not matter.
        #[arg(long)]
        source_db: Option<String>,
        /// Encrypt every file of the point with age to this public key (age1..., as
        /// age-keygen prints it); repeatable, or comma-separated in PGVAULT_ENCRYPT_TO, or
        /// `encrypt_to = [...]` in the config file. The backup host needs no secret.
        #[arg(long, value_name = "RECIPIENT", env = "PGVAULT_ENCRYPT_TO", value_delimiter = ',')]
        encrypt_to: Vec<String>,
        /// A file of age public keys to encrypt to, one a line (# comments), as age -R reads
        /// it; repeatable (or `recipients_file` in the config file).
        #[arg(long, value_name = "FILE", env = "PGVAULT_RECIPIENTS_FILE")]
        recipients_file: Vec<PathBuf>,
        /// Leave out the tables' row counts (taken in the dump's own snapshot while pg_dump
        /// reads; `pgvault drill` checks a restore against them).
        #[arg(long)]
        no_row_counts: bool,
    },
    /// Prove that a restore point restores: into a scratch PostgreSQL, then check it.
    #[command(after_help = "pgvault starts a scratch PostgreSQL with the server programs of this host (initdb \
                            into a temporary directory, a free port on 127.0.0.1, removed afterwards; as root, \
                            it runs as the postgres user): --pg-bin names their directory, else the newest of \
                            PATH, pg_config --bindir and /usr/lib/postgresql/*/bin that is at least the point's \
                            major is used. The roles and tablespaces are restored first (tablespaces in the \
                            scratch directory), then each database with pg_restore --create (postgres into the \
                            one initdb made). Each database \
                            passes when pg_restore exits 0, every table of its dump's table of contents exists, \
                            and every table's rows equal the count recorded at backup time. Prints a verdict per \
                            database, records a drill job, and exits 1 when any database fails.\n\n\
                            --target-db restores into a server you give instead: each database D as \
                            pgvault_drill_D (which must not exist), without owners, privileges or tablespaces, \
                            dropped afterwards.")]
    Drill {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        point: Option<String>,
        /// The newest complete point of this server.
        #[arg(long)]
        server: Option<String>,
        /// Drill only these databases (repeatable).
        #[arg(long)]
        database: Vec<String>,
        /// A server to restore into instead of a scratch one, as a connection string or URI.
        #[arg(long)]
        target_db: Option<String>,
        /// age identity file that decrypts an encrypted point; or PGVAULT_IDENTITY, or
        /// `identity` in the config file.
        #[arg(long, value_name = "FILE", env = "PGVAULT_IDENTITY")]
        identity: Option<PathBuf>,
    },
    /// Restore databases (and on request roles and tablespaces) into a server.
    #[command(after_help = "A point is read once: each dump streams into pg_restore (decrypted with --identity \
                            when the point is encrypted) and is checked against the manifest (size and SHA-256) \
                            on the way; the end of each file is held back until it matches, and a restore that \
                            fails leaves the target as it was: databases it created are dropped, a restore into \
                            an existing database runs in one transaction, roles and tablespaces it created are \
                            dropped. A missing or wrong identity, a dump of a newer pg_dump, or a problem with \
                            the roles, tablespaces or target is reported before anything changes. --check-first \
                            reads every file whole first instead (two reads). With more jobs each dump is \
                            spooled to a temporary file and checked before pg_restore starts (pg_restore needs \
                            a file to work in parallel, and cannot then use one transaction). --globals restores \
                            roles then tablespaces with psql first, leaving out those that exist on the target. \
                            --from reads files Azure Backup restored into a container (<name>_database_<db>.sql, \
                            _roles, _schema or _schemas, _tablespaces, backupstarttimestamp; .age after each when \
                            restored with --keep-encrypted); these carry no checksums.\n\n\
                            What goes to psql (roles, tablespaces, dumps in plain SQL) is read as psql \
                            reads it: a psql meta-command (\\! runs a shell command) other than the \\connect \
                            <database>, \\encoding, \\restrict and \\unrestrict lines pg_dump writes refuses the \
                            restore, naming the file and line, before psql sees that line (roles and tablespaces \
                            are read whole before anything changes; a plain-SQL dump as it streams, and the \
                            restore is then undone). psql runs \
                            with -X and ON_ERROR_STOP, and, where it has \\restrict (13.22, 14.19, 15.14, 16.10, \
                            17.6, 18), restricted to SQL but for those lines.")]
    Restore {
        /// Vault: <account>/<container>, or a URL naming a container (with --point).
        #[arg(long, requires = "point")]
        vault: Option<String>,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long, conflicts_with = "from")]
        point: Option<String>,
        /// Restore-as-files output instead of a point: <account>/<container>[/<prefix>], or a URL
        /// (abfss://<container>@<account>.dfs.core.windows.net/<prefix>, ...).
        #[arg(long, required_unless_present = "point")]
        from: Option<String>,
        /// The server to restore into, as a connection string or URI (its database name
        /// does not matter); default: libpq's environment.
        #[arg(long)]
        target_db: Option<String>,
        /// Restore only these databases (repeatable).
        #[arg(long)]
        database: Vec<String>,
        /// pg_restore jobs per database; above 1 the dump is spooled to a temporary file.
        #[arg(long, short = 'j', default_value_t = 1)]
        jobs: usize,
        /// Create each database (it must not exist, unless --clean).
        #[arg(long)]
        create: bool,
        /// Drop each object (with --create: each database) before restoring it.
        #[arg(long)]
        clean: bool,
        /// Restore roles and tablespaces first.
        #[arg(long)]
        globals: bool,
        /// With --globals: leave out the roles and attributes only Azure Database for
        /// PostgreSQL has (azure_pg_admin, azuresu, azure_superuser, replication,
        /// NOSUPERUSER, NOBYPASSRLS).
        #[arg(long, requires = "globals")]
        drop_azure_roles: bool,
        /// Do not restore object owners (pg_restore --no-owner).
        #[arg(long)]
        no_owner: bool,
        /// Do not restore privileges (pg_restore --no-privileges).
        #[arg(long)]
        no_privileges: bool,
        /// Where dumps are spooled with -j above 1 (default: the temporary directory).
        #[arg(long)]
        spool_dir: Option<PathBuf>,
        /// age identity file (AGE-SECRET-KEY-1..., as age-keygen writes it; only its owner
        /// may read it) that decrypts an encrypted point; or PGVAULT_IDENTITY, or `identity`
        /// in the config file.
        #[arg(long, value_name = "FILE", env = "PGVAULT_IDENTITY")]
        identity: Option<PathBuf>,
        /// Read every file whole and check it before restoring anything (two reads), instead
        /// of checking each file as it streams into pg_restore.
        #[arg(long)]
        check_first: bool,
    },
    /// The history of backup, restore-files, restore and drill jobs, newest first.
    Jobs {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Show at most this many jobs.
        #[arg(long, default_value_t = 50)]
        last: usize,
    },
    /// Delete the restore points no retention rule keeps (dry run unless --yes).
    #[command(after_help = "Each server's newest complete point always stays. Incomplete points (no marker) \
                            older than a day are deleted too. A point is deleted marker first.")]
    Prune {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Keep each server's newest N points.
        #[arg(long, default_value_t = 0)]
        keep_last: usize,
        /// Keep the points of the last D days.
        #[arg(long)]
        keep_days: Option<u64>,
        /// Keep the newest point of each of the last W weeks that have one.
        #[arg(long, default_value_t = 0)]
        keep_weekly: usize,
        /// Keep the newest point of each of the last M months that have one.
        #[arg(long, default_value_t = 0)]
        keep_monthly: usize,
        /// Delete; without it, only say what would be deleted.
        #[arg(long)]
        yes: bool,
    },
    /// Check a restore point and a restore target; print every problem.
    #[command(after_help = "Checks that the point is complete, that every file's size and SHA-256 match \
                            its manifest (for an encrypted point, of the encrypted bytes; with --identity, of \
                            the decrypted bytes too), and that the target container exists and can be written \
                            (a probe blob is written and deleted). Exits 1 when anything is wrong.")]
    Validate {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long)]
        point: String,
        /// Target of a restore as files: <account>/<container>[/<prefix>], or a URL (same credentials).
        #[arg(long)]
        target: Option<String>,
        /// Prefix of the restored files in the target.
        #[arg(long, default_value = "")]
        prefix: String,
        /// age identity file (AGE-SECRET-KEY-1..., as age-keygen writes it; only its owner
        /// may read it) with which the plain bytes of an encrypted point are checked too; or PGVAULT_IDENTITY, or `identity`
        /// in the config file.
        #[arg(long, value_name = "FILE", env = "PGVAULT_IDENTITY")]
        identity: Option<PathBuf>,
    },
    /// Put a restore point into a container in Azure Backup's restore-as-files layout.
    #[command(name = "restore-files", after_help = "Validates the point and the target first. Writes <prefix><point>_database_<db>.sql \
                            for each database, <prefix><point>_roles.sql, _schema.sql, _tablespaces.sql, \
                            and last <prefix>backupstarttimestamp. Each file is checked against the \
                            manifest's SHA-256 before it becomes visible. An encrypted point is decrypted with \
                            --identity, or copied encrypted with --keep-encrypted (each name then ends in .age; \
                            age -d -i key.txt decrypts them).")]
    RestoreFiles {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Restore point: <server>/<point>, or <point> when one server has it.
        #[arg(long)]
        point: String,
        /// Target: <account>/<container>[/<prefix>], or a URL such as
        /// abfss://<container>@<account>.dfs.core.windows.net/<prefix> (same credentials).
        #[arg(long)]
        target: String,
        /// Prefix of the restored files in the target, e.g. "drill-2026-11/".
        #[arg(long, default_value = "")]
        prefix: String,
        /// age identity file (AGE-SECRET-KEY-1..., as age-keygen writes it; only its owner
        /// may read it) that decrypts an encrypted point; or PGVAULT_IDENTITY, or `identity`
        /// in the config file.
        #[arg(long, value_name = "FILE", env = "PGVAULT_IDENTITY")]
        identity: Option<PathBuf>,
        /// Copy an encrypted point's files as they are stored, encrypted, named with an
        /// .age suffix (no identity needed).
        #[arg(long, conflicts_with = "identity")]
        keep_encrypted: bool,
    },
    /// List complete restore points, newest first.
    List {
        /// Vault: <account>/<container>, or a URL naming a container
        /// (abfss://<container>@<account>.dfs.core.windows.net, https://<account>.blob.core.windows.net/<container>, az://<container>, ...).
        #[arg(long)]
        vault: String,
        /// Only this server's points.
        #[arg(long)]
        server: Option<String>,
        /// Only points started at or after this time (RFC 3339, or a date).
        #[arg(long)]
        from: Option<String>,
        /// Only points started at or before this time.
        #[arg(long)]
        to: Option<String>,
    },
    /// Print pgvault's manual page (roff) or a shell's completion script.
    #[command(after_help = "Examples:\n  \
                            pgvault generate man | man -l -\n  \
                            pgvault generate man --out-dir /usr/local/share/man/man1\n  \
                            pgvault generate bash > /etc/bash_completion.d/pgvault\n  \
                            pgvault generate zsh > /usr/local/share/zsh/site-functions/_pgvault")]
    Generate {
        /// What to print.
        #[arg(value_enum)]
        what: Generated,
        /// With man: write pgvault.1 and one page per command (pgvault-backup.1, ...)
        /// into this directory instead of printing pgvault.1.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// What `pgvault generate` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Generated {
    /// The manual page, pgvault(1), in roff.
    Man,
    /// Completions for bash.
    Bash,
    /// Completions for zsh.
    Zsh,
    /// Completions for fish.
    Fish,
}

impl Cli {
    pub fn timeout(&self) -> Duration {
        self.storage.timeout()
    }
}

