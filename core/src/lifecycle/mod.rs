//! The installation and its tenants' lifecycle: init, create, list, activate/deactivate,
//! quotas, delete to trash, restore. Every registry change is a compare-and-swap, so these
//! operations are safe to run from many processes at once.

mod bandwidth;
mod create;
mod domains;
mod pending;
pub mod process;
mod trash;

pub use bandwidth::{BandwidthCheck, BandwidthStanding};
pub use create::NewTenant;
pub use domains::{CheckReport, Checked, DEFAULT_MAX_CUSTOM_DOMAINS, DnsRecords};
pub use pending::{PendingSignup, Reservation};
pub use trash::TrashItem;

use serde::Serialize;

use crate::bandwidth::limit::{Limit, Policy};
use crate::cas::to_json_bytes;
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::quota::{self, Limits, QuotaKind, Storage};
use crate::registry::{Registry, Status, TenantEntry, entries, view};
use crate::settings::{self, Env, Settings};
use crate::store::{Condition, Store, StoreError, Version};
use crate::tenant_config::TenantConfig;

/// A page of [`Installation::list_page`].
#[derive(Debug, Serialize)]
pub struct TenantPage {
    pub tenants: Vec<TenantEntry>,
    /// The last id of this page when more follow: pass it as `after`.
    pub next: Option<String>,
}

pub struct Installation {
    pub store: Box<dyn Store>,
    pub env: Env,
}

/// What `t8k init` asks for.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub domain: String,
    pub multi: bool,
    pub max_tenants: Option<u64>,
    pub public_enable_multi_tenant: Option<bool>,
    pub require_email_verification: bool,
    pub auto_ssl: bool,
    pub enable_custom_domains: bool,
}

/// Checks a host name: LDH labels separated by dots, no scheme, port or path.
pub fn check_domain(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |m: &str| Err(Error::invalid("domain", format!("{domain:?} {m}")));
    if d.contains("://") || d.contains('/') {
        return bad("must be a bare host name like example.com, without scheme or path");
    }
    if d.contains(':') {
        return bad("must not include a port; give the host name only");
    }
    if d.is_empty() || d.len() > 253 {
        return bad("must be 1–253 characters");
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return bad("has an empty, too long, or hyphen-edged label");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad(
                "may hold only letters, digits, hyphens and dots (use punycode for international names)",
            );
        }
    }
    Ok(d)
}

/// A tenant's usage against its limits, for `t8k tenant usage`.
#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub tenant: String,
    pub pages: u64,
    pub users: u64,
    pub storage: Storage,
    pub storage_bytes: u64,
    /// Bytes of the image variants made of its media (`t8k tenant usage` only). Not counted
    /// toward STORAGE_QUOTA: they are derived, made again by any build, and shared with every
    /// tenant that has the same originals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants_bytes: Option<u64>,
    pub limits: Limits,
    /// This month's bandwidth against BANDWIDTH_QUOTA (`t8k tenant usage` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<BandwidthStanding>,
}

/// The limits `t8k tenant set-quota` changes; `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct QuotaChange {
    pub storage: Option<String>,
    pub pages: Option<u64>,
    pub users: Option<u64>,
    /// BANDWIDTH_QUOTA per month; "default" goes back to the installation's default.
    pub bandwidth: Option<String>,
    /// BANDWIDTH_POLICY: notify, throttle or suspend.
    pub bandwidth_policy: Option<String>,
}

impl QuotaChange {
    fn is_empty(&self) -> bool {
        self.storage.is_none()
            && self.pages.is_none()
            && self.users.is_none()
            && self.bandwidth.is_none()
            && self.bandwidth_policy.is_none()
    }
}

/// Everything `t8k tenant show` prints. Password hashes and the signing secret are left out.
#[derive(Clone, Debug, Serialize)]
pub struct TenantDetails {
    pub entry: TenantEntry,
    pub site_url: String,
    pub site_name: String,
    pub home_slug: String,
    pub theme: String,
    pub admin_email: String,
    pub admin_enabled: bool,
    pub editor_enabled: bool,
    pub content_version: i64,
    pub usage: Usage,
}

/// The automatic-TLS settings to change (`None`: leave as is; an empty text: remove).
#[derive(Clone, Debug, Default)]
pub struct AcmeChange {
    pub auto_ssl: Option<bool>,
    pub directory: Option<String>,
    pub email: Option<String>,
    pub dns_hook: Option<String>,
}

impl Installation {
    pub fn new(store: Box<dyn Store>, env: Env) -> Installation {
        Installation { store, env }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The registry document (installation settings and the generated tenant view). A wave-1
    /// registry is migrated to one entry per tenant first ([`crate::registry::migrate`]).
    pub fn registry(&self) -> Result<(Registry, Version)> {
        let (reg, version) =
            view::read_document(self.store())?.ok_or_else(|| self.not_installed())?;
        if reg.registry_layout >= crate::registry::LAYOUT {
            return Ok((reg, version));
        }
        crate::registry::migrate::run(self.store(), &reg)?;
        view::read_document(self.store())?.ok_or_else(|| self.not_installed())
    }

    /// Changes the registry document by compare-and-swap (see [`cas::update_json`]): the
    /// installation's settings. Tenants are changed through their entries.
    pub(crate) fn update_registry<R>(
        &self,
        change: impl FnMut(&mut Registry) -> Result<Option<R>>,
    ) -> Result<Option<R>> {
        self.registry()?;
        crate::cas::update_json(
            self.store(),
            &layout::registry(),
            || self.not_installed(),
            change,
        )
    }

    /// After a change to a tenant's entry: the generated view in tenants.json and, if bundles
    /// are published to the data root, its `routes.json` follow at once (a CDN reading it must
    /// not keep serving a deactivated or deleted tenant until the next publish). Both touch
    /// only this tenant's part.
    pub(crate) fn entry_changed(&self, id: &TenantId) -> Result<()> {
        view::record(self.store(), id)?;
        self.routing_changed(self.store(), id)
    }

    /// `routes.json` in `store`, if there is one, for this tenant's current entry and live
    /// pointer (compare-and-swap; no other tenant's part is read).
    pub fn routing_changed(&self, store: &dyn Store, id: &TenantId) -> Result<()> {
        let entry = entries::read(self.store(), id)?.map(|(e, _)| e);
        let domain = || Ok(self.registry()?.0.domain);
        crate::routes::refresh_tenant(store, id, entry.as_ref(), domain)
    }

    pub(crate) fn not_installed(&self) -> Error {
        Error::NotInstalled {
            root: self.store.describe(),
        }
    }

    pub fn settings(&self) -> Result<Settings> {
        Settings::resolve(&self.registry()?.0, &self.env)
    }

    /// Creates `config/t8k/tenants.json`; refuses if one exists (create-only write).
    pub fn init(&self, opts: &InitOptions) -> Result<Registry> {
        let d = settings::defaults();
        let domain = check_domain(&opts.domain)?;
        let max_tenants = opts.max_tenants.unwrap_or(d.max_tenants);
        if max_tenants == 0 {
            return Err(Error::invalid("max_tenants", "must be at least 1"));
        }
        let reg = Registry {
            max_tenants: if opts.multi { max_tenants } else { 1 },
            default_quota: d.default_quota,
            enable_custom_domains: opts.enable_custom_domains,
            require_email_verification: opts.require_email_verification,
            auto_ssl: opts.auto_ssl,
            domain,
            enable_multi_tenant: Some(opts.multi),
            public_enable_multi_tenant: Some(opts.public_enable_multi_tenant.unwrap_or(opts.multi)),
            default_max_pages: Some(d.default_max_pages),
            default_bandwidth_quota: None,
            default_max_users: Some(d.default_max_users),
            tenant_name_min_length: None,
            tenant_name_max_length: None,
            smtp: None,
            edge_target: None,
            acme_directory: None,
            backup: None,
            acme_email: None,
            acme_dns_hook: None,
            registry_layout: crate::registry::LAYOUT,
            tenants_view: Some(view::note(true, 0)),
            tenants: vec![],
            extra: Default::default(),
        };
        let key = layout::registry();
        match self
            .store
            .put(&key, &to_json_bytes(&reg), Condition::IfAbsent)
        {
            Ok(_) => {
                crate::registry::make_folders(self.store())?;
                // Made now, so the functions that sign with them only read them (on AWS,
                // their roles grant no write to it).
                self.secrets()?;
                Ok(reg)
            }
            Err(StoreError::PreconditionFailed { .. }) => Err(Error::AlreadyInstalled {
                root: self.store.describe(),
                key: key.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets (or with `None` removes) the SMTP server mail is sent through.
    pub fn set_smtp(&self, smtp: Option<crate::registry::SmtpConfig>) -> Result<()> {
        self.update_registry(|reg: &mut Registry| {
            reg.smtp = smtp.clone();
            Ok(Some(()))
        })?;
        Ok(())
    }

    /// Sets the installation's `default_bandwidth_quota` (`None`: unlimited); tenants that set
    /// their own keep it. Returns the limit as stored.
    pub fn set_default_bandwidth(&self, quota: Option<&str>) -> Result<Limit> {
        let quota = quota
            .map(str::trim)
            .filter(|q| !q.eq_ignore_ascii_case("unlimited"));
        let limit = Limit::of("", "", quota)?;
        self.update_registry(|reg: &mut Registry| {
            reg.default_bandwidth_quota = quota.map(str::to_owned);
            Ok(Some(()))
        })?;
        Ok(limit)
    }

    /// Remembers the backup repository (and default schedule) `t8k backup` uses.
    pub fn set_backup(&self, backup: crate::registry::BackupSettings) -> Result<()> {
        self.update_registry(|reg: &mut Registry| {
            reg.backup = Some(backup.clone());
            Ok(Some(()))
        })?;
        Ok(())
    }

    /// Changes the automatic-TLS settings given (an empty text removes that setting) and
    /// returns the registry as written.
    pub fn set_acme(&self, change: &AcmeChange) -> Result<Registry> {
        let some = |s: &Option<String>| s.as_ref().map(|v| (!v.is_empty()).then(|| v.clone()));
        self.update_registry(|reg: &mut Registry| {
            if let Some(on) = change.auto_ssl {
                reg.auto_ssl = on;
            }
            if let Some(v) = some(&change.directory) {
                reg.acme_directory = v;
            }
            if let Some(v) = some(&change.email) {
                reg.acme_email = v;
            }
            if let Some(v) = some(&change.dns_hook) {
                reg.acme_dns_hook = v;
            }
            Ok(Some(reg.clone()))
        })?
        .ok_or_else(|| self.not_installed())
    }

    /// Validates a proposed tenant name against this installation's policy.
    pub fn validate_name(&self, input: &str) -> Result<TenantId> {
        self.registry()?.0.validate_name(input)
    }

    /// Tenants whose creation finished, in id order. Holds them all: for a command that needs
    /// every tenant at once; [`Installation::list_page`] and [`entries::each`] do not.
    pub fn list(&self) -> Result<Vec<TenantEntry>> {
        let mut out = vec![];
        self.each_tenant(|e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// Visits every tenant whose creation finished, in id order, one entry at a time.
    pub fn each_tenant(&self, mut visit: impl FnMut(TenantEntry) -> Result<()>) -> Result<()> {
        self.registry()?;
        entries::each(self.store(), |e| match e.is_complete() {
            true => visit(e),
            false => Ok(()),
        })
    }

    /// The whole host table, from every entry (read a page at a time): for outputs that map
    /// every host at once (`routes.json` after a publish, edge configurations).
    pub fn host_map(&self) -> Result<crate::hosts::HostMap> {
        let (reg, _) = self.registry()?;
        Ok(crate::hosts::HostMap::new(&reg.domain, &self.list()?))
    }

    /// One page of complete tenants in id order: at most `limit`, those after the id `after`
    /// (exclusive), and the id to pass as `after` for the next page (`None` on the last).
    /// Reads a page of entries, not the registry: memory is flat in the number of tenants.
    pub fn list_page(&self, after: Option<&str>, limit: usize) -> Result<TenantPage> {
        if limit == 0 {
            return Err(Error::invalid(
                "limit",
                "a page of 0 tenants lists nothing; ask for 1 or more",
            ));
        }
        self.registry()?;
        let mut from = match after {
            Some(a) => Some(TenantId::trusted(a).map_err(|_| {
                Error::invalid(
                    "after",
                    format!("{a:?} is not a tenant id; pass the `next` of the previous page"),
                )
            })?),
            None => None,
        };
        let mut tenants = vec![];
        // One more than asked, to know whether a next page exists.
        while tenants.len() <= limit {
            let want = (limit - tenants.len()).saturating_add(1);
            let (page, next) = entries::page(self.store(), from.as_ref(), want)?;
            tenants.extend(page.into_iter().filter(TenantEntry::is_complete));
            match next {
                Some(n) => from = Some(n),
                None => break,
            }
        }
        let next = (tenants.len() > limit).then(|| tenants[limit - 1].id.clone());
        tenants.truncate(limit);
        Ok(TenantPage { tenants, next })
    }

    /// Whether a name is held: by a tenant, or by a live claim (a creation in progress or a
    /// sign-up awaiting verification).
    pub fn is_taken(&self, id: &TenantId) -> Result<bool> {
        let now = crate::timefmt::now().unix_timestamp();
        Ok(entries::read(self.store(), id)?.is_some_and(|(e, _)| e.holds_name(now)))
    }

    /// Looks a tenant up; only complete tenants count.
    pub fn entry(&self, id: &str) -> Result<(TenantEntry, TenantId)> {
        let missing = || Error::NoSuchTenant(id.to_owned());
        let tid = TenantId::trusted(id).map_err(|_| missing())?;
        self.registry()?;
        let (entry, _) = entries::read(self.store(), &tid)?
            .filter(|(e, _)| e.is_complete())
            .ok_or_else(missing)?;
        Ok((entry, tid))
    }

    /// Changes one complete tenant's entry by compare-and-swap, then the views that follow it.
    fn update_entry<R>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut TenantEntry) -> Result<Option<R>>,
    ) -> Result<Option<R>> {
        let (_, tid) = self.entry(id)?;
        let done = entries::update(self.store(), &tid, |e| {
            if !e.is_complete() {
                return Err(Error::NoSuchTenant(id.to_owned()));
            }
            change(e)
        })?;
        if done.is_some() {
            self.entry_changed(&tid)?;
        }
        Ok(done)
    }

    /// Activates or deactivates a tenant; returns false when it already was.
    pub fn set_active(&self, id: &str, active: bool) -> Result<bool> {
        let changed = self.update_entry(id, |e| {
            if e.active == active {
                return Ok(None);
            }
            e.active = active;
            e.status = if active {
                Status::Active
            } else {
                Status::Inactive
            };
            Ok(Some(()))
        })?;
        if active && changed.is_some() {
            // Its bundle may be older than its content: `build --changed` looks at it again.
            let (_, tid) = self.entry(id)?;
            crate::queue::request_build(self.store(), &tid, "activated")?;
        }
        Ok(changed.is_some())
    }

    pub fn usage(&self, id: &str) -> Result<Usage> {
        let (entry, tid) = self.entry(id)?;
        let cfg = TenantConfig::load(self.store(), &tid)?;
        let mut usage = self.usage_of(&tid, &cfg)?;
        let media = SiteDb::open(self.store(), &tid)?.media_files()?;
        usage.variants_bytes = Some(crate::images::variant_bytes(
            self.store(),
            media.iter().map(|m| m.sha256.as_str()),
        )?);
        usage.bandwidth = Some(self.bandwidth_standing(&entry, &tid, &cfg)?);
        Ok(usage)
    }

    /// Pages, users and storage against the limits (no image variants, no bandwidth).
    pub(crate) fn usage_of(&self, tid: &TenantId, cfg: &TenantConfig) -> Result<Usage> {
        let db = SiteDb::open(self.store(), tid)?;
        let storage = Storage::measure(self.store(), tid)?;
        Ok(Usage {
            tenant: tid.to_string(),
            pages: db.page_count()?,
            users: crate::users::count(cfg, &db)?,
            storage_bytes: storage.total(),
            storage,
            variants_bytes: None,
            limits: Limits::of(cfg)?,
            bandwidth: None,
        })
    }

    pub fn show(&self, id: &str) -> Result<TenantDetails> {
        let (entry, tid) = self.entry(id)?;
        let cfg = TenantConfig::load(self.store(), &tid)?;
        let usage = self.usage_of(&tid, &cfg)?;
        let content_version = SiteDb::open(self.store(), &tid)?.content_version()?;
        Ok(TenantDetails {
            entry,
            site_url: cfg.site_url,
            site_name: cfg.site_name,
            home_slug: cfg.home_slug,
            theme: cfg.theme,
            admin_email: cfg.admin_email,
            admin_enabled: !cfg.admin_password_hash.is_empty(),
            editor_enabled: !cfg.editor_password_hash.is_empty(),
            content_version,
            usage,
        })
    }

    /// Changes a tenant's limits. Lowering a limit below current usage is refused unless
    /// `force` (then further writes are refused until usage drops).
    ///
    /// A bandwidth limit may be set below this month's usage (that is how a tenant is
    /// suspended at once); the mark follows the new limit right away, raising it restores
    /// service without a rebuild.
    pub fn set_quota(&self, id: &str, change: &QuotaChange, force: bool) -> Result<Limits> {
        if change.is_empty() {
            return Err(Error::invalid(
                "limits",
                "give at least one limit to change (storage, pages, users, bandwidth or bandwidth policy)",
            ));
        }
        let (storage, pages, users) = (change.storage.as_deref(), change.pages, change.users);
        let (_, tid) = self.entry(id)?;
        let bandwidth = change.bandwidth.as_deref().map(|b| match b.trim() {
            "default" => String::new(),
            b => b.to_owned(),
        });
        if let Some(b) = bandwidth.as_deref().filter(|b| !b.is_empty()) {
            Limit::of(b, "", None)?;
        }
        if let Some(p) = &change.bandwidth_policy {
            Policy::parse(p)?;
        }
        let storage_bytes = storage
            .map(|s| quota::parse_size(s, QuotaKind::Storage.setting()))
            .transpose()?;
        let usage = self.usage(id)?;
        if !force {
            let over = |limit, used: String, wanted: String| {
                Err(Error::BelowUsage {
                    tenant: id.to_owned(),
                    limit,
                    used,
                    wanted,
                })
            };
            if let (Some(s), Some(b)) = (storage, storage_bytes)
                && b < usage.storage_bytes
            {
                let used = quota::format_size(usage.storage_bytes);
                return over(QuotaKind::Storage, used, s.to_owned());
            }
            if let Some(p) = pages.filter(|&p| p < usage.pages) {
                let used = format!("{} pages", usage.pages);
                return over(QuotaKind::Pages, used, p.to_string());
            }
            if let Some(u) = users.filter(|&u| u < usage.users) {
                let used = format!("{} users", usage.users);
                return over(QuotaKind::Users, used, u.to_string());
            }
        }
        TenantConfig::update_limits(self.store(), &tid, |cfg| {
            if let Some(s) = storage {
                cfg.storage_quota = s.trim().to_owned();
            }
            if let Some(p) = pages {
                cfg.max_pages = p;
            }
            if let Some(u) = users {
                cfg.max_users = u;
            }
            if let Some(b) = &bandwidth {
                cfg.bandwidth_quota = b.clone();
            }
            if let Some(p) = &change.bandwidth_policy {
                cfg.bandwidth_policy = Policy::parse(p)?.as_str().to_owned();
            }
            Ok(Some(()))
        })?;
        Limits::of(&TenantConfig::load(self.store(), &tid)?)
    }
}
