//! A tenant's content, users and analytics: `content`, `user`, `analytics`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum AnalyticsCmd {
    /// Merge raw events (events/{tenant}/…) into db/{tenant}/analytics.db: hourly counts per
    /// page and verb, visitors per day, referrers, entry pages. Safe to rerun or to kill:
    /// events are never counted twice, and raw events go only after their counts commit.
    #[command(
        after_help = "Examples:\n  t8k analytics rollup            (every tenant)\n  t8k analytics rollup acme harbor"
    )]
    Rollup {
        /// Tenants to roll up (default: all).
        tenants: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UsageCmd {
    /// Count each tenant's bandwidth (bytes and requests per day) from the access logs of
    /// the edge that serves the sites in production: nginx (the JSON lines `t8k edge nginx`
    /// configures, or `combined` with `$host` first), CloudFront standard logs (gzip) or S3
    /// server access logs. Requests are attributed by host (the host table) or, for S3, by
    /// the key `…/sites/{tenant}/…`. Rerun it as often as you like: each file or object is
    /// read from where the last run stopped (a rotated file from its top), a line still being
    /// written waits for the next run, and nothing is counted twice, even after a run killed
    /// half-way. Malformed lines are counted and shown, never fatal.
    #[command(after_help = "Examples:
  t8k usage ingest --format nginx /var/log/nginx/t8k-access.log
  t8k usage ingest --format cloudfront s3://my-logs/cloudfront/
  t8k --json usage ingest --format s3 ./s3-logs/ | jq .tenants")]
    Ingest {
        /// The log format.
        #[arg(long, value_enum)]
        format: AccessLogArg,
        /// Log files, folders of them, or an s3://bucket/prefix/ of log objects.
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<String>,
    },
    /// Check each tenant's month against its bandwidth limit (BANDWIDTH_QUOTA, set with
    /// `t8k tenant set-quota --bandwidth`): mail its admins at 80% and 100% (once each per
    /// month), mark a tenant whose policy is throttle or suspend for the edges, and lift last
    /// month's marks once the month has turned. `usage ingest` and `t8k serve` check the
    /// tenants they count; run this from cron (hourly, and just after midnight UTC on the
    /// first) so a month's turn reaches the edges.
    #[command(after_help = "Examples:
  t8k usage check
  t8k --json usage check acme | jq '.[0].percent'")]
    Check {
        /// Only these tenants (default: every tenant).
        #[arg(value_name = "TENANT")]
        tenants: Vec<String>,
    },
    /// Record today's usage snapshot (UTC) of every tenant — pages, users, storage, analytics
    /// size, the month's bandwidth, 30 days of visitors — and the installation's totals, in
    /// the data root (`stats/{tenant}/usage/`, `stats/_growth/`). Run it daily (cron, CI);
    /// a day already recorded is left as it is, so a second run changes nothing. `t8k report`
    /// draws growth, trends and projections from these.
    #[command(after_help = "Example (crontab, 00:10 UTC):\n  10 0 * * * t8k usage snapshot")]
    Snapshot,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AccessLogArg {
    Nginx,
    Cloudfront,
    S3,
}

#[derive(Subcommand, Debug)]
pub enum ContentCmd {
    /// Import a Hugo or Zola site (its folder, or its content/ folder) as story fragments at
    /// the addresses that generator gives them: `_index.md` is a section, `docs/intro.md` is
    /// /docs/intro/, an `index.md` folder is a page whose images and PDFs become media;
    /// `slug`, `url` (Hugo) and `path` (Zola) front matter, aliases (redirects), taxonomies,
    /// and the `ref`, `relref`, `highlight`, `param`, `figure`, `youtube`, `vimeo` and
    /// `details` shortcodes are kept. Headless pages are skipped. Every file is checked first;
    /// pages are written in one transaction.
    #[command(after_help = "Examples:
  t8k content import acme ./my-hugo-site --dry-run     (what would happen, per file)
  t8k content import acme ./my-zola-site/content
  t8k --json content import acme ./site --skip-invalid | jq '.report[] | select(.status != \"imported\")'")]
    Import {
        tenant: String,
        dir: PathBuf,
        /// Delete pages that are not in the folder.
        #[arg(long)]
        prune: bool,
        /// Read and check everything, report per file, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid files when some are broken (they are listed as errors).
        #[arg(long)]
        skip_invalid: bool,
        /// Whose addressing rules to follow (default: detected from hugo.toml / config.toml
        /// beside the content folder; Hugo when there is none).
        #[arg(long, value_enum)]
        generator: Option<GeneratorArg>,
    },
    /// Write every story fragment as a Markdown file with TOML front matter, in Hugo's layout
    /// (a path is folders, a section is `_index.md`), so importing it gives the same pages.
    Export {
        tenant: String,
        dir: PathBuf,
        /// Write into a folder that is not empty.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GeneratorArg {
    Hugo,
    Zola,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Admin,
    Editor,
}

/// Where a single password comes from.
#[derive(Args, Debug)]
pub struct OnePassword {
    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, hide = true, value_name = "PASSWORD")]
    pub password: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// List a tenant's accounts.
    List { tenant: String },
    /// Add a named account (counts against MAX_USERS).
    Add {
        tenant: String,
        username: String,
        #[arg(long, value_enum, default_value = "editor")]
        role: RoleArg,
        #[arg(long, default_value = "")]
        email: String,
        #[command(flatten)]
        password: OnePassword,
    },
    /// Set an account's password (`admin` and `editor` are the built-in accounts).
    Passwd {
        tenant: String,
        username: String,
        #[command(flatten)]
        password: OnePassword,
    },
    /// Disable a named account.
    Disable { tenant: String, username: String },
    /// Enable a named account.
    Enable { tenant: String, username: String },
    /// Check a password (exit code 0 if it is right, 1 if not).
    Verify {
        tenant: String,
        username: String,
        #[command(flatten)]
        password: OnePassword,
    },
}
