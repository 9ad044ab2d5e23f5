//! Tenants and the registry: `tenant`, `domain`, `registry`, and how passwords are given.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::ToArgs;

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
    /// Ask browsers to reach a custom domain over HTTPS only (Strict-Transport-Security,
    /// max-age one year, sent by nginx over HTTPS), or stop asking. Turn it on once the
    /// domain's certificate works: browsers remember it for a year.
    #[command(after_help = "Example:\n  t8k domain hsts acme www.acme-bakery.test on")]
    Hsts {
        tenant: String,
        host: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Look every domain up again (all tenants', or one's): for cron. An active domain whose
    /// records have been gone for 72 hours is detached and its tenant's admin mailed; one
    /// pending for 7 days expires. Domains added with --trust are not checked.
    #[command(
        after_help = "Example (cron, hourly):\n  0 * * * *  t8k --root /srv/t8k domain check --json"
    )]
    Check {
        tenant: Option<String>,
        /// Domains looked up at once.
        #[arg(long, default_value_t = 16, value_name = "N")]
        concurrency: usize,
    },
}

/// `t8k certs`: the TLS certificates of custom domains (and the subdomains' wildcard).
#[derive(Subcommand, Debug)]
pub enum CertsCmd {
    /// Every stored certificate: the names it covers, until when, whether it is due, and the
    /// last failure.
    List,
    /// Obtain or renew certificates over ACME (needs auto_ssl: `t8k config acme --auto-ssl
    /// on`): for each custom domain that waits for one (it becomes active) and each active one
    /// with a third or less of its lifetime left. HTTP-01: the CA fetches
    /// http://HOST/.well-known/acme-challenge/TOKEN, which `t8k serve` and the generated edge
    /// configurations answer from the data root. Exit 1 if any attempt failed (it is retried
    /// after a backoff and shown by `t8k report`).
    #[command(
        after_help = "Examples (cron, twice a day):\n  0 */12 * * *  t8k --root /srv/t8k certs renew --json\n  t8k certs renew acme                # one tenant's domains\n  t8k certs renew --wildcard          # *.DOMAIN over DNS-01 (acme_dns_hook)\n  t8k certs renew --staging --force   # try the whole path against Let's Encrypt staging"
    )]
    /// Store a certificate obtained elsewhere (e.g. a wildcard from certbot's DNS plugin for
    /// your DNS provider): NAME is a custom domain, or `wildcard` for *.DOMAIN. Checked that
    /// it covers the name and that the key matches; replaced by `renew` only when due.
    #[command(
        after_help = "Examples:\n  t8k certs import wildcard --cert /etc/letsencrypt/live/example.com/fullchain.pem --key /etc/letsencrypt/live/example.com/privkey.pem\n  t8k certs import shop.acme.test --cert chain.pem --key key.pem"
    )]
    Import {
        name: String,
        /// The certificate chain, PEM (leaf first).
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// Its private key, PEM.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    Renew {
        /// Only this tenant's domains.
        tenant: Option<String>,
        /// Also the wildcard certificate for the tenants' subdomains (*.DOMAIN and DOMAIN),
        /// proved over DNS-01 by the acme_dns_hook command.
        #[arg(long)]
        wildcard: bool,
        /// Ask even for certificates that are not due, and past a failure's backoff.
        #[arg(long)]
        force: bool,
        /// Use Let's Encrypt's staging directory instead of acme_directory.
        #[arg(long)]
        staging: bool,
    },
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
        after_help = "Example:\n  t8k tenant set-quota acme --storage 2GB --pages 200 --users 10\n  t8k tenant set-quota acme --bandwidth 100GB --bandwidth-policy suspend"
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
        /// Bytes served per calendar month (UTC), e.g. 100GB; `unlimited`, or `default` for
        /// the installation's default_bandwidth_quota. Takes effect at the edges at once.
        #[arg(long, value_name = "SIZE")]
        bandwidth: Option<String>,
        /// What a month at its bandwidth limit does: notify (mail the admins at 80% and 100%),
        /// throttle (also slow the edge, nginx limit_rate) or suspend (also answer 503
        /// "bandwidth limit reached" until the month turns or the limit is raised).
        #[arg(long, value_name = "POLICY", value_parser = ["notify", "throttle", "suspend"])]
        bandwidth_policy: Option<String>,
        /// Allow a limit below current usage (storage, pages, users).
        #[arg(long)]
        force: bool,
    },
    /// Pin a tenant to a published theme version (and theme), or let it follow its channel
    /// again. The next build uses it: this is how one tenant is rolled back from a platform
    /// update (`t8k rollback TENANT` makes its previous deploy live at once).
    #[command(
        after_help = "Examples:\n  t8k tenant pin acme --theme default@3 && t8k build acme && t8k publish acme\n  t8k tenant pin acme --unpin"
    )]
    Pin {
        id: String,
        /// NAME@VERSION, e.g. default@3.
        #[arg(long, value_name = "NAME@VERSION", required_unless_present = "unpin")]
        theme: Option<String>,
        /// Clear THEME_VERSION: the tenant builds with its channel's version.
        #[arg(long, conflicts_with = "theme")]
        unpin: bool,
    },
    /// The channel a tenant follows for platform updates: stable (default) or canary (moved
    /// first: `t8k rollout start THEME@V --channel canary`).
    Channel {
        id: String,
        #[arg(value_parser = ["stable", "canary"])]
        channel: String,
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
