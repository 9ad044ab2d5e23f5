//! Building, previewing and publishing sites: `build`, `serve`, `publish` and the options they
//! share (themes, the bundle store).

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
t8k build --changed --shard 2/4 this CI runner's quarter of the tenants\n  \
t8k build acme --full           re-render every page of acme (not incremental)"
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
    /// Render every file of each site into a fresh folder. By default a site with a bundle
    /// here is built incrementally: only the pages whose inputs changed (and the listings,
    /// feed and sitemap that show them) are rendered, the rest of its bundle is kept — the
    /// same bytes a full build makes.
    #[arg(long)]
    pub full: bool,
    /// Build the tenants that asked for a build (queue/builds/: sign-ups, content edits) and
    /// clear their requests.
    #[arg(long, conflicts_with_all = ["tenants", "all"])]
    pub queued: bool,
    /// Build only shard I of N (stable by tenant id), to split the work across CI runners.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Build the tenants a rollout has moved (`t8k rollout status` lists them): CI runs a new
    /// t8k binary on the canary cohort first, and the whole matrix only once it passes.
    #[arg(long, value_name = "ROLLOUT", conflicts_with_all = ["tenants", "all", "queued"])]
    pub cohort: Option<String>,
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
#[command(
    after_help = "Examples:\n  t8k worker                      build and publish queued tenants until stopped\n  \
t8k worker --jobs 4             four tenants at a time\n  \
t8k worker --once --json        drain the queue, one JSON line per tenant, then exit\n  \
t8k --root s3://bucket/t8k worker   on a bucket root (lists the queue with backoff)"
)]
pub struct WorkerArgs {
    /// Tenants built and published at once (each tenant by one worker at a time, whatever
    /// the number of workers on the data root).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub jobs: usize,
    /// Seconds a worker holds a tenant without renewing (it renews every third of it); a
    /// worker that dies frees its tenants after this long (at once on the same machine).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub lease: i64,
    /// Drain the queue and exit (for cron and CI) instead of waiting for more.
    #[arg(long)]
    pub once: bool,
    /// Longest wait between two listings of a bucket root's queue when it is idle (a local
    /// root is watched and wakes at once).
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub max_idle: f64,
    /// Sites whose last build the worker keeps in memory (its manifest and page rows), so
    /// that the next edit to one re-reads only what changed; the least recently built go first.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub keep_sites: usize,
    #[command(flatten)]
    pub target: BuildTarget,
}

/// Where a command that builds and publishes works (`t8k worker`, `t8k rollout`).
#[derive(Args, Debug)]
pub struct BuildTarget {
    /// Write bundles here instead of the data root's build/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub to: ToArgs,
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

/// `t8k edge`: the configuration a real edge runs, made from the host table.
#[derive(Subcommand, Debug)]
pub enum EdgeCmd {
    /// nginx: an include file for nginx's http {} block mapping Host to each tenant's live
    /// deploy (a `root` per deploy from a local bundle store, or a proxy to a bucket with
    /// --origin), the tenants' 404 pages, 503 for inactive tenants, 404 for unknown hosts,
    /// TLS with the certificates of certs/, the ACME challenge and /api/ proxied to the
    /// functions.
    #[command(
        after_help = "Examples:\n  t8k edge nginx --out /etc/nginx/t8k --functions 127.0.0.1:8080\n  # in nginx.conf, inside http {}:  include /etc/nginx/t8k/t8k.conf;\n  t8k edge nginx --out /etc/nginx/t8k --watch --reload 'nginx -s reload'"
    )]
    Nginx {
        #[command(flatten)]
        common: EdgeArgs,
        /// Where nginx listens for HTTP.
        #[arg(long, default_value = "80", value_name = "ADDR")]
        listen: String,
        /// Where nginx listens for HTTPS (hosts with a certificate; others are refused).
        #[arg(long, default_value = "443", value_name = "ADDR")]
        tls_listen: String,
        /// Proxy to the bundle store at this URL (path-style: https://s3.example.com/bucket
        /// or with a prefix) instead of serving its files from disk.
        #[arg(long, value_name = "URL")]
        origin: Option<String>,
        /// Where nginx writes the sites' access log: one JSON object a request (time, host,
        /// status, bytes), the lines `t8k usage ingest --format nginx` counts bandwidth from.
        #[arg(
            long,
            default_value = "/var/log/nginx/t8k-access.log",
            value_name = "FILE"
        )]
        access_log: String,
        /// The speed a tenant over its bandwidth limit is served at under
        /// BANDWIDTH_POLICY=throttle, per connection (nginx `limit_rate`: bytes per second,
        /// with k or m).
        #[arg(long, default_value = "128k", value_name = "RATE", value_parser = nginx_rate)]
        throttle_rate: String,
    },
    /// Caddy: a Caddyfile with on-demand TLS (Caddy obtains certificates itself, asking
    /// /api/edge/ask which hosts it may) and the same routing as nginx.
    #[command(
        after_help = "Example:\n  t8k edge caddy --out /etc/caddy/t8k --functions 127.0.0.1:8080 && caddy run --config /etc/caddy/t8k/Caddyfile"
    )]
    Caddy {
        #[command(flatten)]
        common: EdgeArgs,
        /// Where Caddy listens for HTTP.
        #[arg(long, default_value_t = 80)]
        http_port: u16,
        /// Where Caddy listens for HTTPS.
        #[arg(long, default_value_t = 443)]
        https_port: u16,
        /// The ACME directory Caddy uses (default: Caddy's own, Let's Encrypt and ZeroSSL).
        #[arg(long, value_name = "URL")]
        acme_ca: Option<String>,
        /// A PEM root Caddy trusts for the ACME directory (a test CA).
        #[arg(long, value_name = "FILE")]
        acme_ca_root: Option<PathBuf>,
        /// Caddy's admin endpoint (`caddy reload` talks to it).
        #[arg(long, default_value = "localhost:2019", value_name = "ADDR")]
        admin: String,
    },
    /// CloudFront: a viewer-request CloudFront Function that rewrites each request to its
    /// tenant's live prefix in the bundle bucket, and the KeyValueStore import file (host →
    /// deploy) it reads.
    #[command(
        after_help = "Example:\n  t8k edge cloudfront --out edge/ --kvs-id $KVS_ARN          # function.js and kvs.json\n  t8k edge cloudfront --out edge/ --kvs-id $KVS_ARN --sync   # and update the store"
    )]
    Cloudfront {
        #[command(flatten)]
        common: EdgeArgs,
        /// The KeyValueStore's ARN or id the function reads.
        #[arg(long, value_name = "ARN", default_value = "KVS_ARN")]
        kvs_id: String,
        /// Also make the KeyValueStore (`--kvs-id`, an ARN) hold exactly these rows: only the
        /// changed rows are sent (the AWS stack's `routes` job runs this every minute).
        #[arg(long, conflicts_with = "watch")]
        sync: bool,
    },
}

#[derive(Args, Debug)]
pub struct EdgeArgs {
    /// The folder the configuration is written to (each file atomically).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The bundle store the deploys and routes.json are in (default: the data root).
    #[arg(long, value_name = "DIR|S3")]
    pub from: Option<String>,
    /// Where the functions listen (`t8k serve`), for /api/ and the ACME challenge.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub functions: String,
    /// Keep running: regenerate within a second of any change to the routes or the
    /// certificates.
    #[arg(long)]
    pub watch: bool,
    /// A command run after each regeneration that changed something (e.g. `nginx -s reload`).
    #[arg(long, value_name = "COMMAND")]
    pub reload: Option<String>,
}

/// An nginx rate (`limit_rate`): digits, then optionally `k` or `m`.
fn nginx_rate(text: &str) -> Result<String, String> {
    let digits = text.trim_end_matches(['k', 'K', 'm', 'M']);
    let ok = !digits.is_empty()
        && digits.len() + 1 >= text.len()
        && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.to_owned())
        .ok_or_else(|| format!("{text:?} is not a rate; write bytes per second like 128k or 1m"))
}
