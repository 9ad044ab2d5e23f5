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
pub mod published;
pub mod starter;

use serde_json::{Map, Value};

/// One story fragment as a document (also the JSON the content API takes and gives).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    pub slug: String,
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
    /// Front matter t8k does not model, kept so export gives it back.
    #[serde(default)]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub panes: Vec<Pane>,
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

/// Slugs are URL path segments: lowercase ASCII letters, digits and hyphens, 1–100 long.
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

/// A slug derived from a file name: lowercased, runs of anything else turned into one hyphen.
pub fn slugify(stem: &str) -> String {
    let mut out = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("My First_Post (draft)"), "my-first-post-draft");
        assert!(check_slug("about-us").is_ok());
        assert!(check_slug("About").is_err());
        assert!(check_slug("a/b").is_err());
        assert!(check_slug("").is_err());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("render_hooks").is_ok());
        assert!(check_slug("_t8k").is_err());
    }
}
