//! `t8k backup …` and `t8k restore`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Where the repository is and how to open it (every backup command takes these).
#[derive(Args, Debug, Clone)]
pub struct RepoArgs {
    /// The repository, instead of the one `t8k backup init` remembered: a folder or
    /// s3://bucket/prefix (its own endpoint from AWS_ENDPOINT_URL; use another provider than
    /// the data root's).
    #[arg(long, value_name = "DIR|s3://…", global = true)]
    pub repo: Option<String>,
    /// A file whose first line is the repository's passphrase (or set T8K_BACKUP_PASSPHRASE;
    /// never on the command line).
    #[arg(long, value_name = "FILE", global = true)]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  t8k backup init --to /backups/t8k --encrypt --passphrase-file ~/.t8k-backup-pass\n  t8k backup acme                # a snapshot of one tenant now\n  t8k backup --all\n  t8k backup --due               # from cron every hour: tenants due and changed\n  t8k backup list acme\n  t8k backup verify --full\n  t8k backup forget --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --prune\n  t8k restore acme --at 2026-11-29T12:00:00Z"
)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub cmd: Option<BackupCmd>,
    /// Tenants to back up now.
    pub tenants: Vec<String>,
    /// Every tenant.
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    /// Also (or only) the installation's own configuration: the registry and its entries,
    /// host keys, pending sign-ups, secrets and routes.json.
    #[arg(long)]
    pub installation: bool,
    /// The tenants whose schedule (BACKUP_SCHEDULE: hourly, daily, weekly, off) is due and whose
    /// files changed since their last snapshot: run it from cron or CI every hour.
    #[arg(long, conflicts_with_all = ["tenants", "all"])]
    pub due: bool,
    #[command(flatten)]
    pub repo: RepoArgs,
}

#[derive(Subcommand, Debug)]
pub enum BackupCmd {
    /// Create the backup repository and remember it for this installation.
    Init {
        /// A folder or s3://bucket/prefix, empty.
        #[arg(long, value_name = "DIR|s3://…")]
        to: String,
        /// Encrypt every object with age; the passphrase comes from --passphrase-file or
        /// T8K_BACKUP_PASSPHRASE.
        #[arg(long)]
        encrypt: bool,
        /// The tenants' default schedule (a tenant's BACKUP_SCHEDULE in env.json wins).
        #[arg(long, value_name = "hourly|daily|weekly|off", default_value = "daily")]
        schedule: String,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Snapshots, oldest first: time, tenant, size, bytes it added.
    List {
        tenant: Option<String>,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Check that every object each snapshot needs is there; --full also reads each back and
    /// checks its hash. Exit 1 naming the snapshot and object of any damage.
    Verify {
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Forget snapshots a retention policy does not keep (per tenant); --prune then deletes
    /// objects no snapshot needs (never while a backup runs).
    Forget {
        #[arg(long, default_value_t = 0)]
        keep_hourly: usize,
        #[arg(long, default_value_t = 0)]
        keep_daily: usize,
        #[arg(long, default_value_t = 0)]
        keep_weekly: usize,
        #[arg(long, default_value_t = 0)]
        keep_monthly: usize,
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  t8k restore acme                          # the newest snapshot, in place\n  t8k restore acme --at 2026-11-29T12:00:00Z\n  t8k restore acme --snapshot 20261129T120000Z-1a2b3c4d --as acme-copy\n  t8k restore acme --into ./acme-files       # look inside, change nothing\n  t8k restore --installation --into ./t8k-config\n\nIn place, the tenant's current state goes to the trash first (`t8k tenant trash` lists it;\n`t8k tenant restore acme --from trash/…` undoes the restore). A build is queued: run\n`t8k build --queued && t8k publish --changed` (or let CI) to bring the site back live."
)]
pub struct RestoreArgs {
    /// The tenant whose snapshot to restore.
    #[arg(required_unless_present = "installation")]
    pub tenant: Option<String>,
    /// The installation's configuration snapshot (`t8k backup --installation`): written out
    /// with --into, never over a running installation.
    #[arg(long, conflicts_with_all = ["tenant", "as_id"], requires = "into")]
    pub installation: bool,
    /// Write the snapshot's files (checked) under this folder, by their data-root keys,
    /// instead of restoring: nothing in the installation changes.
    #[arg(long, value_name = "DIR", conflicts_with = "as_id")]
    pub into: Option<std::path::PathBuf>,
    /// A snapshot id from `t8k backup list` (default: the newest).
    #[arg(long, conflicts_with = "at")]
    pub snapshot: Option<String>,
    /// The newest snapshot taken at or before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Restore into a new tenant with this id instead (claimed like a create).
    #[arg(long = "as", value_name = "NEW_ID")]
    pub as_id: Option<String>,
    #[command(flatten)]
    pub repo: RepoArgs,
}
