//! Editing story fragments one at a time (the content API): every write is one transaction,
//! checked against MAX_PAGES and STORAGE_QUOTA before it commits, and queues a build.

use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::{Page, check_path, check_slug, pages};
use crate::db::{self, SiteDb};
use crate::error::{Error, Result};
use crate::name::TenantId;
use crate::quota::{self, Limits};
use crate::store::Store;
use crate::tenant_config::TenantConfig;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub slug: String,
    pub title: String,
    pub draft: bool,
    pub date: Option<String>,
    pub changed: String,
}

pub fn list(store: &dyn Store, id: &TenantId) -> Result<Vec<Summary>> {
    let db = SiteDb::open(store, id)?;
    let mut stmt = db
        .conn
        .prepare("SELECT slug, title, draft, date, changed FROM story_fragments ORDER BY slug")
        .map_err(db.err())?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Summary {
                slug: r.get(0)?,
                title: r.get(1)?,
                draft: r.get(2)?,
                date: r.get(3)?,
                changed: r.get(4)?,
            })
        })
        .map_err(db.err())?;
    let mut out = vec![];
    for r in rows {
        out.push(r.map_err(db.err())?);
    }
    Ok(out)
}

pub fn get(store: &dyn Store, id: &TenantId, slug: &str) -> Result<Option<Page>> {
    check_path(slug).map_err(|m| Error::invalid("slug", m))?;
    let db = SiteDb::open(store, id)?;
    pages::load(&db.conn, slug).map_err(db.err())
}

/// Checks a page document the way import checks a file.
fn check(page: &Page) -> Result<()> {
    check_path(&page.slug).map_err(|m| Error::invalid("slug", m))?;
    for alias in &page.aliases {
        check_path(alias).map_err(|m| Error::invalid("aliases", m))?;
    }
    super::check_taxonomies(&page.taxonomies).map_err(|m| Error::invalid("taxonomies", m))?;
    if page.title.trim().is_empty() || page.title.len() > 300 {
        return Err(Error::invalid("title", "give a title of 1–300 characters"));
    }
    if page.panes.len() > 200 {
        return Err(Error::invalid(
            "panes",
            "a story fragment holds at most 200 panes",
        ));
    }
    for m in &page.menus {
        check_slug(m).map_err(|e| Error::invalid("menu", e))?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Runs `change` in one immediate transaction of the tenant's database, refuses it (rolled
/// back) if it grows the tenant past STORAGE_QUOTA, commits, and queues a build. Every content
/// edit and every media upload goes through here: usage is measured inside the transaction
/// ([`SiteDb::stored_in_transaction`]), so the check and the write are one atomic step.
pub fn transact<R>(
    store: &dyn Store,
    id: &TenantId,
    mut change: impl FnMut(&rusqlite::Transaction, &Limits, &str) -> Result<R>,
) -> Result<R> {
    let cfg = TenantConfig::load(store, id)?;
    let limits = Limits::of(&cfg)?;
    let now = crate::timefmt::now_rfc3339();
    let out = db::with_write(store, id, |db: &mut SiteDb| {
        let tx = db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::db(id.as_str()))?;
        let stored = |tx: &rusqlite::Transaction| {
            SiteDb::stored_in_transaction(tx).map_err(Error::db(id.as_str()))
        };
        let before = stored(&tx)?;
        let out = change(&tx, &limits, &now)?;
        let after = stored(&tx)?;
        if after > before {
            quota::check_storage(id, &limits, after)?;
        }
        tx.commit().map_err(Error::db(id.as_str()))?;
        Ok(out)
    })?;
    Ok(out) // the write queued a build (db::with_write)
}

/// Creates (`Mode::Create`: the slug must be free) or replaces (`Mode::Update`: it must exist)
/// a page, then queues a build.
pub fn save(store: &dyn Store, id: &TenantId, page: &Page, mode: Mode) -> Result<()> {
    save_expecting(store, id, page, mode, None)
}

/// A page's version: a digest of the whole document, so any change by anyone gives another
/// (the content API sends it as the page's ETag).
pub fn version(page: &Page) -> String {
    let json = serde_json::to_vec(page).expect("pages serialise");
    crate::secrets::sha256_hex(&json)[..32].to_owned()
}

/// [`save`], refused with [`Error::EditConflict`] when `expected` is given and the stored
/// page's [`version`] is another: two editors (or two tabs) never overwrite each other.
pub fn save_expecting(
    store: &dyn Store,
    id: &TenantId,
    page: &Page,
    mode: Mode,
    expected: Option<&str>,
) -> Result<()> {
    check(page)?;
    transact(store, id, |tx, limits, now| {
        let existing = pages::load(tx, &page.slug).map_err(Error::db(id.as_str()))?;
        if let (Some(old), Some(expected)) = (&existing, expected)
            && version(old) != expected
        {
            return Err(Error::EditConflict(page.slug.clone()));
        }
        let exists = existing.is_some();
        match (mode, exists) {
            (Mode::Create, true) => {
                return Err(Error::invalid(
                    "slug",
                    format!("{:?} is taken by another story fragment", page.slug),
                ));
            }
            (Mode::Update, false) => return Err(Error::NoSuchPage(page.slug.clone())),
            _ => {}
        }
        if mode == Mode::Create {
            let count: u64 = tx
                .query_row("SELECT count(*) FROM story_fragments", [], |r| r.get(0))
                .map_err(Error::db(id.as_str()))?;
            quota::check_pages(id, limits, count + 1)?;
        }
        pages::upsert(tx, page, now).map_err(Error::db(id.as_str()))?;
        Ok(())
    })
}

/// Deletes a page (never the home page), then queues a build.
pub fn delete(store: &dyn Store, id: &TenantId, slug: &str) -> Result<()> {
    check_path(slug).map_err(|m| Error::invalid("slug", m))?;
    let cfg = TenantConfig::load(store, id)?;
    if slug == cfg.home_slug {
        return Err(Error::invalid(
            "slug",
            format!("{slug:?} is the home page (HOME_SLUG); it can be edited, not deleted"),
        ));
    }
    let gone = db::with_write(store, id, |db: &mut SiteDb| {
        pages::delete(&db.conn, slug).map_err(db.err())
    })?;
    if !gone {
        return Err(Error::NoSuchPage(slug.to_owned()));
    }
    Ok(()) // the write queued a build (db::with_write)
}
