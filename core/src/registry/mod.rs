//! The tenant registry. `config/t8k/tenants.json` holds the installation's settings with the
//! field names TractStack documents (`max_tenants`, `default_quota`, `enable_custom_domains`,
//! `require_email_verification`, `auto_ssl`, `tenants[]`) plus t8k's own; unknown fields are
//! kept on rewrite. The tenants themselves live one small object each, so that what a create,
//! sign-up or status change writes does not grow with the number of tenants:
//!
//! ```text
//! config/t8k/tenants/{id}        the tenant's entry (what tenants[] holds), created create-only
//! config/t8k/slots/{n}.json      one of max_tenants places, claimed create-only (slots)
//! config/t8k/hosts/{host}.json   host -> tenant, claimed create-only (host_keys)
//! ```
//!
//! `tenants[]` in tenants.json is a generated view of the entries ([`view`]); a wave-1
//! registry, where it was the source of truth, is migrated on first use ([`migrate`]).
//!
//! A tenant's entry exists before its files do, as a *claim* (`status: creating`); claims
//! carry their holder's identity and a lease, so one left behind by a crashed process is
//! recognised as stale and can be taken over.

pub mod entries;
pub mod host_keys;
pub mod migrate;
pub mod slots;
pub mod view;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::name::{NamePolicy, TenantId};

/// Let's Encrypt's production ACME directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous rate limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registry {
    pub max_tenants: u64,
    pub default_quota: String,
    pub enable_custom_domains: bool,
    pub require_email_verification: bool,
    pub auto_ssl: bool,
    /// The installation's main domain; tenants live at `{id}.{domain}`.
    #[serde(default)]
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_multi_tenant: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_enable_multi_tenant: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_pages: Option<u64>,
    /// Every tenant's `BANDWIDTH_QUOTA` unless its env.json sets one; none: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_bandwidth_quota: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_users: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name_min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name_max_length: Option<usize>,
    /// The name custom domains point at (CNAME, or the same A/AAAA records); default the
    /// main domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_target: Option<String>,
    /// The ACME directory certificates come from (`auto_ssl`); default Let's Encrypt's
    /// production directory ([`LETS_ENCRYPT`]); `t8k certs renew --staging` uses its staging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_directory: Option<String>,
    /// The contact address of the ACME account (expiry warnings from the CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_email: Option<String>,
    /// A command that publishes DNS-01 answers for the wildcard certificate of the tenants'
    /// subdomains: run as `HOOK set NAME VALUE` (returning once the TXT record is served)
    /// and `HOOK unset NAME VALUE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_dns_hook: Option<String>,
    /// Where `t8k backup` writes and the tenants' default schedule (`t8k backup init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSettings>,
    /// Outgoing mail (sign-up verification). Without it, mail is written to `outbox/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    /// 2 once the tenants live one entry each under `config/t8k/tenants/` (absent in a wave-1
    /// registry, whose `tenants[]` is the source of truth until [`migrate`] runs).
    #[serde(default)]
    pub registry_layout: u32,
    /// What `tenants[]` shows and where the live entries are, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants_view: Option<view::ViewNote>,
    /// A generated view of the tenants ([`view`]); never read to decide anything.
    #[serde(default)]
    pub tenants: Vec<TenantEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The installation's backup repository (never its passphrase, which is given at run time).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackupSettings {
    /// A folder or `s3://bucket/prefix`.
    pub repository: String,
    /// `BACKUP_SCHEDULE` for tenants whose env.json names none (`daily` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// The registry layout this t8k writes.
pub const LAYOUT: u32 = 2;

/// Makes the folders of entries and host keys on a local root, so a server can watch them
/// from the start (a missing folder cannot be watched, and every lookup would look again).
pub fn make_folders(store: &dyn crate::store::Store) -> crate::Result<()> {
    for dir in [
        crate::key::layout::tenant_entries(),
        crate::key::layout::host_keys(),
    ] {
        if let Some(path) = store.local_path(&dir) {
            std::fs::create_dir_all(&path).map_err(|source| crate::Error::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
    }
    Ok(())
}

/// The SMTP server the installation sends mail through. The password is never stored here: it
/// comes from `T8K_SMTP_PASSWORD` in the environment of the process that sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (port 587), `tls` (implicit TLS, port 465) or `none` (a relay on loopback).
    pub tls: SmtpTls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The sender, e.g. `t8k <no-reply@example.com>`.
    pub from: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Inactive,
    /// Claimed; files being written. Invisible to `tenant list` until complete.
    Creating,
    /// Being moved to the trash.
    Deleting,
    /// Reserved by a sign-up awaiting email verification; the claim's lease is the link's
    /// lifetime, after which the name is free again.
    Pending,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Creating => "creating",
            Status::Deleting => "deleting",
            Status::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantEntry {
    pub id: String,
    pub domain: String,
    #[serde(default)]
    pub custom_domains: Vec<String>,
    pub created: String,
    pub active: bool,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    /// Custom domains being set up or checked, each with its state; `custom_domains` lists
    /// the active ones (the hosts that route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<DomainState>,
    /// The place of `max_tenants` this tenant holds ([`slots`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
    /// Set while a month's bandwidth is over its limit under `throttle` or `suspend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_limit: Option<crate::bandwidth::limit::OverLimit>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_status() -> Status {
    Status::Active
}

impl TenantEntry {
    /// A tenant whose creation finished (active or not): what `tenant list` shows.
    pub fn is_complete(&self) -> bool {
        matches!(self.status, Status::Active | Status::Inactive)
    }

    pub fn tenant_id(&self) -> Result<TenantId, crate::name::NameError> {
        TenantId::trusted(&self.id)
    }

    /// True when the entry holds its name: a finished tenant, one being deleted, or a claim
    /// whose holder is alive and within its lease.
    pub fn holds_name(&self, now: i64) -> bool {
        !matches!(self.status, Status::Creating | Status::Pending)
            || self.claim.as_ref().is_some_and(|c| !c.is_stale(now))
    }

    /// The host names that lead to this tenant by its entry: its domain and custom domains.
    pub fn own_hosts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.domain.as_str()).chain(self.custom_domains.iter().map(String::as_str))
    }

    /// Every host whose key this tenant holds: its own hosts and domains still being set up.
    pub fn claimed_hosts(&self) -> impl Iterator<Item = &str> {
        self.own_hosts()
            .chain(self.domains.iter().map(|d| d.host.as_str()))
    }
}

/// A custom domain's progress: `pending` until its TXT record proves the tenant owns it,
/// `verified` until it also points at the installation (and, with `auto_ssl`, has a
/// certificate), then `active`: only active domains route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainState {
    pub host: String,
    pub status: DomainStatus,
    pub added: String,
    /// When DNS was last looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
    /// What the last check found missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Since when an active domain's records have been missing (it is detached after a
    /// grace period, so a DNS hiccup does not take a site down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Vouched for by the operator (`--trust`): never checked in DNS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted: bool,
    /// Proved and pointed here, held back only by its certificate (`auto_ssl`): the next
    /// `t8k certs renew` obtains one and makes it active.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_certificate: bool,
    /// The domain asks browsers to use HTTPS only (`Strict-Transport-Security`, sent by the
    /// edge over HTTPS): `t8k domain hsts`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hsts: bool,
}

impl TenantEntry {
    /// The tenant's active custom domains that ask for HSTS.
    pub fn hsts_hosts(&self) -> impl Iterator<Item = &str> {
        self.domains
            .iter()
            .filter(|d| d.hsts && d.status == DomainStatus::Active)
            .map(|d| d.host.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    Pending,
    Verified,
    Active,
}

/// Who is creating (or deleting) a tenant, and until when the claim holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// A random token identifying one `create` run.
    pub holder: String,
    /// `hostname/pid/start-time` of the holder process, to detect a dead holder at once.
    pub process: String,
    /// Unix seconds from which the claim is stale whoever holds it.
    pub expires: i64,
}

impl Claim {
    pub fn is_stale(&self, now: i64) -> bool {
        now >= self.expires || crate::lifecycle::process::is_dead(&self.process)
    }
}

impl Registry {
    pub fn name_policy(&self) -> Result<NamePolicy, String> {
        NamePolicy::new(
            self.tenant_name_min_length
                .unwrap_or(crate::name::DEFAULT_MIN_LEN),
            self.tenant_name_max_length
                .unwrap_or(crate::name::DEFAULT_MAX_LEN),
        )
    }

    /// `input` as a tenant id, checked against this installation's naming policy.
    pub fn validate_name(&self, input: &str) -> crate::Result<TenantId> {
        let policy = self
            .name_policy()
            .map_err(|m| crate::Error::invalid("config/t8k/tenants.json", m))?;
        Ok(crate::name::validate(input, policy)?)
    }

    /// The host name of a tenant: `{id}.{domain}` in multi-tenant mode, the domain itself for
    /// the single tenant of a single-tenant installation.
    pub fn tenant_domain(&self, id: &TenantId, multi: bool) -> String {
        if multi {
            format!("{id}.{}", self.domain)
        } else {
            self.domain.clone()
        }
    }
}

#[cfg(test)]
mod tests;
