//! Themes: `themes/<name>/{theme.toml, templates/, static/}`. A theme is compiled once into a
//! [`Theme`] (parsed Tera templates plus content-hashed assets) and shared by `Arc` across every
//! tenant that uses it; tenant data only ever reaches it through the render context.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

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
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(BuildError::Theme {
                theme: name.into(),
                message: "theme names are letters, digits, '-' and '_'".into(),
            });
        }
        let dir = themes_dir.join(name);
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

/// Themes loaded on demand, each compiled once and shared.
pub struct Themes {
    dir: PathBuf,
    track_localhost: bool,
    loaded: std::sync::Mutex<BTreeMap<String, Arc<Theme>>>,
}

impl Themes {
    pub fn new(dir: impl Into<PathBuf>) -> Themes {
        Themes {
            dir: dir.into(),
            track_localhost: false,
            loaded: Default::default(),
        }
    }

    /// Themes whose tracker also counts `localhost` previews (`T8K_TRACK_LOCALHOST=1`).
    pub fn tracking_localhost(mut self, on: bool) -> Themes {
        self.track_localhost = on;
        self
    }

    pub fn get(&self, name: &str) -> Result<Arc<Theme>, BuildError> {
        let mut loaded = self
            .loaded
            .lock()
            .expect("theme cache lock is never poisoned by a panic-free loader");
        if let Some(t) = loaded.get(name) {
            return Ok(t.clone());
        }
        let theme = Arc::new(Theme::load(&self.dir, name, self.track_localhost)?);
        loaded.insert(name.to_owned(), theme.clone());
        Ok(theme)
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

    /// Drops compiled themes so the next `get` reloads them (for `serve --watch`).
    pub fn reload(&self) {
        self.loaded.lock().expect("theme cache lock").clear();
    }
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
