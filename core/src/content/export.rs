//! `t8k content export`: every story fragment back to a Markdown file with front matter, in
//! the shape import reads (Hugo's layout: a path is folders, a section is `_index.md`), so
//! import → export → import changes nothing.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use super::paths::hugo_segment;
use super::{Kind, Page, frontmatter, pages};
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::name::TenantId;
use crate::store::Store;

#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub dir: String,
    pub files: Vec<String>,
}

/// The file a page goes to, and the `url` to write when Hugo's rules would not give its path
/// back from that file's place (upper case, characters Hugo drops).
/// A page below a top-level folder no page has (a `url` put it there) goes to the top with
/// its `url`: in its folder, Hugo would make that folder a section.
fn file_of(page: &Page, home: &str, tops: &HashSet<&str>) -> (String, Option<String>) {
    let path = &page.slug;
    let first = path.split('/').next().unwrap_or(path);
    let name = match page.kind {
        Kind::Section if path == home => "_index.md".to_owned(),
        Kind::Section => format!("{path}/_index.md"),
        Kind::Page if first != path && !tops.contains(first) => {
            let last = path.rsplit('/').next().unwrap_or(path);
            return (format!("{last}.md"), Some(format!("/{path}/")));
        }
        Kind::Page => format!("{path}.md"),
    };
    let derived: Vec<String> = path.split('/').map(hugo_segment).collect();
    let url = (derived.join("/") != *path).then(|| format!("/{path}/"));
    (name, url)
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
    let home = crate::tenant_config::TenantConfig::load(store, id)?.home_slug;
    let db = SiteDb::open(store, id)?;
    let mut files = vec![];
    let slugs = pages::slugs(&db.conn).map_err(db.err())?;
    let tops: HashSet<&str> = slugs
        .iter()
        .map(String::as_str)
        .filter(|s| !s.contains('/'))
        .collect();
    for slug in &slugs {
        let page = pages::load(&db.conn, slug)
            .map_err(db.err())?
            .expect("slug was just listed");
        let (name, url) = file_of(&page, &home, &tops);
        let path = dir.join(&name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        let text = frontmatter::render(&page, url.as_deref());
        crate::atomic::write_file(&path, text.as_bytes()).map_err(io)?;
        files.push(name);
    }
    Ok(ExportReport {
        dir: dir.display().to_string(),
        files,
    })
}
