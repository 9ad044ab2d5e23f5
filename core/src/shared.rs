//! Objects every site may reference: theme assets (CSS, JS, fonts, the tracker) and image
//! variants. Each is named by its content hash, published once under `sites/_shared/` in the
//! bundle store, and served at `/_t8k/…` on every host — so 1,000 tenants on one theme store
//! and upload its stylesheet once, and two tenants with the same photo share its variants.
//!
//! A shared object is immutable (its name is its hash), so an edge caches it for a year. A
//! deploy's manifest lists the shared objects it uses; `t8k gc` removes only those no kept
//! deploy lists.

use crate::error::{Error, Result};
use crate::key::Key;

/// The folder of shared objects under `sites/` (and under `build/`): underscore-led, so never
/// a tenant id.
pub const SITE: &str = "_shared";

/// The URL prefix every host serves shared objects at.
pub const URL_PREFIX: &str = "/_t8k/";

/// The kinds of shared object, each a folder: `assets/` (theme files) and `img/` (variants).
pub const FOLDERS: [&str; 2] = ["assets", "img"];

/// Checks a shared object's relative path (`assets/style.1a2b3c4d.css`, `img/ab….webp`):
/// one of [`FOLDERS`], then plain segments. It names a key and a file, so anything else is
/// refused.
pub fn check(rel: &str) -> Result<&str> {
    let folder = rel.split('/').next().unwrap_or("");
    let plain = rel.split('/').all(|s| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.+~".contains(c))
    });
    if !FOLDERS.contains(&folder) || !plain || rel.split('/').count() < 2 {
        return Err(Error::invalid(
            format!("shared object {rel:?}"),
            "shared objects are assets/… or img/… with plain names; rebuild the site",
        ));
    }
    Ok(rel)
}

/// `sites/_shared/{rel}` in the bundle store.
pub fn key(rel: &str) -> Result<Key> {
    Key::new(&format!("sites/{SITE}/{}", check(rel)?))
}

/// The folder of every shared object in the bundle store.
pub fn root() -> Key {
    Key::new(&format!("sites/{SITE}")).expect("a constant key")
}

/// `/_t8k/{rel}`: where every host serves it.
pub fn url(rel: &str) -> String {
    format!("{URL_PREFIX}{rel}")
}

/// The shared object a request path names (`/_t8k/assets/x.css` → `assets/x.css`), if any.
pub fn rel_of_path(path: &str) -> Option<&str> {
    path.strip_prefix(URL_PREFIX)
        .and_then(|rel| check(rel).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_in_the_known_folders_are_shared() {
        assert_eq!(
            key("assets/style.1a2b3c4d.css").unwrap().as_str(),
            "sites/_shared/assets/style.1a2b3c4d.css"
        );
        assert_eq!(rel_of_path("/_t8k/img/ab.webp"), Some("img/ab.webp"));
        for bad in [
            "assets/../x",
            "img/.hidden",
            "other/x.css",
            "assets",
            "assets//x",
            "img/a b.webp",
            "pages/unknown-host.html",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(rel_of_path("/assets/x.css"), None);
    }
}
