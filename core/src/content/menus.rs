//! Menus through the content API: each menu is replaced whole (`put`), so an editor's form
//! maps to one transaction. An item links a story fragment (by slug; it follows renames and
//! goes when the page does) or a URL (site-relative `/…`, or `http(s)://`, nothing else, so no
//! `javascript:` link can be planted).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{check_path, check_slug, edit, pages};
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::name::TenantId;
use crate::store::Store;

const MAX_ITEMS: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Menu {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub items: Vec<MenuItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenuItem {
    pub label: String,
    /// The story fragment this item links (its slug)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// …or an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub weight: i64,
}

/// A menu link: a path on the tenant's own site or an http(s) address. Browsers read `\` as
/// `/` in such URLs (`/\evil.test/` goes to `//evil.test`), so a backslash is refused anywhere.
fn check_url(url: &str) -> std::result::Result<(), String> {
    let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
    let relative = url.starts_with('/') && !url.starts_with("//");
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{url:?} must be at most 2000 characters without spaces"
        ));
    }
    if url.contains('\\') {
        return Err(format!(
            "{url:?} contains a backslash, which browsers read as a slash; use / instead"
        ));
    }
    if !(ok_scheme || relative) {
        return Err(format!(
            "{url:?} must be a site path like /about/ or an http(s):// address"
        ));
    }
    Ok(())
}

fn check(menu: &Menu) -> Result<()> {
    check_slug(&menu.name).map_err(|m| Error::invalid("menu name", m))?;
    if menu.title.chars().count() > 100 {
        return Err(Error::invalid("menu title", "give at most 100 characters"));
    }
    if menu.items.len() > MAX_ITEMS {
        return Err(Error::invalid(
            "menu items",
            format!("a menu holds at most {MAX_ITEMS} items"),
        ));
    }
    for item in &menu.items {
        let label = item.label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(Error::invalid(
                "menu item label",
                "give 1–100 printable characters",
            ));
        }
        match (&item.page, &item.url) {
            (Some(slug), None) => {
                check_path(slug).map_err(|m| Error::invalid("menu item page", m))?
            }
            (None, Some(url)) => check_url(url).map_err(|m| Error::invalid("menu item url", m))?,
            _ => {
                return Err(Error::invalid(
                    "menu item",
                    format!("{label:?} needs exactly one of `page` (a slug) or `url`"),
                ));
            }
        }
    }
    Ok(())
}

pub fn list(store: &dyn Store, id: &TenantId) -> Result<Vec<Menu>> {
    let db = SiteDb::open(store, id)?;
    let e = db.err();
    let read = || -> rusqlite::Result<Vec<Menu>> {
        let mut menus: Vec<Menu> = db
            .conn
            .prepare("SELECT id, name, title FROM menus ORDER BY name")?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Menu {
                        name: r.get(1)?,
                        title: r.get(2)?,
                        items: vec![],
                    },
                ))
            })?
            .map(|r| {
                let (mid, mut menu) = r?;
                menu.items = db
                    .conn
                    .prepare(
                        "SELECT i.label, sf.slug, i.url, i.weight FROM menu_items i
                         LEFT JOIN story_fragments sf ON sf.id = i.story_fragment_id
                         WHERE i.menu_id = ?1 ORDER BY i.weight, i.id",
                    )?
                    .query_map([mid], |r| {
                        Ok(MenuItem {
                            label: r.get(0)?,
                            page: r.get(1)?,
                            url: r.get(2)?,
                            weight: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(menu)
            })
            .collect::<rusqlite::Result<_>>()?;
        menus.retain(|m| !m.name.is_empty());
        Ok(menus)
    };
    read().map_err(e)
}

/// Creates or replaces a menu and its items in one transaction, then queues a build.
pub fn put(store: &dyn Store, id: &TenantId, menu: &Menu) -> Result<()> {
    check(menu)?;
    edit::transact(store, id, |tx, _, now| {
        let write = || -> Result<()> {
            let mid = pages::menu_id(tx, &menu.name, now).map_err(Error::db(id.as_str()))?;
            let title = if menu.title.trim().is_empty() {
                tx.query_row("SELECT title FROM menus WHERE id = ?1", [mid], |r| r.get(0))
                    .map_err(Error::db(id.as_str()))?
            } else {
                menu.title.trim().to_owned()
            };
            tx.execute(
                "UPDATE menus SET title = ?1, changed = ?2 WHERE id = ?3",
                params![title, now, mid],
            )
            .map_err(Error::db(id.as_str()))?;
            tx.execute("DELETE FROM menu_items WHERE menu_id = ?1", [mid])
                .map_err(Error::db(id.as_str()))?;
            for item in &menu.items {
                let page: Option<i64> = match &item.page {
                    None => None,
                    Some(slug) => Some(
                        tx.query_row(
                            "SELECT id FROM story_fragments WHERE slug = ?1",
                            [slug],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(Error::db(id.as_str()))?
                        .ok_or_else(|| Error::NoSuchPage(slug.clone()))?,
                    ),
                };
                tx.execute(
                    "INSERT INTO menu_items (menu_id, label, story_fragment_id, url, weight) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![mid, item.label.trim(), page, item.url, item.weight],
                )
                .map_err(Error::db(id.as_str()))?;
            }
            Ok(())
        };
        write()
    })
}

/// Deletes a menu (pages that showed it show none), then queues a build.
pub fn delete(store: &dyn Store, id: &TenantId, name: &str) -> Result<()> {
    check_slug(name).map_err(|m| Error::invalid("menu name", m))?;
    edit::transact(store, id, |tx, _, _| {
        let gone = tx
            .execute("DELETE FROM menus WHERE name = ?1", [name])
            .map_err(Error::db(id.as_str()))?;
        if gone == 0 {
            return Err(Error::NoSuchMenu(name.to_owned()));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_site_paths_or_http() {
        assert!(check_url("/about/").is_ok());
        assert!(check_url("https://example.org/x?y=1").is_ok());
        for bad in [
            "javascript:alert(1)",
            "//evil.com/",
            "about",
            "data:text/html,x",
            "/a b",
            "/\\evil.test/",
            "\\\\evil.test/",
            "https://example.org\\@evil.test/",
            "/about\\",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
