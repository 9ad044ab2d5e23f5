//! Themes: `themes/<name>/{theme.toml, templates/, static/}`. A theme is compiled once into a
//! [`Theme`] (parsed Tera templates plus content-hashed assets) and shared by `Arc` across every
//! tenant that uses it; tenant data only ever reaches it through the render context.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use t8k_core::notices::Notice;
use t8k_core::store::Store;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::themes::ThemeIndex;

use crate::error::BuildError;

/// Templates every theme must provide.
pub const REQUIRED_TEMPLATES: [&str; 4] = ["base.html", "page.html", "list.html", "404.html"];

#[derive(Clone, Debug, Deserialize)]
pub struct ThemeMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Story fragments per listing page.
    #[serde(default = "default_paginate")]
    pub paginate: usize,
    /// Widths, quality and `sizes` of responsive images.
    #[serde(default)]
    pub images: crate::images::Settings,
}

fn default_paginate() -> usize {
    10
}

/// A static file of the theme: a shared object (`assets/style.1a2b3c4d.css`, the content hash
/// in its name) that every tenant on the theme references at `/_t8k/assets/…`.
#[derive(Clone, Debug)]
pub struct Asset {
    /// `assets/style.1a2b3c4d.css`
    pub path: String,
    pub bytes: Arc<[u8]>,
    /// Hex SHA-256 of the bytes (for deploy manifests).
    pub sha256: String,
}

pub struct Theme {
    pub meta: ThemeMeta,
    pub dir: PathBuf,
    pub tera: tera::Tera,
    pub assets: Vec<Asset>,
    /// Original name (`style.css`) → URL (`/_t8k/assets/style.1a2b3c4d.css`), for templates.
    pub asset_urls: BTreeMap<String, String>,
    /// Hash of every file of the theme: part of each tenant's source fingerprint.
    pub fingerprint: String,
    /// Whether the tracker reports from `localhost` previews too (`T8K_TRACK_LOCALHOST=1` at
    /// build time; off by default so previews do not pollute a site's analytics).
    pub track_localhost: bool,
}

/// The analytics tracker every theme ships as `t8k.js` (a theme's own `static/t8k.js` replaces it).
const TRACKER: &[u8] = include_bytes!("../assets/tracker.js");

fn hashed_name(rel: &str, bytes: &[u8]) -> String {
    let hash = hex::encode(&Sha256::digest(bytes)[..4]);
    match rel.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{rel}.{hash}"),
    }
}

/// Every file under `dir`, as (relative path with `/`, bytes), sorted.
fn files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, BuildError> {
    crate::tree::read(dir).map_err(|(path, e)| BuildError::Theme {
        theme: path.display().to_string(),
        message: e.to_string(),
    })
}

impl Theme {
    /// Loads and compiles `themes_dir/name`. Template syntax errors name the file and line.
    /// `track_localhost`: the tracker counts `localhost` previews too (for tests).
    pub fn load(themes_dir: &Path, name: &str, track_localhost: bool) -> Result<Theme, BuildError> {
        t8k_core::themes::check_name(name).map_err(|_| BuildError::Theme {
            theme: name.into(),
            message: "theme names are letters, digits, '-' and '_'".into(),
        })?;
        Theme::load_dir(themes_dir.join(name), name, track_localhost)
    }

    /// Loads and compiles the theme in `dir`; errors call it `name` (`default@3`).
    pub fn load_dir(dir: PathBuf, name: &str, track_localhost: bool) -> Result<Theme, BuildError> {
        let terr = |message: String| BuildError::Theme {
            theme: name.to_owned(),
            message,
        };
        let meta_text = std::fs::read_to_string(dir.join("theme.toml")).map_err(|e| {
            terr(format!(
                "cannot read {}: {e}; a theme is themes/<name>/{{theme.toml, templates/, static/}}",
                dir.join("theme.toml").display()
            ))
        })?;
        let meta: ThemeMeta = toml::from_str(&meta_text)
            .map_err(|e| terr(format!("{}: {}", dir.join("theme.toml").display(), e)))?;
        if meta.paginate == 0 {
            return Err(terr("theme.toml: paginate must be at least 1".into()));
        }
        meta.images
            .check()
            .map_err(|e| terr(format!("theme.toml: {e}")))?;

        let mut fp = Sha256::new();
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".xml"]);
        // Tera's default also escapes `/`, which is safe but turns every URL into `&#x2F;`.
        tera.set_escape_fn(escape_html);
        let templates = files(&dir.join("templates"))?;
        let mut sources = Vec::with_capacity(templates.len());
        for (rel, bytes) in &templates {
            fp.update(rel.as_bytes());
            fp.update(bytes);
            let text = std::str::from_utf8(bytes)
                .map_err(|_| terr(format!("templates/{rel} is not UTF-8")))?;
            sources.push((rel.as_str(), text));
        }
        // All at once, so inheritance resolves whatever the file order; errors name the
        // template and, for syntax errors, the line and column.
        tera.add_raw_templates(sources).map_err(|e| {
            terr(format!(
                "{}: {}",
                dir.join("templates").display(),
                crate::error::chain(&e)
            ))
        })?;
        for required in REQUIRED_TEMPLATES {
            if !templates.iter().any(|(rel, _)| rel == required) {
                return Err(terr(format!(
                    "templates/{required} is missing; every theme needs {}",
                    REQUIRED_TEMPLATES.join(", ")
                )));
            }
        }

        let mut assets = vec![];
        let mut asset_urls = BTreeMap::new();
        let builtin = ("t8k.js".to_owned(), TRACKER.to_vec());
        for (rel, bytes) in std::iter::once(builtin).chain(files(&dir.join("static"))?) {
            fp.update(rel.as_bytes());
            fp.update(&bytes);
            let path = format!("assets/{}", hashed_name(&rel, &bytes));
            t8k_core::shared::check(&path).map_err(|_| {
                terr(format!(
                    "static/{rel}: name static files with letters, digits and -_.+~ only"
                ))
            })?;
            asset_urls.insert(rel, t8k_core::shared::url(&path));
            assets.push(Asset {
                sha256: hex::encode(Sha256::digest(&bytes)),
                path,
                bytes: bytes.into(),
            });
        }
        fp.update(meta_text.as_bytes());
        fp.update([u8::from(track_localhost)]);
        Ok(Theme {
            track_localhost,
            meta,
            dir,
            tera,
            assets,
            asset_urls,
            fingerprint: hex::encode(fp.finalize()),
        })
    }
}

impl Theme {
    /// Puts the theme's assets into `shared` (once: a file already there is the same bytes)
    /// and lists them for a bundle's record.
    pub fn share(
        &self,
        shared: &crate::shared_dir::SharedDir,
    ) -> Result<BTreeMap<String, crate::publish::ObjectInfo>, t8k_core::Error> {
        let mut out = BTreeMap::new();
        for asset in &self.assets {
            shared.put(&asset.path, &asset.bytes)?;
            out.insert(
                asset.path.clone(),
                crate::publish::ObjectInfo {
                    sha256: asset.sha256.clone(),
                    size: asset.bytes.len() as u64,
                },
            );
        }
        Ok(out)
    }
}

/// HTML-escapes the five characters that matter in text and quoted attributes.
fn escape_html(input: &str) -> String {
    crate::markdown::escape(input)
}

/// Themes loaded on demand, each compiled once and shared: the folder's themes by name, and
/// the data root's published versions ([`t8k_core::themes`]) by `name@version`.
///
/// What decides which version a tenant gets (each theme's index) and the maintenance notices
/// are read once per build run ([`Themes::refresh`]) and at most [`FRESH`] apart in a
/// long-running builder (`t8k worker`, `serve --watch`), so a moved channel or a new notice
/// reaches its next build.
pub struct Themes {
    dir: PathBuf,
    track_localhost: bool,
    loaded: std::sync::Mutex<BTreeMap<String, Arc<Theme>>>,
    indexes: std::sync::Mutex<BTreeMap<String, Read<Option<Arc<ThemeIndex>>>>>,
    notices: std::sync::Mutex<Option<Read<Arc<Vec<Notice>>>>>,
}

/// Something read from the data root, and when.
type Read<T> = (Instant, T);

/// How long a theme index or the notices read from the data root are used before reading again.
pub const FRESH: std::time::Duration = std::time::Duration::from_secs(5);

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Themes {
    pub fn new(dir: impl Into<PathBuf>) -> Themes {
        Themes {
            dir: dir.into(),
            track_localhost: false,
            loaded: Default::default(),
            indexes: Default::default(),
            notices: Default::default(),
        }
    }

    /// Themes whose tracker also counts `localhost` previews (`T8K_TRACK_LOCALHOST=1`).
    pub fn tracking_localhost(mut self, on: bool) -> Themes {
        self.track_localhost = on;
        self
    }

    /// The theme of the folder named `name`.
    pub fn get(&self, name: &str) -> Result<Arc<Theme>, BuildError> {
        self.cached(name, || Theme::load(&self.dir, name, self.track_localhost))
    }

    fn cached(
        &self,
        key: &str,
        load: impl FnOnce() -> Result<Theme, BuildError>,
    ) -> Result<Arc<Theme>, BuildError> {
        if let Some(t) = locked(&self.loaded).get(key) {
            return Ok(t.clone());
        }
        let theme = Arc::new(load()?);
        locked(&self.loaded).insert(key.to_owned(), theme.clone());
        Ok(theme)
    }

    /// The published versions of `name` (`None`: never pushed, the folder's theme is used).
    pub fn index(
        &self,
        store: &dyn Store,
        name: &str,
    ) -> Result<Option<Arc<ThemeIndex>>, BuildError> {
        if let Some((at, found)) = locked(&self.indexes).get(name)
            && at.elapsed() < FRESH
        {
            return Ok(found.clone());
        }
        let found = t8k_core::themes::read_index(store, name)
            .map_err(|e| theme_error(name, e))?
            .map(Arc::new);
        locked(&self.indexes).insert(name.to_owned(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// The theme a tenant builds with: `version` if given (a rollout trying a version), else its
    /// pin (`THEME_VERSION`), else its channel's version; the folder's theme when the theme
    /// has no published version.
    pub fn for_tenant(
        &self,
        store: &dyn Store,
        cfg: &TenantConfig,
        version: Option<u32>,
    ) -> Result<Arc<Theme>, BuildError> {
        let name = &cfg.theme;
        let Some(index) = self.index(store, name)? else {
            return match version.or(cfg.theme_version) {
                Some(v) => Err(BuildError::Theme {
                    theme: name.clone(),
                    message: format!(
                        "the site is pinned to version {v}, but no version of the theme is published; `t8k theme push` one, or `t8k tenant pin {} --unpin`",
                        cfg.tenant_id
                    ),
                }),
                None => self.get(name),
            };
        };
        let v = index
            .resolve(name, version.or(cfg.theme_version), &cfg.release_channel)
            .map_err(|e| theme_error(name, e))?;
        self.version(store, name, v, &index)
    }

    /// The theme the stable channel names (the main site's), else the folder's.
    pub fn stable(&self, store: &dyn Store, name: &str) -> Result<Arc<Theme>, BuildError> {
        match self.index(store, name)? {
            Some(index) => {
                let v = index
                    .resolve(name, None, "stable")
                    .map_err(|e| theme_error(name, e))?;
                self.version(store, name, v, &index)
            }
            None => self.get(name),
        }
    }

    /// A published version, compiled once (its files fetched once into the local cache of a
    /// bucket root, and checked against the version's hash).
    pub fn version(
        &self,
        store: &dyn Store,
        name: &str,
        version: u32,
        index: &ThemeIndex,
    ) -> Result<Arc<Theme>, BuildError> {
        let label = format!("{name}@{version}");
        let wanted = index
            .usable(name, version)
            .map_err(|e| theme_error(name, e))?;
        self.cached(&label, || {
            let dir = version_dir(store, name, version, &wanted.hash)?;
            Theme::load_dir(dir, &label, self.track_localhost)
        })
    }

    /// The maintenance notices (read once per run).
    pub fn notices(&self, store: &dyn Store) -> Arc<Vec<Notice>> {
        let mut kept = locked(&self.notices);
        if let Some((at, n)) = kept.as_ref()
            && at.elapsed() < FRESH
        {
            return n.clone();
        }
        let read = t8k_core::notices::list(store).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "maintenance notices cannot be read; sites build without banners");
            vec![]
        });
        let read = Arc::new(read);
        *kept = Some((Instant::now(), read.clone()));
        read
    }

    /// The themes in the folder (sub-folders with a `theme.toml`), sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|d| d.path().join("theme.toml").is_file())
            .filter_map(|d| d.file_name().to_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    }

    /// Reads the theme indexes and notices again at their next use (a new build run).
    pub fn refresh(&self) {
        locked(&self.indexes).clear();
        *locked(&self.notices) = None;
    }

    /// Drops compiled themes so the next `get` reloads them (for `serve --watch`).
    pub fn reload(&self) {
        locked(&self.loaded).clear();
        self.refresh();
    }
}

fn theme_error(name: &str, e: t8k_core::Error) -> BuildError {
    BuildError::Theme {
        theme: name.to_owned(),
        message: e.to_string(),
    }
}

/// The local folder of a published version: in a local data root, the version's own folder;
/// for a bucket root, a checked copy in the local cache (made once: versions never change).
fn version_dir(
    store: &dyn Store,
    name: &str,
    version: u32,
    hash: &str,
) -> Result<PathBuf, BuildError> {
    let key = t8k_core::themes::version_key(name, version).map_err(|e| theme_error(name, e))?;
    if let Some(dir) = store.local_path(&key) {
        return Ok(dir);
    }
    let dir = t8k_core::db::remote::cache_root(store).join(key.as_str());
    let marker = dir.join(".t8k-theme-hash");
    // A folder is only ever renamed into place whole, its marker inside: one with the right
    // marker is complete, whoever (thread or process) put it there.
    let checked = || std::fs::read_to_string(&marker).is_ok_and(|h| h == hash);
    if checked() {
        return Ok(dir);
    }
    // Left by something else (never a folder with the right marker: that is checked last).
    if dir.exists() && !checked() {
        std::fs::remove_dir_all(&dir).map_err(BuildError::io(&dir))?;
    }
    let files =
        t8k_core::themes::read_files(store, name, version).map_err(|e| theme_error(name, e))?;
    let got = t8k_core::themes::hash_files(&files);
    if got != hash {
        return Err(theme_error(
            name,
            t8k_core::Error::Corrupt {
                file: key.to_string(),
                message: format!(
                    "its files hash to {got}, not the pushed {hash}; push the theme again"
                ),
            },
        ));
    }
    let parent = dir.parent().expect("a version folder has a parent");
    std::fs::create_dir_all(parent).map_err(BuildError::io(parent))?;
    let staging = tempfile::tempdir_in(parent).map_err(BuildError::io(parent))?;
    for (rel, bytes) in &files {
        let path = staging.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(BuildError::io(p))?;
        }
        std::fs::write(&path, bytes).map_err(BuildError::io(&path))?;
    }
    std::fs::write(staging.path().join(".t8k-theme-hash"), hash)
        .map_err(BuildError::io(&marker))?;
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &dir) {
        let _ = std::fs::remove_dir_all(&staged);
        // Another build put the same checked files there first.
        if !checked() {
            return Err(BuildError::io(&dir)(e));
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_the_extension() {
        assert_eq!(
            hashed_name("style.css", b"x"),
            format!("style.{}.css", &hex::encode(Sha256::digest(b"x"))[..8])
        );
        assert!(hashed_name("fonts/a.woff2", b"x").starts_with("fonts/a."));
        assert!(hashed_name("LICENSE", b"x").starts_with("LICENSE."));
    }

    #[test]
    fn template_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("bad");
        std::fs::create_dir_all(t.join("templates")).unwrap();
        std::fs::write(t.join("theme.toml"), "name = \"bad\"\n").unwrap();
        std::fs::write(t.join("templates/page.html"), "line one\n{% if %}\n").unwrap();
        let err = Theme::load(dir.path(), "bad", false)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("page.html") && err.contains("2:"), "{err}");
        assert!(Theme::load(dir.path(), "../etc", false).is_err());
    }
}
