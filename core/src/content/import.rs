//! `t8k content import`: a folder of Markdown files with front matter becomes story fragments,
//! in one transaction. Every file is parsed before anything is written; one bad file means
//! nothing is imported. Re-importing updates pages matched by slug and leaves unchanged ones
//! untouched; `--prune` deletes pages no longer in the folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::{Page, frontmatter, pages};
use crate::db::SiteDb;
use crate::error::{Error, FileProblem, Result};
use crate::name::TenantId;
use crate::quota::{self, Limits};
use crate::store::Store;
use crate::tenant_config::TenantConfig;

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub files: usize,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub deleted: Vec<String>,
    pub content_version: i64,
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// The slug a file gets when its front matter names none: its stem, or for `index.md` /
/// `_index.md` its folder's name (the home page for the folder itself).
fn stem_of(path: &Path, root: &Path, home_slug: &str) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem != "index" && stem != "_index" {
        return stem.to_owned();
    }
    match path.parent() {
        Some(parent) if parent != root => parent
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or(home_slug)
            .to_owned(),
        _ => home_slug.to_owned(),
    }
}

/// Parses every Markdown file under `dir`; all problems are collected, not just the first.
pub fn read_dir(dir: &Path, home_slug: &str) -> Result<Vec<(PathBuf, Page)>> {
    if !dir.is_dir() {
        return Err(Error::invalid(
            "import folder",
            format!(
                "{} is not a folder; give the folder holding your .md files",
                dir.display()
            ),
        ));
    }
    let mut problems = vec![];
    let mut found: Vec<(PathBuf, Page)> = vec![];
    let mut by_slug: BTreeMap<String, PathBuf> = BTreeMap::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(|e| Error::Io {
            path: dir.display().to_string(),
            source: e.into(),
        })?;
        let path = entry.path();
        if !entry.file_type().is_file() || !is_markdown(path) {
            continue;
        }
        let shown = path.display().to_string();
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                problems.push(FileProblem {
                    path: shown,
                    line: 1,
                    message: "not UTF-8 text; save the file as UTF-8".into(),
                });
                continue;
            }
            Err(source) => {
                return Err(Error::Io {
                    path: shown,
                    source,
                });
            }
        };
        match frontmatter::parse(&text, &stem_of(path, dir, home_slug)) {
            Ok(page) => {
                if let Some(first) = by_slug.get(&page.slug) {
                    problems.push(FileProblem {
                        path: shown,
                        line: 1,
                        message: format!(
                            "slug {:?} is also used by {}; give one of them another `slug`",
                            page.slug,
                            first.display()
                        ),
                    });
                    continue;
                }
                by_slug.insert(page.slug.clone(), path.to_owned());
                found.push((path.to_owned(), page));
            }
            Err(p) => problems.push(FileProblem {
                path: shown,
                line: p.line,
                message: p.message,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Import(problems));
    }
    if found.is_empty() {
        return Err(Error::invalid(
            "import folder",
            format!("{} holds no .md files", dir.display()),
        ));
    }
    Ok(found)
}

/// Imports `dir` into the tenant's database. Nothing is written if any file is bad or a quota
/// would be passed.
pub fn import(store: &dyn Store, id: &TenantId, dir: &Path, prune: bool) -> Result<ImportReport> {
    let cfg = TenantConfig::load(store, id)?;
    let limits = Limits::of(&cfg)?;
    let found = read_dir(dir, &cfg.home_slug)?;
    let now = crate::timefmt::now_rfc3339();
    crate::db::with_write(store, id, |db: &mut SiteDb| {
        apply(db, id, &cfg.home_slug, &limits, &found, prune, &now)
    })
}

/// The import itself, in one transaction on `db`; may run again if a remote write loses a race.
#[allow(clippy::too_many_arguments)]
fn apply(
    db: &mut SiteDb,
    id: &TenantId,
    home_slug: &str,
    limits: &Limits,
    found: &[(std::path::PathBuf, super::Page)],
    prune: bool,
    now: &str,
) -> Result<ImportReport> {
    let err = db.err();
    let mut report = ImportReport {
        files: found.len(),
        ..Default::default()
    };
    let tx = db
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::db(id.as_str()))?;
    let pages_before = pages::slugs(&tx).map_err(Error::db(id.as_str()))?.len() as u64;
    let size_before = SiteDb::stored_in_transaction(&tx).map_err(Error::db(id.as_str()))?;
    for (_, page) in found {
        match pages::upsert(&tx, page, now).map_err(Error::db(id.as_str()))? {
            pages::Outcome::Created => report.created.push(page.slug.clone()),
            pages::Outcome::Updated => report.updated.push(page.slug.clone()),
            pages::Outcome::Unchanged => report.unchanged += 1,
        }
    }
    if prune {
        let keep: std::collections::HashSet<&str> =
            found.iter().map(|(_, p)| p.slug.as_str()).collect();
        for slug in pages::slugs(&tx).map_err(Error::db(id.as_str()))? {
            if keep.contains(slug.as_str()) {
                continue;
            }
            if slug == home_slug {
                return Err(Error::invalid(
                    "pruning",
                    format!(
                        "it would delete the home page {slug:?} (HOME_SLUG); add {slug}.md to the folder or change HOME_SLUG"
                    ),
                ));
            }
            pages::delete(&tx, &slug).map_err(Error::db(id.as_str()))?;
            report.deleted.push(slug);
        }
    }
    let pages_after = pages::slugs(&tx).map_err(Error::db(id.as_str()))?.len() as u64;
    if pages_after > pages_before {
        quota::check_pages(id, limits, pages_after)?;
    }
    let size_after = SiteDb::stored_in_transaction(&tx).map_err(Error::db(id.as_str()))?;
    if size_after > size_before {
        quota::check_storage(id, limits, size_after)?;
    }
    tx.commit().map_err(Error::db(id.as_str()))?;
    // Fold the WAL back so the file on disk is the whole database (usage and backups see it).
    db.conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .map_err(err)?;
    report.content_version = db.content_version()?;
    Ok(report)
}
