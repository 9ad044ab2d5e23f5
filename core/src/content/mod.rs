//! Site content: story fragments (pages) made of ordered panes, and the menus they appear in.
//! [`Page`] is the document form shared by the starter content, `t8k content import` and
//! `export`; [`pages`] reads and writes it in a tenant's database.

pub mod edit;
pub mod export;
pub mod frontmatter;
pub mod import;
pub mod media;
pub mod menus;
pub mod pages;
pub mod paths;
pub mod published;
pub mod shortcodes;
pub mod starter;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use paths::check_path;

/// What a page is: one page, or a section that lists the pages below its path (Hugo's and
/// Zola's `_index.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Page,
    Section,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Section => "section",
        }
    }

    pub fn parse(s: &str) -> Kind {
        if s == "section" {
            Kind::Section
        } else {
            Kind::Page
        }
    }
}

/// One story fragment as a document (also the JSON the content API takes and gives).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    /// The page's address: a path of segments (`docs/intro`, see [`paths`]); the tenant's
    /// HOME_SLUG is served at `/`. Called `slug` because a one-segment path is one.
    pub slug: String,
    #[serde(default)]
    pub kind: Kind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// ISO 8601 date or date-time, as written.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub weight: i64,
    /// Names of the menus this page is listed in (Hugo's `menu`).
    #[serde(default)]
    pub menus: Vec<String>,
    #[serde(default)]
    pub social_image: Option<String>,
    /// Old addresses (paths) that redirect here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Taxonomy → terms (`tags`, `categories`, or any the site declares).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub taxonomies: BTreeMap<String, Vec<String>>,
    /// Front matter t8k does not model, kept so export gives it back.
    #[serde(default)]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub panes: Vec<Pane>,
}

impl Page {
    /// A page with its path and title and nothing else: one empty pane, which is what a file
    /// with front matter and no body reads as.
    pub fn new(slug: impl Into<String>, title: impl Into<String>) -> Page {
        Page {
            slug: slug.into(),
            kind: Kind::Page,
            title: title.into(),
            description: String::new(),
            date: None,
            draft: false,
            weight: 0,
            menus: vec![],
            social_image: None,
            aliases: vec![],
            taxonomies: BTreeMap::new(),
            extra: Map::new(),
            panes: vec![Pane::markdown("")],
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pane {
    pub markdown: String,
    #[serde(default)]
    pub options: Map<String, Value>,
}

impl Pane {
    pub fn markdown(text: &str) -> Pane {
        Pane {
            markdown: text.to_owned(),
            options: Map::new(),
        }
    }
}

/// Names (menus, and the one-segment slugs of t8k's own starter pages): lowercase ASCII letters, digits and hyphens, 1–100 long.
pub fn check_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() || slug.len() > 100 {
        return Err(format!("slug {slug:?} must be 1–100 characters"));
    }
    // Underscores are kept, as Hugo keeps them in addresses (`render_hooks/`).
    if let Some(c) = slug
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
    {
        return Err(format!(
            "slug {slug:?} contains {c:?}; use lowercase letters, digits, hyphens and underscores"
        ));
    }
    if slug.starts_with('-') || slug.ends_with('-') {
        return Err(format!("slug {slug:?} cannot start or end with a hyphen"));
    }
    // A leading underscore marks t8k's own paths (`/_t8k/` at the edge, `_main`).
    if slug.starts_with('_') {
        return Err(format!(
            "slug {slug:?} cannot start with an underscore (reserved for t8k's own paths)"
        ));
    }
    Ok(())
}

/// Taxonomy names are names ([`check_slug`]); a term is 1–100 printable characters.
pub fn check_taxonomies(taxonomies: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    for (name, terms) in taxonomies {
        check_slug(name).map_err(|m| format!("taxonomy name: {m}"))?;
        if let Some(t) = terms
            .iter()
            .find(|t| t.trim().is_empty() || t.len() > 100 || t.chars().any(char::is_control))
        {
            return Err(format!(
                "{name} term {t:?} must be 1–100 printable characters"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("about-us").is_ok());
        assert!(check_slug("About").is_err());
        assert!(check_slug("a/b").is_err());
        assert!(check_slug("").is_err());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("render_hooks").is_ok());
        assert!(check_slug("_t8k").is_err());
    }
}
