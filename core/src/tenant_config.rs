//! A tenant's `config/{tenant}/env.json`, with TractStack's field names (`TENANT_ID`,
//! `SITE_URL`, `SITE_NAME`, `HOME_SLUG`, `ADMIN_PASSWORD_HASH`, `EDITOR_PASSWORD_HASH`,
//! `STORAGE_QUOTA`, `MAX_PAGES`, `MAX_USERS`) plus t8k's (`SIGNING_SECRET`, `THEME`, ...).
//! Unknown fields are kept on rewrite.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cas;
use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::store::Store;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct TenantConfig {
    pub tenant_id: String,
    pub site_url: String,
    pub site_name: String,
    pub home_slug: String,
    /// Argon2id PHC string of the built-in `admin` account; empty = disabled.
    #[serde(default)]
    pub admin_password_hash: String,
    /// Argon2id PHC string of the built-in `editor` account; empty = disabled until set.
    #[serde(default)]
    pub editor_password_hash: String,
    pub storage_quota: String,
    pub max_pages: u64,
    pub max_users: u64,
    /// Bytes served per calendar month (`100GB`); empty: the installation's default
    /// ([`crate::bandwidth::limit`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bandwidth_quota: String,
    /// `notify` (empty), `throttle` or `suspend`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bandwidth_policy: String,
    #[serde(default)]
    pub admin_email: String,
    /// Per-tenant key for signing session and verification tokens (hex, 256 bits).
    pub signing_secret: String,
    pub theme: String,
    /// The published version of the theme the site builds with; unset: its channel's version
    /// ([`crate::themes`]). A rollout sets it; `t8k tenant pin` sets or clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_version: Option<u32>,
    /// The channel the site follows for platform updates: `stable` (empty) or `canary`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release_channel: String,
    /// Comma-separated hex colours, TractStack style.
    #[serde(default)]
    pub brand_colours: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TenantConfig {
    pub fn load(store: &dyn Store, id: &TenantId) -> Result<TenantConfig> {
        let key = layout::env_json(id);
        let (cfg, _) =
            cas::read_json::<TenantConfig>(store, &key)?.ok_or_else(|| Error::Corrupt {
                file: key.to_string(),
                message: format!(
                    "it is missing although tenant '{id}' is registered; restore it from a backup"
                ),
            })?;
        Ok(cfg)
    }

    /// Compare-and-swap update of a tenant's env.json.
    pub fn update<R>(
        store: &dyn Store,
        id: &TenantId,
        change: impl FnMut(&mut TenantConfig) -> Result<Option<R>>,
    ) -> Result<Option<R>> {
        let key = layout::env_json(id);
        let done = cas::update_json(store, &key, || Error::NoSuchTenant(id.to_string()), change)?;
        if done.is_some() {
            // env.json is an input of the bundle: `build --changed` learns of it from the queue.
            crate::queue::request_build(store, id, "settings changed")?;
        }
        Ok(done)
    }
}

impl TenantConfig {
    /// The settings with the limits and the release blanked: what a site's pages are made from
    /// (no page shows a quota, so changing one renders nothing again; the theme version is in
    /// the theme's own fingerprint, so a pin to the bytes already built renders nothing either).
    pub fn without_limits(&self) -> TenantConfig {
        TenantConfig {
            theme_version: None,
            release_channel: String::new(),
            storage_quota: String::new(),
            max_pages: 0,
            max_users: 0,
            bandwidth_quota: String::new(),
            bandwidth_policy: String::new(),
            ..self.clone()
        }
    }

    /// [`TenantConfig::update`] for the limits (quotas), which are no input of the bundle:
    /// no build is asked for.
    pub fn update_limits<R>(
        store: &dyn Store,
        id: &TenantId,
        change: impl FnMut(&mut TenantConfig) -> Result<Option<R>>,
    ) -> Result<Option<R>> {
        let key = layout::env_json(id);
        cas::update_json(store, &key, || Error::NoSuchTenant(id.to_string()), change)
    }
}

/// 256 random bits as hex, for signing secrets.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex::encode(bytes)
}
