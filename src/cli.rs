//! The command line, as plain values (clap derive). `--help` on any command explains it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub cmd: Option<ConfigCmd>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Send sign-up verification mail through an SMTP server (without one, mail is written to
    /// outbox/ in the data root). The password is read from T8K_SMTP_PASSWORD when mail is sent,
    /// never stored.
    #[command(
        after_help = "Examples:\n  t8k config smtp --host smtp.example.com --port 587 --tls starttls --username t8k --from 't8k <no-reply@example.com>'\n  \
t8k config smtp --host 127.0.0.1 --port 2525 --tls none --from no-reply@example.com\n  t8k config smtp --off"
    )]
    Smtp(SmtpArgs),
    /// Make a new installation admin API key for /api/admin (replacing any earlier one). It is
    /// printed once; only its hash is kept. Send it as `Authorization: Bearer <key>`.
    AdminKey,
}

#[derive(Args, Debug)]
pub struct SmtpArgs {
    #[arg(long, required_unless_present = "off", value_name = "HOST")]
    pub host: Option<String>,
    #[arg(long, default_value_t = 587)]
    pub port: u16,
    #[arg(long, value_enum, default_value_t = TlsMode::Starttls)]
    pub tls: TlsMode,
    #[arg(long)]
    pub username: Option<String>,
    /// The sender address, e.g. "t8k <no-reply@example.com>".
    #[arg(long, required_unless_present = "off")]
    pub from: Option<String>,
    /// Stop using SMTP; mail goes to outbox/ again.
    #[arg(long, conflicts_with_all = ["host", "from", "username"])]
    pub off: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormatArg {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TlsMode {
    /// STARTTLS upgrade (port 587).
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine.
    None,
}

#[derive(Parser, Debug)]
#[command(
    name = "t8k",
    version,
    about = "Host many websites from one installation: tenants, content, quotas",
    long_about = "t8k hosts many small websites (tenants) from one installation. Each tenant has its own \
subdomain, SQLite database, config, media, users and quotas. All state lives in a data root: a local \
directory by default.\n\nStart with `t8k demo` for a ready-made installation, or `t8k init --multi \
--domain example.com` then `t8k tenant create acme --name \"Acme\" --email you@example.com \
--admin-password-stdin`.",
    after_help = "Environment: T8K_ROOT (data root), ENABLE_MULTI_TENANT, MAX_TENANTS, PUBLIC_ENABLE_MULTI_TENANT \
(override config/t8k/tenants.json; see `t8k config`)."
)]
pub struct Cli {
    /// The data root: a local directory, or a bucket as s3://bucket/prefix.
    #[arg(
        long,
        global = true,
        env = "T8K_ROOT",
        default_value = "t8k-data",
        value_name = "DIR|S3"
    )]
    pub root: String,

    /// S3 endpoint for s3:// roots and targets (MinIO, moto, R2...); path-style addressing.
    /// Default: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS itself.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Print JSON for scripts instead of tables and sentences.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to log to stderr, in EnvFilter syntax: warn, info, debug, t8k_builder=debug,…
    /// Default: info for `serve` and `demo`, warn otherwise. Requests are logged at debug,
    /// builds and publishes per tenant (with durations) at debug.
    #[arg(long, global = true, env = "T8K_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log lines as human-readable text or as JSON objects (one per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormatArg::Human)]
    pub log_format: LogFormatArg,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an installation (config/t8k/tenants.json) in the data root.
    Init(InitArgs),
    /// Show the effective settings and where each comes from (file, env, default); set the
    /// mail server; make the installation admin API key.
    Config(ConfigArgs),
    /// Create, list, inspect, (de)activate, limit, delete and restore tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// A tenant's custom domains: add, list, remove (each domain serves one tenant).
    #[command(subcommand)]
    Domain(DomainCmd),
    /// The registry: one entry per tenant under config/t8k/tenants/, and the tenant view in
    /// config/t8k/tenants.json.
    #[command(subcommand)]
    Registry(RegistryCmd),
    /// Import and export a tenant's pages as Markdown files with front matter.
    #[command(subcommand)]
    Content(ContentCmd),
    /// Manage a tenant's accounts (built-in admin/editor and named users).
    #[command(subcommand)]
    User(UserCmd),
    /// Render tenants' sites into static bundles (build/{tenant}/ in the data root).
    Build(BuildArgs),
    /// Merge raw analytics events into each tenant's analytics database.
    #[command(subcommand)]
    Analytics(AnalyticsCmd),
    /// The whole installation at a glance: each tenant's status and health (last build and
    /// publish, failures), usage against quotas, traffic, sign-ups per week, capacity.
    ///
    /// Build and publish failures come from `build/{tenant}.history.jsonl`, which `t8k build`
    /// and `t8k publish` append to on this machine; a tenant shows "last build failed" until
    /// a later build succeeds.
    #[command(
        after_help = "Examples:\n  t8k report\n  t8k report --json | jq '.tenants[] | select(.problems != [])'\n  t8k report --json | jq '.tenants[] | {tenant, failures_30d, recent_failures}'\n  t8k report --html report.html\n  t8k report --limit 100 --after acme"
    )]
    Report {
        /// Also write the report as an HTML page with charts.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Rows for at most this many tenants (the totals still cover every tenant); the
        /// output names the id to pass as --after for the next page.
        #[arg(long)]
        limit: Option<usize>,
        /// Only rows of tenants whose id sorts after this one.
        #[arg(long)]
        after: Option<String>,
    },
    /// Preview every built site locally, routed by Host ({tenant}.localhost:8080).
    Serve(ServeArgs),
    /// Upload built bundles as immutable deploys and flip each tenant live (sites/, routes.json).
    Publish(PublishArgs),
    /// List a tenant's deploys (id, time, objects, bytes, live marker).
    Deploys {
        tenant: String,
        #[command(flatten)]
        to: ToArgs,
    },
    /// Make an earlier deploy live again (default: the one before the live one).
    Rollback {
        tenant: String,
        deploy: Option<String>,
        #[command(flatten)]
        to: ToArgs,
    },
    /// Delete old deploys: keeps the newest N, the live one, and any younger than --grace.
    Gc {
        /// Deploys to keep per tenant, newest first.
        #[arg(long, default_value_t = 5)]
        keep: usize,
        /// Never delete a deploy younger than this (a CDN may still fetch it): 90s, 30m, 1h, 2d.
        #[arg(long, default_value = "1h")]
        grace: String,
        #[command(flatten)]
        to: ToArgs,
    },
    /// Create a demo installation with a few tenants and sample content, build it and serve it.
    Demo(DemoArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  t8k completions bash > /etc/bash_completion.d/t8k\n  t8k completions zsh > \"${fpath[1]}/_t8k\"\n  t8k completions fish > ~/.config/fish/completions/t8k.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per subcommand into a folder.
    #[command(
        after_help = "Examples:\n  t8k man | man -l -\n  t8k man --out /usr/local/share/man/man1"
    )]
    Man {
        /// Write t8k.1 and t8k-{subcommand}.1 pages into this folder instead of printing t8k.1.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

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

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  t8k init --multi --domain example.com --max-tenants 100\n  \
t8k init --domain mysite.com --name \"My Site\" --email me@mysite.com --admin-password-stdin   (single tenant)"
)]
pub struct InitArgs {
    /// Multi-tenant mode: tenants at {id}.{domain}, self-service sign-up possible.
    #[arg(long)]
    pub multi: bool,
    /// The installation's main domain, e.g. example.com.
    #[arg(long)]
    pub domain: String,
    /// How many tenants the installation may hold (multi-tenant mode).
    #[arg(long, value_name = "N")]
    pub max_tenants: Option<u64>,
    /// Show the /sandbox/register sign-up page (PUBLIC_ENABLE_MULTI_TENANT); defaults to --multi.
    #[arg(long, value_name = "BOOL")]
    pub public_registration: Option<bool>,
    /// Sign-ups must confirm their email before the tenant is created.
    #[arg(long)]
    pub require_email_verification: bool,
    /// Obtain certificates automatically (ACME) for custom domains.
    #[arg(long)]
    pub auto_ssl: bool,
    /// Do not allow tenants to use their own domains.
    #[arg(long)]
    pub no_custom_domains: bool,
    /// Single-tenant mode: the site's name (its tenant is created now, as `default`).
    #[arg(long)]
    pub name: Option<String>,
    /// Single-tenant mode: the site admin's email.
    #[arg(long)]
    pub email: Option<String>,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

/// How passwords reach t8k: from a file or standard input, never the command line.
#[derive(Args, Debug, Default)]
pub struct PasswordArgs {
    /// Read the admin password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "admin_password_stdin")]
    pub admin_password_file: Option<PathBuf>,
    /// Read the admin password from the first line of standard input.
    #[arg(long)]
    pub admin_password_stdin: bool,
    /// Create the tenant with its admin account disabled until `t8k user passwd ID admin`.
    #[arg(long, conflicts_with_all = ["admin_password_file", "admin_password_stdin"])]
    pub no_admin_password: bool,
    /// Read the editor password from the first line of FILE (else the editor account stays
    /// disabled until set).
    #[arg(long, value_name = "FILE")]
    pub editor_password_file: Option<PathBuf>,
    #[arg(long, hide = true, value_name = "PASSWORD")]
    pub admin_password: Option<String>,
    #[arg(long, hide = true, value_name = "PASSWORD")]
    pub editor_password: Option<String>,
    #[arg(long, hide = true, value_name = "PASSWORD")]
    pub password: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum DomainCmd {
    /// Give a tenant a custom domain, `pending` until `t8k domain verify` finds its DNS
    /// records (printed here). Claimed atomically: a domain another tenant holds is refused.
    /// Needs enable_custom_domains; at most MAX_CUSTOM_DOMAINS (5) per tenant.
    #[command(
        after_help = "Example:\n  t8k domain add acme www.acme-bakery.test\n  # create the two records it prints, then:\n  t8k domain verify acme www.acme-bakery.test"
    )]
    Add {
        tenant: String,
        host: String,
        /// Active at once, without DNS checks: you, the operator, vouch for the domain.
        #[arg(long)]
        trust: bool,
    },
    /// Look the domain up in DNS (T8K_DNS_SERVERS, else the system's name servers): its TXT
    /// record proves ownership (→ verified), its CNAME or addresses the routing (→ active, the
    /// only state that is served). Exit 1 while it is not active.
    Verify { tenant: String, host: String },
    /// List a tenant's domains: its subdomain, and each custom domain with its state and the
    /// DNS records it needs.
    List { tenant: String },
    /// Take a custom domain from a tenant; the domain is free for others at once.
    Remove { tenant: String, host: String },
    /// Look every domain up again (all tenants', or one's): for cron. An active domain whose
    /// records have been gone for 72 hours is detached and its tenant's admin mailed; one
    /// pending for 7 days expires. Domains added with --trust are not checked.
    #[command(
        after_help = "Example (cron, hourly):\n  0 * * * *  t8k --root /srv/t8k domain check --json"
    )]
    Check { tenant: Option<String> },
}

#[derive(Subcommand, Debug)]
pub enum RegistryCmd {
    /// Regenerate `tenants[]` in config/t8k/tenants.json from the per-tenant entries. Every
    /// change refreshes it while the installation has at most 1,000 tenants; above that, run
    /// this from cron or CI (it shows the first 1,000 and notes the true count).
    #[command(
        after_help = "Example (cron, hourly):\n  0 * * * *  t8k --root /srv/t8k registry compact --json"
    )]
    Compact,
}

#[derive(Subcommand, Debug)]
pub enum TenantCmd {
    /// Create a tenant: registry entry, config/ID/env.json, db/ID/site.db with starter content.
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$PW\" | t8k tenant create acme --name \"Acme Bakery\" --email owner@acme.test --admin-password-stdin"
    )]
    Create {
        /// The tenant id: its subdomain (3–32 of a–z, 0–9, hyphen).
        id: String,
        /// The site's name.
        #[arg(long)]
        name: String,
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// Theme (a folder in themes/).
        #[arg(long)]
        theme: Option<String>,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// List tenants, in id order. With --limit, one page at a time: the output ends with the
    /// id to pass as --after for the next page (in --json: `{"tenants": [...], "next": ID|null}`).
    List {
        /// At most this many tenants.
        #[arg(long)]
        limit: Option<usize>,
        /// Only tenants whose id sorts after this one (the `next` of the previous page).
        #[arg(long)]
        after: Option<String>,
    },
    /// Show one tenant: settings, usage, content version.
    Show { id: String },
    /// Let a deactivated tenant be served again.
    Activate { id: String },
    /// Stop serving a tenant; its data is kept.
    Deactivate { id: String },
    /// Change a tenant's limits.
    #[command(
        after_help = "Example:\n  t8k tenant set-quota acme --storage 2GB --pages 200 --users 10"
    )]
    SetQuota {
        id: String,
        /// Storage for database and media, e.g. 2GB, 500MB.
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        /// Maximum number of story fragments (pages).
        #[arg(long, value_name = "N")]
        pages: Option<u64>,
        /// Maximum number of accounts.
        #[arg(long, value_name = "N")]
        users: Option<u64>,
        /// Allow a limit below current usage.
        #[arg(long)]
        force: bool,
    },
    /// Show a tenant's usage against its limits.
    Usage { id: String },
    /// Move a tenant to the trash (restorable with `t8k tenant restore`).
    Delete {
        id: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
        /// Also move its deploys out of this bundle store (where `t8k publish --to` put them);
        /// deploys in the data root always go.
        #[command(flatten)]
        to: ToArgs,
    },
    /// Bring a deleted tenant back from the trash.
    Restore {
        id: String,
        /// Which trashed copy (a key from `t8k tenant trash`); default the newest.
        #[arg(long, value_name = "KEY")]
        from: Option<String>,
        /// Also bring its deploys back in this bundle store (as given to `tenant delete --to`).
        #[command(flatten)]
        to: ToArgs,
    },
    /// List deleted tenants that can be restored.
    Trash,
    /// List sign-ups waiting for their email to be verified (the name is held until the link
    /// expires).
    Pending,
}

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

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The demo's domain; tenants are at {id}.{domain}.
    #[arg(long, default_value = "localhost")]
    pub domain: String,
    /// Port for the preview server.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Build only; do not start the preview server.
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub themes: ThemeArgs,
}
