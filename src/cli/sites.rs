//! Building, previewing and publishing sites: `build`, `serve`, `publish` and the options they
//! share (themes, the bundle store).

use std::path::PathBuf;

use clap::Args;

/// The bundle store deploys go to.
#[derive(Args, Debug, Clone, Default)]
pub struct ToArgs {
    /// Bundle store: s3://bucket/prefix or a directory (default: the data root itself). It
    /// needs no conditional writes, so any S3-compatible store will do.
    #[arg(long, value_name = "DIR|S3")]
    pub to: Option<String>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "The CI job on content change is:\n  t8k build --changed && t8k publish --changed"
)]
pub struct PublishArgs {
    /// Tenants to publish (default: every active tenant and the main site).
    pub tenants: Vec<String>,
    /// Publish every active tenant and the main site (the default when none is named).
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    /// Skip tenants whose live deploy was made from the same build fingerprint.
    #[arg(long)]
    pub changed: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub concurrency: usize,
    /// Publish only shard I of N (the tenants `t8k build --shard I/N` built).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Where the built bundles are (default: the data root's build/).
    #[arg(long, value_name = "DIR")]
    pub bundles: Option<PathBuf>,
    #[command(flatten)]
    pub to: ToArgs,
}

/// Where themes come from.
#[derive(Args, Debug, Clone)]
pub struct ThemeArgs {
    /// Folder of themes (themes/<name>/{theme.toml, templates/, static/}); default: the data
    /// root's themes/, else ./themes, else the themes shipped with t8k.
    #[arg(long, env = "T8K_THEMES", value_name = "DIR")]
    pub themes: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  t8k build                       every active tenant and the main site\n  \
t8k build acme harbor           two tenants\n  t8k build --changed             skip tenants whose sources did not change\n  \
t8k build --changed --shard 2/4 this CI runner's quarter of the tenants"
)]
pub struct BuildArgs {
    /// Tenants to build (default: all active tenants and the main site).
    pub tenants: Vec<String>,
    /// Build every active tenant and the main site (the default when no tenant is named).
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    /// Build only what changed since the last `--changed` run into this folder: tenants in the
    /// build queue (every content or settings change queues its tenant), tenants with no bundle
    /// yet, and every tenant after a theme or t8k upgrade — each skipped if its source
    /// fingerprint (content, env.json, theme, builder) is unchanged. A no-op costs two listings,
    /// not one database per tenant.
    #[arg(long)]
    pub changed: bool,
    /// With --changed: fingerprint every active tenant instead of trusting the queue (finds
    /// changes made behind t8k's back, e.g. a database edited by hand).
    #[arg(long, requires = "changed")]
    pub rescan: bool,
    /// Build the tenants that asked for a build (queue/builds/: sign-ups, content edits) and
    /// clear their requests.
    #[arg(long, conflicts_with_all = ["tenants", "all"])]
    pub queued: bool,
    /// Build only shard I of N (stable by tenant id), to split the work across CI runners.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write bundles here instead of the data root's build/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub themes: ThemeArgs,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Also serve HTTPS on this port (0 picks a free one), with the certificates in the data
    /// root's certs/ (`t8k certs renew`): the client's SNI picks the certificate; hosts
    /// without one, or that this installation does not serve, fail the handshake.
    #[arg(long, value_name = "PORT")]
    pub tls_port: Option<u16>,
    /// Rebuild a tenant when its database, config or theme changes.
    #[arg(long)]
    pub watch: bool,
    /// Serve bundles from here instead of the data root's build/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Serve the live published deploys (routes.json) from this bundle store instead of the
    /// builds. A bucket data root serves its deploys by default.
    #[arg(long, value_name = "DIR|S3", conflicts_with_all = ["out", "watch"])]
    pub from: Option<String>,
    #[command(flatten)]
    pub themes: ThemeArgs,
}
