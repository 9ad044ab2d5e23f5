//! `t8k content import`: a Hugo or Zola site (or any folder of Markdown files with front
//! matter) becomes story fragments at the addresses the source generator gives them
//! ([`tree`]), with bundle files as media and links resolved ([`links`]). Every file is read
//! and checked before anything is written; a bad file means nothing is imported unless the
//! caller asks to skip invalid files. Pages are written in one transaction; re-importing
//! updates pages matched by path and leaves unchanged ones untouched; `--prune` deletes pages
//! no longer in the folder.

pub mod links;
pub mod site;
pub mod tree;

use std::collections::HashMap;
use std::path::Path;

use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::media::{self, Upload};
use super::paths::{Generator, url_of};
use super::{Page, pages};
use crate::db::SiteDb;
use crate::error::{Error, FileProblem, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::quota::{self, Limits};
use crate::store::Store;
use crate::tenant_config::TenantConfig;

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Delete pages that are not in the folder.
    pub prune: bool,
    /// Read, check and report; write nothing.
    pub dry_run: bool,
    /// Import the files that are fine when some are not (those are reported as errors).
    pub skip_invalid: bool,
    /// Whose addressing rules to use; detected from the site's configuration when `None`.
    pub generator: Option<Generator>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Imported,
    Skipped,
    Error,
}

/// What happened to one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub status: Status,
    /// The page's address, or the media URL of a bundle file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it was skipped, or what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub generator: Generator,
    pub dry_run: bool,
    /// Pages imported: Markdown files, and the sections Hugo makes for top-level folders
    /// without an `_index.md`.
    pub files: usize,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub deleted: Vec<String>,
    /// Bundle files imported as media.
    pub media: usize,
    pub skipped: usize,
    pub warnings: usize,
    pub errors: usize,
    pub content_version: i64,
    /// Per file, in file order.
    pub report: Vec<FileReport>,
}

fn entry(file: &str, status: Status) -> FileReport {
    FileReport {
        file: file.to_owned(),
        status,
        url: None,
        reason: None,
        warnings: vec![],
    }
}

/// A media type, its file extension, and the pixel size of an image.
type Sniffed = (&'static str, &'static str, Option<(u32, u32)>);

/// A bundle file t8k can serve as media: an image (its pixel size read from the header) or a
/// PDF. Anything else (scripts, HTML, archives) is not imported.
fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(b"%PDF-") {
        return Some(("application/pdf", "pdf", None));
    }
    let format = image::guess_format(bytes).ok()?;
    let accepted = crate::images::Format::of_image_format(format)?;
    let (mime, ext) = (accepted.mime(), accepted.ext());
    let dims = image::ImageReader::with_format(std::io::Cursor::new(bytes), format)
        .into_dimensions()
        .ok()?;
    Some((mime, ext, Some(dims)))
}

/// A bundle file ready to store.
struct MediaFile {
    bytes: Vec<u8>,
    mime: &'static str,
    ext: &'static str,
    dims: Option<(u32, u32)>,
}

/// Everything read from the folder, before any write.
struct Plan {
    generator: Generator,
    pages: Vec<Page>,
    media: Vec<MediaFile>,
    report: Vec<FileReport>,
}

/// Reads the bundle files of every page: media URL by name per page, the files to store, and
/// a report line for each.
fn read_media(
    id: &TenantId,
    sources: &[tree::Source],
    plan: &mut Plan,
) -> Result<Vec<HashMap<String, String>>> {
    let mut by_page = vec![];
    for source in sources {
        let mut urls = HashMap::new();
        for r in &source.resources {
            let bytes = std::fs::read(&r.file).map_err(|e| Error::Io {
                path: r.file.display().to_string(),
                source: e,
            })?;
            let shown = format!("{}/{}", tree_dir(&source.file), r.name);
            let Some((mime, ext, dims)) = sniff(&bytes) else {
                let mut e = entry(&shown, Status::Skipped);
                e.reason = Some("not an image (PNG, JPEG, GIF, WebP) or a PDF".into());
                plan.report.push(e);
                continue;
            };
            let hash = crate::secrets::sha256_hex(&bytes);
            let key = layout::media_dir(id).join(&format!("{}/{hash}.{ext}", &hash[..2]))?;
            let url = media::url_of(id, key.as_str()).unwrap_or_default();
            let mut e = entry(&shown, Status::Imported);
            e.url = Some(url.clone());
            plan.report.push(e);
            urls.insert(r.name.clone(), url);
            plan.media.push(MediaFile {
                bytes,
                mime,
                ext,
                dims,
            });
        }
        by_page.push(urls);
    }
    Ok(by_page)
}

fn tree_dir(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Reads and checks the whole folder.
fn plan(id: &TenantId, dir: &Path, home: &str, opts: &Options) -> Result<Plan> {
    let site = site::detect(dir, opts.generator)?;
    let tree = tree::read(&site, home)?;
    if !tree.problems.is_empty() && !opts.skip_invalid {
        let problems = tree
            .problems
            .iter()
            .map(|p| FileProblem {
                path: tree.shown(&p.path).to_owned(),
                ..p.clone()
            })
            .collect();
        return Err(Error::Import(problems));
    }
    if tree.sources.is_empty() {
        return Err(Error::invalid(
            "import folder",
            format!("{} holds no .md files to import", site.content.display()),
        ));
    }
    let mut plan = Plan {
        generator: site.rules.generator,
        pages: vec![],
        media: vec![],
        report: vec![],
    };
    for p in &tree.problems {
        let mut e = entry(tree.shown(&p.path), Status::Error);
        e.reason = Some(format!("line {}: {}", p.line, p.message));
        plan.report.push(e);
    }
    for (file, why) in &tree.skipped {
        let mut e = entry(tree.shown(file), Status::Skipped);
        e.reason = Some(why.clone());
        plan.report.push(e);
    }
    let media_urls = read_media(id, &tree.sources, &mut plan)?;
    let mut index = links::Index::default();
    for s in &tree.sources {
        index.add(&s.file, url_of(&s.page.slug, home));
    }
    let shown: Vec<String> = tree
        .sources
        .iter()
        .map(|s| tree.shown(&s.file).to_owned())
        .collect();
    for ((source, media), shown) in tree.sources.into_iter().zip(&media_urls).zip(shown) {
        let mut page = source.page;
        let mut e = entry(&shown, Status::Imported);
        e.warnings.extend(source.note);
        let ctx = links::Context {
            index: &index,
            dir: &source.dir,
            media,
            page_params: &page.extra,
            site_params: &site.params,
        };
        let panes: Vec<String> = page
            .panes
            .iter()
            .map(|p| ctx.rewrite(&p.markdown, &mut e.warnings))
            .collect();
        for (pane, md) in page.panes.iter_mut().zip(panes) {
            pane.markdown = md;
        }
        e.url = Some(url_of(&page.slug, home));
        plan.report.push(e);
        plan.pages.push(page);
    }
    plan.report.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(plan)
}

/// Imports `dir` into the tenant's database. Nothing is written if any file is bad (unless
/// `skip_invalid`), a quota would be passed, or `dry_run`.
pub fn import(
    store: &dyn Store,
    id: &TenantId,
    dir: &Path,
    opts: &Options,
) -> Result<ImportReport> {
    let cfg = TenantConfig::load(store, id)?;
    let limits = Limits::of(&cfg)?;
    let plan = plan(id, dir, &cfg.home_slug, opts)?;
    let count = |s: Status| plan.report.iter().filter(|r| r.status == s).count();
    let mut report = ImportReport {
        generator: plan.generator,
        dry_run: opts.dry_run,
        files: plan.pages.len(),
        created: vec![],
        updated: vec![],
        unchanged: 0,
        deleted: vec![],
        media: plan.media.len(),
        skipped: count(Status::Skipped),
        errors: count(Status::Error),
        warnings: plan.report.iter().map(|r| r.warnings.len()).sum(),
        content_version: 0,
        report: plan.report,
    };
    // A first MAX_PAGES check before any media is stored, from the paths alone (the check
    // that holds is the one in the transaction); a dry run also compares every page.
    let db = SiteDb::open(store, id)?;
    let existing: std::collections::HashSet<String> = pages::slugs(&db.conn)
        .map_err(db.err())?
        .into_iter()
        .collect();
    let new = plan
        .pages
        .iter()
        .filter(|p| !existing.contains(&p.slug))
        .count();
    let after = if opts.prune {
        plan.pages.len()
    } else {
        existing.len() + new
    };
    if after > existing.len() {
        quota::check_pages(id, &limits, after as u64)?;
    }
    if opts.dry_run {
        for page in &plan.pages {
            match pages::load(&db.conn, &page.slug).map_err(db.err())? {
                None => report.created.push(page.slug.clone()),
                Some(old) if old == *page => report.unchanged += 1,
                Some(_) => report.updated.push(page.slug.clone()),
            }
        }
        report.content_version = db.content_version()?;
        return Ok(report);
    }
    drop(db);
    for m in &plan.media {
        let up = Upload {
            bytes: &m.bytes,
            mime: m.mime,
            ext: m.ext,
            width: m.dims.map(|d| d.0),
            height: m.dims.map(|d| d.1),
            alt: String::new(),
        };
        media::add(store, id, &up)?;
    }
    let now = crate::timefmt::now_rfc3339();
    crate::db::with_write(store, id, |db: &mut SiteDb| {
        apply(
            db,
            id,
            &cfg.home_slug,
            &limits,
            (plan.generator, &plan.pages),
            opts.prune,
            &now,
            &mut report,
        )
    })?;
    Ok(report)
}

/// The setting that tells the builder whose rules make taxonomy term addresses (Zola
/// slugifies `Rust 1.x` to `rust-1-x`, Hugo keeps `rust-1.x`). Written only when it changes,
/// so an unchanged re-import leaves the content version alone.
pub const URL_RULES: &str = "url_rules";

fn set_url_rules(tx: &rusqlite::Transaction, generator: Generator) -> rusqlite::Result<()> {
    let name = match generator {
        Generator::Hugo => "hugo",
        Generator::Zola => "zola",
    };
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value <> excluded.value",
        [URL_RULES, name],
    )?;
    Ok(())
}

/// The import itself, in one transaction on `db`; may run again if a remote write loses a race.
#[allow(clippy::too_many_arguments)]
fn apply(
    db: &mut SiteDb,
    id: &TenantId,
    home_slug: &str,
    limits: &Limits,
    (generator, found): (Generator, &[Page]),
    prune: bool,
    now: &str,
    report: &mut ImportReport,
) -> Result<()> {
    let err = db.err();
    // A retried transaction starts its account again.
    report.created.clear();
    report.updated.clear();
    report.deleted.clear();
    report.unchanged = 0;
    let tx = db
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::db(id.as_str()))?;
    let pages_before = pages::slugs(&tx).map_err(Error::db(id.as_str()))?.len() as u64;
    let size_before = SiteDb::stored_in_transaction(&tx).map_err(Error::db(id.as_str()))?;
    set_url_rules(&tx, generator).map_err(Error::db(id.as_str()))?;
    for page in found {
        match pages::upsert(&tx, page, now).map_err(Error::db(id.as_str()))? {
            pages::Outcome::Created => report.created.push(page.slug.clone()),
            pages::Outcome::Updated => report.updated.push(page.slug.clone()),
            pages::Outcome::Unchanged => report.unchanged += 1,
        }
    }
    if prune {
        let keep: std::collections::HashSet<&str> = found.iter().map(|p| p.slug.as_str()).collect();
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
    Ok(())
}
