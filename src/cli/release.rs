//! Platform updates: published theme versions (`theme`), rollouts onto tenant cohorts
//! (`rollout`) and maintenance notices (`notice`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::BuildTarget;

#[derive(Subcommand, Debug)]
pub enum ThemeCmd {
    /// Publish a theme folder as the theme's next version (themes/{name}/{version}/ in the data
    /// root), after checking that it compiles. The same files pushed again are the same
    /// version. The first version starts both channels; later ones reach tenants through
    /// `t8k rollout`.
    #[command(
        after_help = "Examples:\n  t8k theme push themes/default\n  t8k theme push ./my-theme --name default"
    )]
    Push {
        /// The theme folder: theme.toml, templates/, static/.
        dir: PathBuf,
        /// The theme's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// List published themes, or one theme's versions, channels and running rollout.
    List { name: Option<String> },
    /// Point a channel (stable or canary) at a version by hand: every tenant that follows the
    /// channel and is not pinned builds with it at the next build. A rollout does this step
    /// by step, with checks; this does not check anything.
    Channel {
        /// NAME@VERSION, e.g. default@3.
        spec: String,
        #[arg(value_parser = ["stable", "canary"])]
        channel: String,
    },
}

/// Which tenants a step adds (one of them).
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct CohortArgs {
    /// Reach this share of the theme's active tenants (each step's cohort contains the last).
    #[arg(long, value_name = "1-100")]
    pub percent: Option<u32>,
    /// These tenants (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub tenants: Option<Vec<String>>,
    /// The tenants following this channel (canary: tenants who opted in).
    #[arg(long, value_parser = ["stable", "canary"])]
    pub channel: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RolloutCmd {
    /// Start rolling a published theme version out: its first cohort is built with it into a
    /// staging folder and compared with its current bundles. A build error, a broken link or a
    /// lost page halts the rollout with nothing published; otherwise the cohort is pinned to
    /// the version, built and published.
    #[command(
        after_help = "Examples:\n  t8k rollout start default@4 --percent 5\n  t8k rollout start default@4 --channel canary\n  t8k rollout start default@4 --tenants acme,harbor --to s3://sites"
    )]
    Start {
        /// NAME@VERSION, e.g. default@4.
        spec: String,
        #[command(flatten)]
        cohort: CohortArgs,
        #[command(flatten)]
        target: BuildTarget,
    },
    /// Take the next step: the same checks, then the new cohort tenants go live. At 100% the
    /// channels name the version and the rollout is complete. A halted rollout is retried.
    #[command(
        after_help = "Examples:\n  t8k rollout advance --percent 25\n  t8k rollout advance default-4 --percent 100"
    )]
    Advance {
        /// The rollout (default: the one running).
        id: Option<String>,
        #[command(flatten)]
        cohort: CohortArgs,
        #[command(flatten)]
        target: BuildTarget,
    },
    /// A rollout's cohort, steps, reports and halt cause (default: every rollout, newest first).
    Status { id: Option<String> },
    /// Stop advancing (also frees a step whose process died); `advance` resumes, `abort` undoes.
    Halt {
        id: Option<String>,
        /// Why, for the record.
        #[arg(long, default_value = "halted by an operator")]
        reason: String,
    },
    /// Put every tenant the rollout moved back on its previous theme version, with its
    /// previous deploy live again (byte for byte what was served before).
    Abort {
        id: Option<String>,
        #[command(flatten)]
        target: BuildTarget,
    },
}

#[derive(Subcommand, Debug)]
pub enum NoticeCmd {
    /// Record a maintenance notice and mail the admins of the tenants it concerns (once each).
    /// With --banner, their sites show it while it lasts (from the first build in the window;
    /// `t8k build --changed` builds them as it starts and ends).
    #[command(
        after_help = "Examples:\n  t8k notice create --message \"Database upgrade\" --starts 2026-12-01T02:00:00Z --ends 2026-12-01T03:00:00Z --all --banner\n  t8k notice create --message \"New theme\" --starts now --ends 2026-12-02T00:00:00Z --cohort default-4"
    )]
    Create {
        /// What happens, in a sentence (1–500 characters).
        #[arg(long)]
        message: String,
        /// RFC 3339 (2026-12-01T02:00:00Z) or `now`.
        #[arg(long)]
        starts: String,
        /// RFC 3339, after --starts.
        #[arg(long)]
        ends: String,
        /// The tenants it concerns (comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "IDS", conflicts_with_all = ["all", "cohort"])]
        tenants: Vec<String>,
        /// Every tenant.
        #[arg(long, conflicts_with = "cohort")]
        all: bool,
        /// The tenants a rollout has moved.
        #[arg(long, value_name = "ROLLOUT")]
        cohort: Option<String>,
        /// Show it on the sites as a banner while it lasts.
        #[arg(long)]
        banner: bool,
    },
    /// Current and upcoming notices (and those that ended, with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mail the admins a notice has not reached yet (after a mail server failed).
    Announce { id: String },
    /// Withdraw a notice; its banners go at the sites' next build.
    Delete { id: String },
}
