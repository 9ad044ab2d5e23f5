//! The command line, as plain values (clap derive). `--help` on any command explains it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod backup;
mod content;
mod release;
mod sites;
mod tenants;

pub use backup::{BackupArgs, BackupCmd, RepoArgs, RestoreArgs};
pub use content::{
    AccessLogArg, AnalyticsCmd, ContentCmd, GeneratorArg, OnePassword, RoleArg, UsageCmd, UserCmd,
};
pub use release::{CohortArgs, NoticeCmd, RolloutCmd, ThemeCmd};
pub use sites::{
    BuildArgs, BuildTarget, EdgeArgs, EdgeCmd, PublishArgs, ServeArgs, ThemeArgs, ToArgs,
    WorkerArgs,
};
pub use tenants::{CertsCmd, DomainCmd, PasswordArgs, RegistryCmd, TenantCmd};

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
    /// Automatic TLS: turn auto_ssl on or off, choose the ACME directory, the account's
    /// contact address and the DNS hook for the subdomains' wildcard certificate.
    #[command(
        after_help = "Examples:\n  t8k config acme --auto-ssl on --email ops@example.com\n  t8k config acme --directory https://acme-staging-v02.api.letsencrypt.org/directory\n  t8k config acme --dns-hook /usr/local/bin/t8k-dns-hook   # called as HOOK set|unset NAME VALUE"
    )]
    Acme(AcmeArgs),
    /// The bandwidth every tenant may serve per calendar month unless it has its own
    /// BANDWIDTH_QUOTA (`t8k tenant set-quota --bandwidth`); `unlimited` removes the default.
    /// Run `t8k usage check` after changing it so the edges follow at once.
    #[command(
        after_help = "Examples:\n  t8k config bandwidth 100GB\n  t8k config bandwidth unlimited"
    )]
    Bandwidth {
        /// A size per month (100GB, 500GiB) or `unlimited`.
        #[arg(value_name = "SIZE")]
        default: String,
    },
    /// Make a new installation admin API key for /api/admin (replacing any earlier one). It is
    /// printed once; only its hash is kept. Send it as `Authorization: Bearer <key>`.
    AdminKey,
}

#[derive(Args, Debug)]
pub struct AcmeArgs {
    /// Obtain certificates for custom domains; a domain is served only once it has one.
    #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
    pub auto_ssl: Option<bool>,
    /// The ACME directory URL (default Let's Encrypt production).
    #[arg(long, value_name = "URL")]
    pub directory: Option<String>,
    /// The ACME account's contact address.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// A command run as `HOOK set|unset NAME VALUE` to publish DNS-01 answers (the
    /// wildcard certificate); an empty string removes it.
    #[arg(long, value_name = "COMMAND")]
    pub dns_hook: Option<String>,
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
    /// Configuration for a real edge (nginx, Caddy, CloudFront) from the host table, kept
    /// current with --watch.
    #[command(subcommand)]
    Edge(EdgeCmd),
    /// TLS certificates for custom domains over ACME (auto_ssl): list and renew.
    #[command(subcommand)]
    Certs(CertsCmd),
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
    /// Bandwidth from the edge's access logs (nginx, CloudFront, S3) into each tenant's usage.
    #[command(subcommand)]
    Usage(UsageCmd),
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
    /// Build and publish tenants as their build requests arrive (queue/builds/): an edit is
    /// live within about a second, with no CI in the loop. Several workers may share a data
    /// root; a lease (queue/leases/) lets one build each tenant at a time. SIGTERM or Ctrl-C
    /// stops it after the builds it is running.
    Worker(WorkerArgs),
    /// Upload built bundles as immutable deploys and flip each tenant live (sites/, routes.json).
    Publish(PublishArgs),
    /// Published theme versions: push a theme folder as a new version, list versions and
    /// channels. Tenants are pinned to a version (THEME_VERSION) or follow a channel.
    #[command(subcommand)]
    Theme(ThemeCmd),
    /// Move tenants onto a new theme version a cohort at a time, each step checked (build
    /// errors, broken links, lost pages) before it goes live; halt, resume or abort it.
    #[command(subcommand)]
    Rollout(RolloutCmd),
    /// Maintenance notices: mailed to the tenants' admins, shown on their sites as a banner,
    /// listed at /status/ on the main domain and at /api/notices.
    #[command(subcommand)]
    Notice(NoticeCmd),
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
    /// Delete old deploys: keeps the newest N, the live one, and any younger than --grace;
    /// then the shared objects (theme assets, image variants) no kept deploy lists, and the
    /// cached variants of images no tenant has any more.
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
    /// Back up tenants into the backup repository (incremental, deduplicated, optionally
    /// encrypted); list, verify and forget snapshots.
    Backup(BackupArgs),
    /// Restore a tenant from a backup snapshot (in place, or as a new tenant).
    Restore(RestoreArgs),
    /// Create a demo installation with a few tenants and sample content, build it and serve it.
    Demo(DemoArgs),
    /// Write what runs t8k on one server: hardened systemd units (functions, worker, edge
    /// config, timers for the periodic jobs), the user and folders they need, and nginx's
    /// include. `--root` is the data root the services use (default /var/lib/t8k).
    #[command(
        after_help = "Examples:\n  t8k install --systemd --out ./units\n  t8k --root /srv/t8k install --systemd --out ./units --user t8k --backups"
    )]
    Install(InstallArgs),
    /// Deploy the platform to a cloud as one stack: the data bucket, every function, the HTTP
    /// API, CloudFront with the host-routing function, the build queue, the schedules, and a
    /// least-privilege role per function.
    #[command(subcommand)]
    Deploy(DeployCmd),
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

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Write systemd units (the one kind of install there is).
    #[arg(long, required = true)]
    pub systemd: bool,
    /// Where the files are written (then copied into place: the command prints how).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The user every service runs as (created by the sysusers file).
    #[arg(long, default_value = "t8k")]
    pub user: String,
    /// The published sites, the folder nginx reads (outside the data root).
    #[arg(long, default_value = "/var/lib/t8k-sites", value_name = "DIR")]
    pub sites: PathBuf,
    /// Where `t8k edge nginx` keeps nginx's configuration.
    #[arg(long, default_value = "/etc/nginx/t8k", value_name = "DIR")]
    pub nginx_dir: PathBuf,
    /// nginx's access log of the sites (bandwidth is counted from it).
    #[arg(
        long,
        default_value = "/var/log/nginx/t8k-access.log",
        value_name = "FILE"
    )]
    pub access_log: PathBuf,
    /// The loopback port of `t8k serve` (the functions).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Environment for every service (T8K_SMTP_PASSWORD, AWS_* for a bucket root, …).
    #[arg(long, default_value = "/etc/t8k/env", value_name = "FILE")]
    pub env_file: PathBuf,
    /// The t8k binary the units run (default: this one).
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
    /// Also a timer for `t8k backup --due` (after `t8k backup init`).
    #[arg(long)]
    pub backups: bool,
}

#[derive(Subcommand, Debug)]
pub enum DeployCmd {
    /// AWS: packages the functions (cargo lambda, arm64), uploads them, and deploys
    /// `deploy/aws/template.json` with CloudFormation. Prints the commands; `--run` runs them.
    #[command(
        after_help = "Examples:\n  t8k deploy aws --template > deploy/aws/template.json\n  t8k deploy aws --stack t8k-prod --domain example.com --code-bucket my-artifacts\n  t8k deploy aws --stack t8k-prod --domain example.com --code-bucket my-artifacts \\\n      --certificate arn:aws:acm:us-east-1:123456789012:certificate/… --smtp-password-parameter /t8k/smtp-password --run"
    )]
    Aws(DeployAwsArgs),
}

#[derive(Args, Debug)]
pub struct DeployAwsArgs {
    /// Print the CloudFormation template and stop.
    #[arg(long, conflicts_with_all = ["stack", "run"])]
    pub template: bool,
    /// The stack's name: lower-case letters, digits and hyphens (it names the buckets).
    #[arg(long, required_unless_present = "template")]
    pub stack: Option<String>,
    /// The AWS region (default: the AWS CLI's).
    #[arg(long)]
    pub region: Option<String>,
    /// The installation's main domain (tenants are NAME.DOMAIN).
    #[arg(long, required_unless_present = "template")]
    pub domain: Option<String>,
    /// An ACM certificate (us-east-1) for DOMAIN and *.DOMAIN.
    #[arg(long, value_name = "ARN")]
    pub certificate: Option<String>,
    /// An existing bucket for the function packages.
    #[arg(long, value_name = "BUCKET", required_unless_present = "template")]
    pub code_bucket: Option<String>,
    /// The SecureString parameter holding the SMTP password (never the password itself).
    #[arg(long, value_name = "NAME")]
    pub smtp_password_parameter: Option<String>,
    /// The packages: FOLDER/{binary}/bootstrap.zip (default: what cargo lambda builds).
    #[arg(long, value_name = "DIR", default_value = "target/lambda")]
    pub packages: PathBuf,
    /// Run the commands (cargo lambda, aws) instead of printing them.
    #[arg(long)]
    pub run: bool,
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
