//! `t8k content export`: every story fragment back to a Markdown file with front matter, in
//! the shape import reads, so import → export → import changes nothing.

use std::path::Path;

use serde::Serialize;

use super::{frontmatter, pages};
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::name::TenantId;
use crate::store::Store;

#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub dir: String,
    pub files: Vec<String>,
}

pub fn export(store: &dyn Store, id: &TenantId, dir: &Path, force: bool) -> Result<ExportReport> {
    let io = |source| Error::Io {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(io)?.next().is_some();
        if non_empty && !force {
            return Err(Error::FolderNotEmpty(dir.display().to_string()));
        }
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let db = SiteDb::open(store, id)?;
    let mut files = vec![];
    for slug in pages::slugs(&db.conn).map_err(db.err())? {
        let page = pages::load(&db.conn, &slug)
            .map_err(db.err())?
            .expect("slug was just listed");
        let name = format!("{slug}.md");
        crate::atomic::write_file(&dir.join(&name), frontmatter::render(&page).as_bytes())
            .map_err(io)?;
        files.push(name);
    }
    Ok(ExportReport {
        dir: dir.display().to_string(),
        files,
    })
}
