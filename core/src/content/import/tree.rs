//! A content folder as Hugo and Zola see it: `_index.md` is a section at its folder's path,
//! `index.md` a page bundle (leaf) at its folder's path whose other files are its resources,
//! any other `.md` a page at `folder/stem`; `slug` replaces the last segment, Hugo's `url` and
//! Zola's `path` the whole path. Pages that are not rendered (Hugo `headless`,
//! `build.render: never`, a `cascade` of it from a section; Zola `render = false`) are skipped
//! with a reason, like files that belong to no page.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::site::Site;
use crate::content::frontmatter::{self, Parsed};
use crate::content::paths::{self, Generator, check_path};
use crate::content::{Kind, Page};
use crate::error::{Error, FileProblem, Result};

/// A non-Markdown file that belongs to a page.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Its name relative to the page's folder (`cat.png`, `img/plan.pdf`).
    pub name: String,
    pub file: PathBuf,
}

/// A page read from a file.
#[derive(Debug)]
pub struct Source {
    /// The file, relative to the content folder, `/`-separated.
    pub file: String,
    /// The file's folder, relative to the content folder (`""` at the top).
    pub dir: String,
    pub page: Page,
    pub resources: Vec<Resource>,
    /// Said in the report (a section made for a folder without `_index.md`).
    pub note: Option<String>,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub sources: Vec<Source>,
    /// A file read under another name (`about.en.md` as `about.md`, the default language)
    /// → its real name, for the report.
    pub renamed: HashMap<String, String>,
    /// File → why it was not imported.
    pub skipped: Vec<(String, String)>,
    pub problems: Vec<FileProblem>,
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

fn stem(rel: &str) -> &str {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn last(dir: &str) -> &str {
    dir.rsplit('/').next().unwrap_or(dir)
}

/// `dir` and every folder above it, up to the content folder itself (`""`): a file's
/// bundle or cascading section is looked up by these few keys, not by scanning them all.
fn folders(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(dir), |d| (!d.is_empty()).then(|| dir_of(d)))
}

impl Tree {
    /// The real name of a file the tree knows by `file`.
    pub fn shown<'a>(&'a self, file: &'a str) -> &'a str {
        self.renamed.get(file).map_or(file, String::as_str)
    }
}

/// Every file under the content folder (hidden ones left out), relative and sorted.
fn list(content: &Path) -> Result<Vec<(String, PathBuf)>> {
    let walker = walkdir::WalkDir::new(content)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    let mut out = vec![];
    for entry in walker {
        let entry = entry.map_err(|e| Error::Io {
            path: content.display().to_string(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(content).unwrap_or(entry.path());
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        out.push((rel.join("/"), entry.path().to_owned()));
    }
    Ok(out)
}

/// Zola reads a date from a file name such as `2024-05-01-launch.md` (or `_launch`).
fn zola_date_prefix(stem: &str) -> Option<(&str, &str)> {
    let (date, rest) = (stem.get(..10)?, stem.get(10..)?);
    let ok = date.as_bytes().iter().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            *b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    let rest = rest.strip_prefix(['-', '_'])?;
    (ok && !rest.is_empty()).then_some((date, rest))
}

fn render_never(v: Option<&Value>) -> bool {
    v.and_then(|b| b.get("render")).is_some_and(|r| {
        matches!(r, Value::Bool(false)) || matches!(r.as_str(), Some("never" | "false"))
    })
}

/// The page itself is not rendered.
fn unrendered(page: &Page, generator: Generator) -> Option<&'static str> {
    let x = &page.extra;
    match generator {
        Generator::Zola => {
            (x.get("render") == Some(&Value::Bool(false))).then_some("render = false")
        }
        Generator::Hugo if x.get("headless") == Some(&Value::Bool(true)) => Some("headless = true"),
        Generator::Hugo if render_never(x.get("build")) || render_never(x.get("_build")) => {
            Some("build.render = never")
        }
        Generator::Hugo => None,
    }
}

/// A Hugo section whose `cascade` stops its descendants from rendering.
fn cascades_unrendered(page: &Page) -> bool {
    let one = |c: &Value| {
        render_never(c.get("build"))
            || render_never(c.get("_build"))
            || c.get("headless") == Some(&Value::Bool(true))
    };
    match page.extra.get("cascade") {
        Some(Value::Array(list)) => list.iter().any(one),
        Some(c) => one(c),
        None => false,
    }
}

/// A folder's path: its names made segments by the generator's rules.
fn folder_path(dir: &str, generator: Generator) -> String {
    dir.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| generator.folder_segment(s))
        .collect::<Vec<_>>()
        .join("/")
}

/// An alias as a path: relative ones are relative to the page's folder (Hugo); a trailing
/// `index.html` names the folder.
fn alias_path(alias: &str, folder: &str) -> String {
    let a = alias.trim();
    let a = a.strip_suffix("index.html").unwrap_or(a);
    let p = paths::from_url(a);
    if a.starts_with('/') || folder.is_empty() {
        p
    } else {
        paths::join(folder, &p)
    }
}

struct Reader<'a> {
    site: &'a Site,
    home: &'a str,
    tree: Tree,
}

impl Reader<'_> {
    fn problem(&mut self, file: &str, line: usize, message: String) {
        self.tree.problems.push(FileProblem {
            path: file.to_owned(),
            line,
            message,
        });
    }

    fn parse(&mut self, rel: &str, abs: &Path) -> Result<Option<Parsed>> {
        let text = match std::fs::read(abs).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                self.problem(rel, 1, "not UTF-8 text; save the file as UTF-8".into());
                return Ok(None);
            }
            Err(source) => {
                return Err(Error::Io {
                    path: abs.display().to_string(),
                    source,
                });
            }
        };
        let generator = self.site.rules.generator;
        let name = stem(rel);
        let (stem, date) = match (name, generator) {
            ("_index" | "index", _) if dir_of(rel).is_empty() => (self.home.to_owned(), None),
            ("_index" | "index", _) => (last(dir_of(rel)).to_owned(), None),
            (s, Generator::Zola) => match zola_date_prefix(s) {
                Some((d, rest)) => (rest.to_owned(), Some(d.to_owned())),
                None => (s.to_owned(), None),
            },
            (s, Generator::Hugo) => (s.to_owned(), None),
        };
        match frontmatter::parse(&text, &stem, &self.site.rules) {
            Ok(mut parsed) => {
                if parsed.page.date.is_none() {
                    parsed.page.date = date;
                }
                Ok(Some(parsed))
            }
            Err(p) => {
                self.problem(rel, p.line, p.message);
                Ok(None)
            }
        }
    }

    /// The page's final path and kind, checked.
    fn place(&mut self, rel: &str, parsed: &mut Parsed) -> bool {
        let generator = self.site.rules.generator;
        let dir = dir_of(rel);
        let folder = folder_path(dir, generator);
        let page = &mut parsed.page;
        let derived = match stem(rel) {
            "_index" => {
                page.kind = Kind::Section;
                folder.clone()
            }
            "index" => {
                let parent = folder_path(dir_of(dir), generator);
                if dir.is_empty() {
                    String::new()
                } else {
                    paths::join(&parent, &page.slug)
                }
            }
            _ => paths::join(&folder, &page.slug),
        };
        let (path, line) = match &parsed.url {
            Some((url, line)) => (paths::from_url(url), *line),
            None => (derived, 1),
        };
        page.slug = if path.is_empty() {
            self.home.to_owned()
        } else {
            path
        };
        if let Err(m) = check_path(&page.slug) {
            self.problem(rel, line, m);
            return false;
        }
        let base = paths::parent(&page.slug).unwrap_or("").to_owned();
        let mut aliases = vec![];
        for a in std::mem::take(&mut page.aliases) {
            let p = alias_path(&a, &base);
            if let Err(m) = check_path(&p) {
                self.problem(rel, parsed.aliases_line, format!("alias {a:?}: {m}"));
                return false;
            }
            aliases.push(p);
        }
        page.aliases = aliases;
        true
    }
}

/// Reads every file of the site's content folder. Problems are collected, not just the first.
pub fn read(site: &Site, home: &str) -> Result<Tree> {
    let files = list(&site.content)?;
    let generator = site.rules.generator;
    let mut reader = Reader {
        site,
        home,
        tree: Tree::default(),
    };
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new();
    for (actual, abs) in files.iter().filter(|(_, a)| is_markdown(a)) {
        let rel = match site.languages.logical(actual) {
            Ok(rel) => rel,
            Err(lang) => {
                let why =
                    format!("a translation into {lang:?}: only the default language is imported");
                reader.tree.skipped.push((actual.clone(), why));
                continue;
            }
        };
        if parsed.contains_key(&rel) {
            let why = format!("the same page as {rel} in the default language");
            reader.tree.skipped.push((actual.clone(), why));
            continue;
        }
        if rel != *actual {
            reader.tree.renamed.insert(rel.clone(), actual.clone());
        }
        if let Some(p) = reader.parse(&rel, abs)? {
            parsed.insert(rel, p);
        }
    }
    // Folders that are leaf bundles, and sections whose cascade stops their descendants.
    let bundles: BTreeSet<String> = parsed
        .keys()
        .filter(|r| stem(r) == "index" && !dir_of(r).is_empty())
        .map(|r| dir_of(r).to_owned())
        .collect();
    let headless: HashMap<String, String> = parsed
        .iter()
        .filter(|(r, p)| stem(r) == "_index" && cascades_unrendered(&p.page))
        .map(|(r, _)| (dir_of(r).to_owned(), r.clone()))
        .collect();
    let mut owners: HashMap<String, usize> = HashMap::new();
    let mut by_path: HashMap<String, String> = HashMap::new();
    for (rel, mut p) in parsed {
        let dir = dir_of(&rel).to_owned();
        // A cascade applies to the section itself too.
        let own_bundle = |b: &str| stem(&rel) == "index" && dir == b;
        let why = if let Some(from) = folders(&dir).find_map(|d| headless.get(d)) {
            Some(format!("not rendered: cascade from {from}"))
        } else if let Some(b) = folders(&dir).find(|b| bundles.contains(*b) && !own_bundle(b)) {
            Some(format!(
                "a resource of the page bundle {b}/index.md, not a page"
            ))
        } else {
            unrendered(&p.page, generator).map(|w| format!("not rendered: {w}"))
        };
        if let Some(why) = why {
            reader.tree.skipped.push((rel, why));
            continue;
        }
        if !reader.place(&rel, &mut p) {
            continue;
        }
        if let Some(first) = by_path.get(&p.page.slug) {
            let message = format!(
                "path {:?} is also used by {first}; give one of them another `slug`",
                p.page.slug
            );
            reader.problem(&rel, 1, message);
            continue;
        }
        by_path.insert(p.page.slug.clone(), rel.clone());
        if matches!(stem(&rel), "index" | "_index") {
            owners.insert(dir.clone(), reader.tree.sources.len());
        }
        reader.tree.sources.push(Source {
            file: rel,
            dir,
            page: p.page,
            resources: vec![],
            note: None,
        });
    }
    if generator == Generator::Hugo {
        implicit_sections(&mut reader.tree);
    }
    attach_resources(&mut reader.tree, &files, &bundles, &owners);
    Ok(reader.tree)
}

/// Hugo makes a section of every top-level folder, with or without `_index.md`.
fn implicit_sections(tree: &mut Tree) {
    let tops: BTreeSet<String> = tree
        .sources
        .iter()
        .filter_map(|s| s.dir.split('/').next().filter(|d| !d.is_empty()))
        .map(str::to_owned)
        .collect();
    for top in tops {
        let path = Generator::Hugo.folder_segment(&top);
        if tree.sources.iter().any(|s| s.page.slug == path) || check_path(&path).is_err() {
            continue;
        }
        let mut title = top.replace(['-', '_'], " ");
        if let Some(first) = title.get(..1) {
            title = first.to_uppercase() + &title[1..];
        }
        let page = Page {
            kind: Kind::Section,
            ..Page::new(path, title)
        };
        tree.sources.push(Source {
            file: format!("{top}/_index.md"),
            dir: top,
            page,
            resources: vec![],
            note: Some("no such file: made the section Hugo makes for a top-level folder".into()),
        });
    }
}

/// Non-Markdown files go to the bundle they are in (any depth), else to the section beside
/// them; the rest are skipped.
fn attach_resources(
    tree: &mut Tree,
    files: &[(String, PathBuf)],
    bundles: &BTreeSet<String>,
    owners: &HashMap<String, usize>,
) {
    for (rel, abs) in files.iter().filter(|(_, a)| !is_markdown(a)) {
        let dir = dir_of(rel);
        let owner = folders(dir)
            .find(|d| bundles.contains(*d))
            .or_else(|| owners.contains_key(dir).then_some(dir));
        match owner.and_then(|o| owners.get(o).map(|i| (o, *i))) {
            Some((o, i)) => {
                let name = if o.is_empty() { rel.clone() } else { rel[o.len() + 1..].to_owned() };
                tree.sources[i].resources.push(Resource {
                    name,
                    file: abs.clone(),
                });
            }
            None => tree.skipped.push((
                rel.clone(),
                "not beside an index.md or _index.md, so no page uses it; put it in the page's bundle folder or upload it as media".into(),
            )),
        }
    }
}
