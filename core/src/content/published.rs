//! What a build reads from a tenant's database: the published (non-draft) pages with their
//! panes, the menus with their entries, the site settings and the media keys — in the order the
//! builder needs, with a handful of queries (not one per page). Only core knows the tables: a
//! new column is a change here, not in the builder.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use crate::db::SiteDb;
use crate::error::Result;

/// A pane's Markdown and its options.
pub type Pane = (String, Map<String, Value>);

/// One published page.
#[derive(Clone, Debug)]
pub struct Page {
    pub id: i64,
    /// The page's path (see [`super::paths`]).
    pub slug: String,
    pub kind: super::Kind,
    pub title: String,
    pub description: String,
    pub date: Option<String>,
    pub created: String,
    pub changed: String,
    pub weight: i64,
    pub social_image: Option<String>,
    /// Name of the menu shown on the page.
    pub menu: Option<String>,
    pub aliases: Vec<String>,
    pub taxonomies: BTreeMap<String, Vec<String>>,
    pub panes: Vec<Pane>,
    /// Drawn again on every change of the page or its panes (see the schema's V4).
    pub revision: i64,
}

impl Page {
    /// What "newest" means for listings and feeds: the page's date, else when it was created.
    pub fn sort_date(&self) -> &str {
        self.date.as_deref().unwrap_or(&self.created)
    }
}

/// Where a menu entry leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A published page, by slug.
    Page(String),
    /// Any URL.
    Url(String),
}

#[derive(Clone, Debug)]
pub struct MenuEntry {
    pub label: String,
    pub target: Target,
}

/// One uploaded media file, as a build needs it.
#[derive(Clone, Debug)]
pub struct MediaRow {
    /// `media/{tenant}/ab/{sha256}.{ext}`
    pub key: String,
    pub sha256: String,
    pub mime: String,
    pub alt: String,
}

/// A tenant's published content.
pub struct Published {
    /// Newest first ([`Page::sort_date`]), ties by slug.
    pub pages: Vec<Page>,
    /// Menu name → entries in order (weight, label); entries of draft pages are left out,
    /// they would be dead links.
    pub menus: BTreeMap<String, Vec<MenuEntry>>,
    pub settings: BTreeMap<String, String>,
}

impl SiteDb {
    /// The published content (see [`Published`]).
    pub fn published(&self) -> Result<Published> {
        self.published_rows(true)
    }

    /// The published content; with `with_panes` false the pages' panes are left empty, to be
    /// read for the pages that need them ([`SiteDb::panes_of`]).
    pub fn published_rows(&self, with_panes: bool) -> Result<Published> {
        read(&self.conn, with_panes).map_err(self.err())
    }

    /// The published content without panes, brought up to date from `before` — the pages an
    /// earlier call found in this same database — by reading again only the rows whose
    /// revision changed (a 10,000-page site with one page edited reads one row). Also returns
    /// how many rows it read.
    pub fn published_since(&self, before: Vec<Page>) -> Result<(Published, usize)> {
        refresh(&self.conn, before).map_err(self.err())
    }

    /// Every published page's panes, by page id (one query).
    pub fn all_panes(&self) -> Result<HashMap<i64, Vec<Pane>>> {
        panes(&self.conn).map_err(self.err())
    }

    /// The panes of the pages `ids`, by page id.
    pub fn panes_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<Pane>>> {
        let read = || -> rusqlite::Result<HashMap<i64, Vec<Pane>>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT sp.story_fragment_id, p.markdown, p.options FROM story_fragment_panes sp
                 JOIN panes p ON p.id = sp.pane_id WHERE sp.story_fragment_id = ?1 ORDER BY sp.position",
            )?;
            let mut out = HashMap::with_capacity(ids.len());
            for &id in ids {
                let rows = stmt.query_map([id], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        json_or_empty(r.get_ref(2)?.as_str()?),
                    ))
                })?;
                out.insert(id, rows.collect::<rusqlite::Result<Vec<Pane>>>()?);
            }
            Ok(out)
        };
        read().map_err(self.err())
    }

    /// The tenant's uploaded media files, by key.
    pub fn media_files(&self) -> Result<Vec<MediaRow>> {
        let read = || -> rusqlite::Result<Vec<MediaRow>> {
            self.conn
                .prepare("SELECT key, content_hash, mime, alt_text FROM media_files ORDER BY key")?
                .query_map([], |r| {
                    Ok(MediaRow {
                        key: r.get(0)?,
                        sha256: r.get(1)?,
                        mime: r.get(2)?,
                        alt: r.get(3)?,
                    })
                })?
                .collect()
        };
        read().map_err(self.err())
    }

    /// SQLite's `data_version`: changes when another connection commits, so a cache keyed by
    /// it knows its figures are stale.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(self.err())
    }
}

fn read(conn: &Connection, with_panes: bool) -> rusqlite::Result<Published> {
    let mut pages = pages(conn)?;
    if with_panes {
        let mut panes = panes(conn)?;
        for p in &mut pages {
            p.panes = panes.remove(&p.id).unwrap_or_default();
        }
    }
    finish(conn, pages)
}

/// The published pages without their panes, from `before` (the same database's pages as an
/// earlier read found them, in its order, panes left out) and the rows changed since: a page
/// whose revision and menu are what `before` says is kept where it is. Also returns how many
/// rows were read again (all of them when most changed).
fn refresh(conn: &Connection, mut before: Vec<Page>) -> rusqlite::Result<(Published, usize)> {
    let at: foldhash::HashMap<i64, usize> =
        before.iter().enumerate().map(|(n, p)| (p.id, n)).collect();
    let mut listed = vec![false; before.len()];
    let mut stale = vec![];
    let mut scan = conn.prepare_cached(
        "SELECT sf.id, sf.revision, m.name FROM story_fragments sf
         LEFT JOIN menus m ON m.id = sf.menu_id WHERE sf.draft = 0",
    )?;
    let mut rows = scan.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        match at.get(&id).map(|&n| (n, &before[n])) {
            Some((n, p))
                if p.revision == r.get::<_, i64>(1)?
                    && p.menu.as_deref() == r.get_ref(2)?.as_str_or_null()? =>
            {
                listed[n] = true;
            }
            _ => stale.push(id),
        }
    }
    if stale.len() > before.len() / 4 {
        let all = pages(conn)?;
        let n = all.len();
        return Ok((finish(conn, all)?, n));
    }
    let unchanged = stale.is_empty() && listed.iter().all(|&l| l);
    let mut n = 0;
    before.retain(|_| {
        n += 1;
        listed[n - 1]
    });
    let mut one = conn.prepare_cached(&format!("{PAGE_COLUMNS} AND sf.id = ?1"))?;
    for &id in &stale {
        before.extend(one.query_row([id], page).optional()?);
    }
    let read = stale.len();
    match unchanged {
        // Already in order.
        true => Ok((with_menus(conn, before)?, read)),
        false => Ok((finish(conn, before)?, read)),
    }
}

/// Orders `pages` as a build lists them and reads the menus and settings.
fn finish(conn: &Connection, mut pages: Vec<Page>) -> rusqlite::Result<Published> {
    pages.sort_by(|a, b| {
        b.sort_date()
            .cmp(a.sort_date())
            .then_with(|| a.slug.cmp(&b.slug))
    });
    with_menus(conn, pages)
}

/// `pages` (in order) with the menus and settings.
fn with_menus(conn: &Connection, pages: Vec<Page>) -> rusqlite::Result<Published> {
    let published: HashSet<i64> = pages.iter().map(|p| p.id).collect();
    Ok(Published {
        menus: menus(conn, &published)?,
        settings: conn
            .prepare("SELECT key, value FROM settings ORDER BY key")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
        pages,
    })
}

/// A published page's row, without its panes.
const PAGE_COLUMNS: &str =
    "SELECT sf.id, sf.slug, sf.title, sf.description, sf.date, sf.created, sf.changed, sf.weight,
    sf.social_image, m.name, sf.kind, sf.aliases, sf.taxonomies, sf.revision
    FROM story_fragments sf LEFT JOIN menus m ON m.id = sf.menu_id WHERE sf.draft = 0";

fn pages(conn: &Connection) -> rusqlite::Result<Vec<Page>> {
    conn.prepare(PAGE_COLUMNS)?.query_map([], page)?.collect()
}

fn page(r: &rusqlite::Row) -> rusqlite::Result<Page> {
    Ok(Page {
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
        kind: super::Kind::parse(&r.get::<_, String>(10)?),
        aliases: json_or_empty(r.get_ref(11)?.as_str()?),
        taxonomies: json_or_empty(r.get_ref(12)?.as_str()?),
        panes: vec![],
        revision: r.get(13)?,
    })
}

/// A JSON column read into its type; the common empty `[]` and `{}` without parsing (a build
/// reads these for every page).
fn json_or_empty<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    match text {
        "[]" | "{}" | "" => T::default(),
        _ => super::pages::json_col(text),
    }
}

/// Page id → its panes in order.
fn panes(conn: &Connection) -> rusqlite::Result<HashMap<i64, Vec<Pane>>> {
    let json = |s: &str| json_or_empty::<Map<String, Value>>(s);
    let mut stmt = conn.prepare(
        "SELECT sp.story_fragment_id, p.markdown, p.options FROM story_fragment_panes sp
         JOIN panes p ON p.id = sp.pane_id ORDER BY sp.story_fragment_id, sp.position",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            json(r.get_ref(2)?.as_str()?),
        ))
    })?;
    let mut panes: HashMap<i64, Vec<Pane>> = HashMap::new();
    for row in rows {
        let (page, md, opts) = row?;
        panes.entry(page).or_default().push((md, opts));
    }
    Ok(panes)
}

fn menus(
    conn: &Connection,
    published: &HashSet<i64>,
) -> rusqlite::Result<BTreeMap<String, Vec<MenuEntry>>> {
    let mut stmt = conn.prepare(
        "SELECT m.name, i.label, sf.slug, i.url, i.story_fragment_id FROM menu_items i JOIN menus m ON m.id = i.menu_id
         LEFT JOIN story_fragments sf ON sf.id = i.story_fragment_id ORDER BY m.name, i.weight, i.label, i.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut menus: BTreeMap<String, Vec<MenuEntry>> = BTreeMap::new();
    for row in rows {
        let (menu, label, slug, url, page) = row?;
        let target = match (slug, url) {
            (Some(slug), _) if page.is_some_and(|id| published.contains(&id)) => Target::Page(slug),
            (None, Some(url)) => Target::Url(url),
            _ => continue,
        };
        menus
            .entry(menu)
            .or_default()
            .push(MenuEntry { label, target });
    }
    Ok(menus)
}

#[cfg(test)]
mod tests {
    use super::super::{Page as Doc, Pane as DocPane, pages};
    use crate::db::SiteDb;

    fn revisions(db: &SiteDb) -> Vec<(String, i64)> {
        let mut r: Vec<_> = db
            .published_rows(false)
            .unwrap()
            .pages
            .into_iter()
            .map(|p| (p.slug, p.revision))
            .collect();
        r.sort();
        r
    }

    #[test]
    fn a_page_is_revised_when_it_or_its_panes_change_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let db = SiteDb::open_path(&dir.path().join("site.db"), "test".into()).unwrap();
        let pane = |md: &str| DocPane {
            markdown: md.into(),
            options: Default::default(),
        };
        let mut a = Doc::new("a", "A");
        a.panes = vec![pane("one"), pane("two")];
        let b = Doc::new("b", "B");
        for p in [&a, &b] {
            pages::upsert(&db.conn, p, "2026-01-01T00:00:00Z").unwrap();
        }
        let start = revisions(&db);
        let edits: [fn(&mut Doc); 4] = [
            |p| p.panes[1].markdown = "changed".into(),
            |p| p.panes.swap(0, 1),
            |p| p.title = "A!".into(),
            |p| p.panes.truncate(1),
        ];
        let mut before = start.clone();
        for edit in edits {
            edit(&mut a);
            pages::upsert(&db.conn, &a, "2026-01-01T00:00:00Z").unwrap();
            let now = revisions(&db);
            assert_ne!(now[0].1, before[0].1, "a is revised");
            assert_eq!(now[1], before[1], "b is not");
            before = now;
        }
        // Writing the same page again changes nothing.
        pages::upsert(&db.conn, &a, "2026-01-02T00:00:00Z").unwrap();
        assert_eq!(revisions(&db), before);
    }

    /// What a build would read from scratch: every page's row, in order.
    fn rows(p: &super::Published) -> Vec<(String, String, Option<String>, i64)> {
        p.pages
            .iter()
            .map(|p| (p.slug.clone(), p.title.clone(), p.date.clone(), p.revision))
            .collect()
    }

    #[test]
    fn pages_brought_up_to_date_equal_pages_read_afresh_and_only_changed_rows_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = SiteDb::open_path(&dir.path().join("site.db"), "test".into()).unwrap();
        for i in 0..40 {
            let mut p = Doc::new(format!("p{i:02}"), format!("P{i}"));
            p.date = Some(format!("2024-01-{:02}", i % 28 + 1));
            pages::upsert(&db.conn, &p, "2026-01-01T00:00:00Z").unwrap();
        }
        let mut before = db.published_rows(false).unwrap().pages;
        let (same, read) = db.published_since(before.clone()).unwrap();
        assert_eq!(
            (rows(&same), read),
            (rows(&db.published_rows(false).unwrap()), 0)
        );
        type Edit = fn(&mut Doc);
        let edits: [(Edit, &str); 4] = [
            (|p| p.title = "Retitled".into(), "a title"),
            (
                |p| p.date = Some("2030-01-01".into()),
                "a date that reorders",
            ),
            (|p| p.draft = true, "a page made a draft"),
            (|p| p.draft = false, "the draft published again"),
        ];
        for (edit, what) in edits {
            let mut p = pages::load(&db.conn, "p07").unwrap().unwrap();
            edit(&mut p);
            pages::upsert(&db.conn, &p, "2026-01-02T00:00:00Z").unwrap();
            let (now, read) = db.published_since(before).unwrap();
            assert_eq!(
                rows(&now),
                rows(&db.published_rows(false).unwrap()),
                "{what}"
            );
            assert!(read <= 1, "{what}: {read} rows read");
            before = now.pages;
        }
        pages::delete(&db.conn, "p03").unwrap();
        let (now, read) = db.published_since(before).unwrap();
        assert_eq!(rows(&now), rows(&db.published_rows(false).unwrap()));
        assert_eq!((now.pages.len(), read), (39, 0));
    }
}
