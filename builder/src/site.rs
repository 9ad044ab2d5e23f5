//! One tenant's content for rendering, read through core's typed queries
//! ([`t8k_core::content::published`]) from one read-only connection.

use std::collections::BTreeMap;

use t8k_core::TenantId;
use t8k_core::content::published::{Published, Target};
use t8k_core::db::SiteDb;
use t8k_core::tenant_config::TenantConfig;

use crate::error::BuildError;

/// A published page as core reads it.
pub type PageData = t8k_core::content::published::Page;
pub use t8k_core::content::published::Pane;

#[derive(Clone, Debug, serde::Serialize)]
pub struct MenuItem {
    pub label: String,
    pub url: String,
}

pub struct SiteData {
    pub id: TenantId,
    pub config: TenantConfig,
    /// Published (non-draft) pages, newest first, ties by slug.
    pub pages: Vec<PageData>,
    pub menus: BTreeMap<String, Vec<MenuItem>>,
    pub settings: BTreeMap<String, String>,
}

pub use t8k_core::content::paths::url_of;

/// Reads a tenant's published content from its (read-only) database, with menu entries
/// turned into the URLs the site uses; the pages' panes only `with_panes` (an incremental
/// build reads those of the pages it renders).
pub fn load(
    db: &SiteDb,
    id: &TenantId,
    config: TenantConfig,
    with_panes: bool,
) -> Result<SiteData, BuildError> {
    let published = db.published_rows(with_panes).map_err(terr(id))?;
    Ok(site(id, config, published))
}

/// As [`load`] without panes, from the pages an earlier build of this database read
/// (`before`): only the rows changed since are read again.
pub fn refresh(
    db: &SiteDb,
    id: &TenantId,
    config: TenantConfig,
    before: Vec<PageData>,
) -> Result<SiteData, BuildError> {
    let (published, read) = db.published_since(before).map_err(terr(id))?;
    tracing::debug!(tenant = %id, rows = read, "pages read again");
    Ok(site(id, config, published))
}

fn terr(id: &TenantId) -> impl Fn(t8k_core::Error) -> BuildError + '_ {
    move |source| BuildError::Tenant {
        tenant: id.to_string(),
        source,
    }
}

fn site(id: &TenantId, config: TenantConfig, published: Published) -> SiteData {
    let menus = published
        .menus
        .into_iter()
        .map(|(name, entries)| {
            let items = entries
                .into_iter()
                .map(|e| MenuItem {
                    label: e.label,
                    url: match e.target {
                        Target::Page(slug) => url_of(&slug, &config.home_slug),
                        Target::Url(url) => url,
                    },
                })
                .collect();
            (name, items)
        })
        .collect();
    SiteData {
        id: id.clone(),
        config,
        pages: published.pages,
        menus,
        settings: published.settings,
    }
}
