//! Loading one tenant's content for rendering: one read-only database connection, a handful of
//! queries (not one per page), drafts left out.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use t8k_core::TenantId;
use t8k_core::db::SiteDb;
use t8k_core::tenant_config::TenantConfig;

use crate::error::BuildError;

#[derive(Clone, Debug)]
pub struct PageData {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub date: Option<String>,
    pub created: String,
    pub changed: String,
    pub weight: i64,
    pub social_image: Option<String>,
    /// Name of the menu shown on the page.
    pub menu: Option<String>,
    pub panes: Vec<Pane>,
}

/// A pane's Markdown and its options.
pub type Pane = (String, Map<String, Value>);

impl PageData {
    /// What "newest" means for listings and feeds: the page's date, else when it was created.
    pub fn sort_date(&self) -> &str {
        self.date.as_deref().unwrap_or(&self.created)
    }
}

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

fn db_err(id: &TenantId) -> impl Fn(rusqlite::Error) -> BuildError + '_ {
    move |e| BuildError::Tenant {
        tenant: id.to_string(),
        source: t8k_core::Error::Db {
            db: format!("db/{id}/site.db"),
            source: e,
        },
    }
}

pub fn url_of(slug: &str, home_slug: &str) -> String {
    if slug == home_slug {
        "/".to_owned()
    } else {
        format!("/{slug}/")
    }
}

/// Reads a tenant's published content from its (read-only) database.
pub fn load(db: &SiteDb, id: &TenantId, config: TenantConfig) -> Result<SiteData, BuildError> {
    let e = db_err(id);
    let json = |s: String| serde_json::from_str::<Map<String, Value>>(&s).unwrap_or_default();

    let mut pages: Vec<PageData> = db
        .conn
        .prepare(
            "SELECT sf.id, sf.slug, sf.title, sf.description, sf.date, sf.created, sf.changed, sf.weight, sf.social_image, m.name
             FROM story_fragments sf LEFT JOIN menus m ON m.id = sf.menu_id WHERE sf.draft = 0",
        )
        .map_err(&e)?
        .query_map([], |r| {
            Ok(PageData {
                id: r.get(0)?,
                slug: r.get(1)?,
                title: r.get(2)?,
                description: r.get(3)?,
                date: r.get(4)?,
                created: r.get(5)?,
                changed: r.get(6)?,
                weight: r.get(7)?,
                social_image: r.get(8)?,
                menu: r.get(9)?,
                panes: vec![],
            })
        })
        .map_err(&e)?
        .collect::<Result<_, _>>()
        .map_err(&e)?;

    let mut panes: BTreeMap<i64, Vec<Pane>> = BTreeMap::new();
    let mut stmt = db
        .conn
        .prepare("SELECT sp.story_fragment_id, p.markdown, p.options FROM story_fragment_panes sp JOIN panes p ON p.id = sp.pane_id ORDER BY sp.story_fragment_id, sp.position")
        .map_err(&e)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (sf, md, opts) = row.map_err(&e)?;
        panes.entry(sf).or_default().push((md, json(opts)));
    }
    for p in &mut pages {
        p.panes = panes.remove(&p.id).unwrap_or_default();
    }
    pages.sort_by(|a, b| {
        b.sort_date()
            .cmp(a.sort_date())
            .then_with(|| a.slug.cmp(&b.slug))
    });

    let published: std::collections::HashSet<i64> = pages.iter().map(|p| p.id).collect();
    let mut menus: BTreeMap<String, Vec<MenuItem>> = BTreeMap::new();
    let mut stmt = db
        .conn
        .prepare(
            "SELECT m.name, i.label, sf.slug, i.url, i.story_fragment_id FROM menu_items i JOIN menus m ON m.id = i.menu_id
             LEFT JOIN story_fragments sf ON sf.id = i.story_fragment_id ORDER BY m.name, i.weight, i.label, i.id",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (menu, label, slug, url, sf) = row.map_err(&e)?;
        let url = match (slug, url) {
            // Menu entries of draft pages would be dead links.
            (Some(slug), _) if sf.is_some_and(|id| published.contains(&id)) => {
                url_of(&slug, &config.home_slug)
            }
            (None, Some(url)) => url,
            _ => continue,
        };
        menus.entry(menu).or_default().push(MenuItem { label, url });
    }

    let settings = db
        .conn
        .prepare("SELECT key, value FROM settings ORDER BY key")
        .map_err(&e)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(&e)?
        .collect::<Result<_, _>>()
        .map_err(&e)?;
    Ok(SiteData {
        id: id.clone(),
        config,
        pages,
        menus,
        settings,
    })
}
