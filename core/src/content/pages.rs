//! Reading and writing [`Page`]s in a tenant database. Writes compare first and touch nothing
//! when a page is unchanged, so `changed` times and the content version only move on real
//! changes.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::{Kind, Page, Pane};

fn json_map(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A JSON column read back into its type (the CHECK constraints keep it valid JSON).
pub(crate) fn json_col<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

fn json_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("lists and maps serialise")
}

fn json_text(map: &Map<String, Value>) -> String {
    serde_json::to_string(map).expect("JSON maps serialise")
}

/// What [`upsert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

pub fn slugs(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT slug FROM story_fragments ORDER BY slug")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

pub fn load(conn: &Connection, slug: &str) -> rusqlite::Result<Option<Page>> {
    let row = conn
        .query_row(
            "SELECT id, title, description, date, draft, weight, social_image, extra, kind, aliases, taxonomies
             FROM story_fragments WHERE slug = ?1",
            [slug],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Page {
                        slug: slug.to_owned(),
                        kind: Kind::parse(&r.get::<_, String>(8)?),
                        title: r.get(1)?,
                        description: r.get(2)?,
                        date: r.get(3)?,
                        draft: r.get(4)?,
                        weight: r.get(5)?,
                        social_image: r.get(6)?,
                        extra: json_map(&r.get::<_, String>(7)?),
                        aliases: json_col(&r.get::<_, String>(9)?),
                        taxonomies: json_col(&r.get::<_, String>(10)?),
                        menus: vec![],
                        panes: vec![],
                    },
                ))
            },
        )
        .optional()?;
    let Some((id, mut page)) = row else {
        return Ok(None);
    };
    page.panes = conn
        .prepare(
            "SELECT p.markdown, p.options FROM story_fragment_panes sp JOIN panes p ON p.id = sp.pane_id
             WHERE sp.story_fragment_id = ?1 ORDER BY sp.position",
        )?
        .query_map([id], |r| Ok(Pane { markdown: r.get(0)?, options: json_map(&r.get::<_, String>(1)?) }))?
        .collect::<rusqlite::Result<_>>()?;
    page.menus = conn
        .prepare(
            "SELECT DISTINCT m.name FROM menu_items i JOIN menus m ON m.id = i.menu_id
             WHERE i.story_fragment_id = ?1 ORDER BY m.name",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(page))
}

pub(super) fn menu_id(conn: &Connection, name: &str, now: &str) -> rusqlite::Result<i64> {
    if let Some(id) = conn
        .query_row("SELECT id FROM menus WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO menus (name, title, created, changed) VALUES (?1, ?2, ?3, ?3)",
        params![name, title_case(name), now],
    )?;
    Ok(conn.last_insert_rowid())
}

fn title_case(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Creates or updates the page with `page.slug`, in the caller's transaction.
pub fn upsert(conn: &Connection, page: &Page, now: &str) -> rusqlite::Result<Outcome> {
    let existing = load(conn, &page.slug)?;
    if existing.as_ref() == Some(page) {
        return Ok(Outcome::Unchanged);
    }
    let id = match &existing {
        Some(_) => {
            conn.execute(
                "UPDATE story_fragments SET title = ?2, description = ?3, date = ?4, draft = ?5, weight = ?6,
                 social_image = ?7, extra = ?8, changed = ?9, kind = ?10, aliases = ?11, taxonomies = ?12 WHERE slug = ?1",
                params![page.slug, page.title, page.description, page.date, page.draft, page.weight, page.social_image, json_text(&page.extra), now,
                    page.kind.as_str(), json_of(&page.aliases), json_of(&page.taxonomies)],
            )?;
            conn.query_row(
                "SELECT id FROM story_fragments WHERE slug = ?1",
                [&page.slug],
                |r| r.get(0),
            )?
        }
        None => {
            // New pages show the `main` menu when the site has one.
            let shown: Option<i64> = conn
                .query_row("SELECT id FROM menus WHERE name = 'main'", [], |r| r.get(0))
                .optional()?;
            conn.execute(
                "INSERT INTO story_fragments (slug, title, description, menu_id, social_image, date, draft, weight, extra, created, changed,
                 kind, aliases, taxonomies)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13)",
                params![page.slug, page.title, page.description, shown, page.social_image, page.date, page.draft, page.weight, json_text(&page.extra), now,
                    page.kind.as_str(), json_of(&page.aliases), json_of(&page.taxonomies)],
            )?;
            conn.last_insert_rowid()
        }
    };
    if existing.as_ref().map(|e| &e.panes) != Some(&page.panes) {
        replace_panes(conn, id, &page.panes, now)?;
    }
    let old_menus = existing
        .as_ref()
        .map(|e| e.menus.clone())
        .unwrap_or_default();
    if old_menus != page.menus
        || existing
            .as_ref()
            .is_some_and(|e| e.weight != page.weight || e.title != page.title)
    {
        replace_menu_items(conn, id, page, now)?;
    }
    Ok(if existing.is_some() {
        Outcome::Updated
    } else {
        Outcome::Created
    })
}

fn replace_panes(conn: &Connection, id: i64, panes: &[Pane], now: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM story_fragment_panes WHERE story_fragment_id = ?1",
        [id],
    )?;
    for (pos, pane) in panes.iter().enumerate() {
        conn.execute(
            "INSERT INTO panes (markdown, options, created, changed) VALUES (?1, ?2, ?3, ?3)",
            params![pane.markdown, json_text(&pane.options), now],
        )?;
        let pane_id = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO story_fragment_panes (story_fragment_id, pane_id, position) VALUES (?1, ?2, ?3)",
            params![id, pane_id, pos as i64],
        )?;
    }
    Ok(())
}

/// The page's entries in menus: one per menu it names, labelled with its title, ordered by
/// its weight.
fn replace_menu_items(conn: &Connection, id: i64, page: &Page, now: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM menu_items WHERE story_fragment_id = ?1", [id])?;
    for name in &page.menus {
        let menu = menu_id(conn, name, now)?;
        conn.execute(
            "INSERT INTO menu_items (menu_id, label, story_fragment_id, weight) VALUES (?1, ?2, ?3, ?4)",
            params![menu, page.title, id, page.weight],
        )?;
    }
    Ok(())
}

/// Deletes a page; its panes and menu entries go with it (foreign keys and the pane trigger).
pub fn delete(conn: &Connection, slug: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM story_fragments WHERE slug = ?1", [slug])? > 0)
}
