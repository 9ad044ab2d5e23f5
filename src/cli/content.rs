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
pub enum ContentCmd {
    /// Import a folder of Markdown files (TOML `+++` or YAML `---` front matter: title, slug,
    /// description, date, draft, weight, menu) as story fragments, in one transaction.
    Import {
        tenant: String,
        dir: PathBuf,
        /// Delete pages that are not in the folder.
        #[arg(long)]
        prune: bool,
    },
    /// Write every story fragment as a Markdown file with TOML front matter.
    Export {
        tenant: String,
        dir: PathBuf,
        /// Write into a folder that is not empty.
        #[arg(long)]
        force: bool,
    },
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
