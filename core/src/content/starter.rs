//! The starter content every new tenant gets: a home story fragment with a few panes, listed
//! in the `main` menu, which the home page also shows.

use rusqlite::Connection;

use super::{Page, Pane, pages};

pub fn home_page(site_name: &str, home_slug: &str) -> Page {
    let mut hero = serde_json::Map::new();
    hero.insert("class".into(), "hero".into());
    Page {
        description: format!("Welcome to {site_name}."),
        menus: vec!["main".into()],
        panes: vec![
            Pane {
                markdown: format!(
                    "# Welcome to {site_name}\n\nThis site is new. Its editors can change this page, add pages and upload images.\n"
                ),
                options: hero,
            },
            Pane::markdown(
                "## What you can do next\n\n- Log in as `admin` and edit this page\n- Import a folder of Markdown files: `t8k content import`\n- Choose a theme and your brand colours\n",
            ),
            Pane::markdown(
                "## Stay in touch\n\nThis page is a *story fragment* made of three panes; each pane is Markdown.\n",
            ),
        ],
        ..Page::new(home_slug, site_name)
    }
}

/// Writes the starter content into a fresh database, in the caller's transaction.
pub fn write(
    conn: &Connection,
    site_name: &str,
    home_slug: &str,
    now: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO menus (name, title, created, changed) VALUES ('main', 'Main', ?1, ?1)",
        [now],
    )?;
    pages::upsert(conn, &home_page(site_name, home_slug), now)?;
    Ok(())
}
