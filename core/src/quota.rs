//! Quotas: `MAX_PAGES` counts story fragments, `MAX_USERS` counts accounts (built-in and named),
//! `STORAGE_QUOTA` counts the tenant's database and media bytes. Checks happen before a write
//! commits, and a refusal names the limit and the current usage.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::store::Store;
use crate::tenant_config::TenantConfig;

/// Parses sizes like `1GB`, `500 MB`, `2GiB` (decimal units are powers of 1000, `i` units of 1024).
pub fn parse_size(text: &str, what: &str) -> Result<u64> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|_| {
            Error::invalid(
                what,
                format!("{text:?} is not a size; write it like 1GB, 500MB or 2GiB"),
            )
        })
}

pub fn format_size(bytes: u64) -> String {
    bytesize::ByteSize(bytes).display().si().to_string()
}

/// Which limit a write ran into; its name is the setting in `env.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum QuotaKind {
    #[serde(rename = "MAX_PAGES")]
    Pages,
    #[serde(rename = "MAX_USERS")]
    Users,
    #[serde(rename = "STORAGE_QUOTA")]
    Storage,
}

impl QuotaKind {
    /// The setting's name: `MAX_PAGES`, `MAX_USERS` or `STORAGE_QUOTA`.
    pub fn setting(self) -> &'static str {
        match self {
            QuotaKind::Pages => "MAX_PAGES",
            QuotaKind::Users => "MAX_USERS",
            QuotaKind::Storage => "STORAGE_QUOTA",
        }
    }
}

impl std::fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.setting())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    pub storage_bytes: u64,
    pub storage_quota: String,
    pub max_pages: u64,
    pub max_users: u64,
}

impl Limits {
    pub fn of(cfg: &TenantConfig) -> Result<Limits> {
        Ok(Limits {
            storage_bytes: parse_size(&cfg.storage_quota, QuotaKind::Storage.setting())?,
            storage_quota: cfg.storage_quota.clone(),
            max_pages: cfg.max_pages,
            max_users: cfg.max_users,
        })
    }
}

/// Bytes a tenant stores: its content database (SQLite files incl. WAL) under `db/{tenant}/`
/// and `media/{tenant}/`. The analytics database beside it is measured but not counted
/// against STORAGE_QUOTA: it grows with visitors, not with what the tenant stores, and a busy
/// site must not lose the right to edit because it is popular.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Storage {
    pub db_bytes: u64,
    pub media_bytes: u64,
    /// `analytics.db` and its WAL (not in [`Storage::total`]).
    pub analytics_bytes: u64,
}

impl Storage {
    pub fn measure(store: &dyn Store, id: &TenantId) -> Result<Storage> {
        // SQLite's `-shm` index exists only while a connection is open and holds no data;
        // counting it would make usage depend on who happens to have the database open.
        let sizes = |k| -> Result<Vec<(String, u64)>> {
            Ok(store
                .list(&k)?
                .into_iter()
                .filter(|e| !e.key.as_str().ends_with("-shm"))
                .map(|e| (e.key.as_str().to_owned(), e.size))
                .collect())
        };
        let analytics = layout::analytics_db(id);
        let (analytics, db): (Vec<_>, Vec<_>) = sizes(layout::db_dir(id))?
            .into_iter()
            .partition(|(k, _)| k.starts_with(analytics.as_str()));
        let sum = |v: Vec<(String, u64)>| v.iter().map(|(_, n)| n).sum();
        Ok(Storage {
            db_bytes: sum(db),
            media_bytes: sum(sizes(layout::media_dir(id))?),
            analytics_bytes: sum(analytics),
        })
    }

    /// What counts against STORAGE_QUOTA.
    pub fn total(&self) -> u64 {
        self.db_bytes + self.media_bytes
    }
}

pub fn check_pages(tenant: &TenantId, limits: &Limits, would_have: u64) -> Result<()> {
    if would_have > limits.max_pages {
        return Err(Error::Quota {
            tenant: tenant.to_string(),
            limit: QuotaKind::Pages,
            detail: format!(
                "this would make {would_have} story fragments and MAX_PAGES is {}",
                limits.max_pages
            ),
        });
    }
    Ok(())
}

pub fn check_users(tenant: &TenantId, limits: &Limits, would_have: u64) -> Result<()> {
    if would_have > limits.max_users {
        return Err(Error::Quota {
            tenant: tenant.to_string(),
            limit: QuotaKind::Users,
            detail: format!(
                "this would make {would_have} users and MAX_USERS is {}",
                limits.max_users
            ),
        });
    }
    Ok(())
}

pub fn check_storage(tenant: &TenantId, limits: &Limits, would_use: u64) -> Result<()> {
    if would_use > limits.storage_bytes {
        return Err(Error::Quota {
            tenant: tenant.to_string(),
            limit: QuotaKind::Storage,
            detail: format!(
                "this would use {} and STORAGE_QUOTA is {}",
                format_size(would_use),
                limits.storage_quota
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GB", "x").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("2GiB", "x").unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_size(" 500 MB ", "x").unwrap(), 500_000_000);
        let err = parse_size("lots", "STORAGE_QUOTA").unwrap_err().to_string();
        assert!(
            err.contains("STORAGE_QUOTA") && err.contains("1GB"),
            "{err}"
        );
    }
}
