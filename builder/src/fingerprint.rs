//! Source fingerprints: a hash of everything a bundle is made from — the builder's version,
//! the theme's files, the tenant's env.json, and its database's identity and content version.
//! Equal fingerprints mean byte-identical bundles, so `t8k build --changed` can skip them.
//! (No modification times: they change without the content changing, and vice versa.)

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::images::Counts;
use crate::publish::ObjectInfo;

/// Bumped with the builder's code, so an upgrade rebuilds everything.
pub const BUILDER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+render-2");

/// The settings in a tenant's env.json that its bundle is made from: all of them but the
/// limits (quotas), which no page shows, so raising a quota rebuilds nothing, and the release
/// (theme version, channel), whose effect is the theme's own fingerprint. A document that
/// is not JSON is taken whole (the build then fails on it and says why).
pub fn settings_of(env_json: &[u8]) -> Vec<u8> {
    const LIMITS: [&str; 7] = [
        "STORAGE_QUOTA",
        "MAX_PAGES",
        "MAX_USERS",
        "BANDWIDTH_QUOTA",
        "BANDWIDTH_POLICY",
        "THEME_VERSION",
        "RELEASE_CHANNEL",
    ];
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(env_json) {
        Ok(mut doc) => {
            doc.retain(|k, _| !LIMITS.contains(&k.as_str()));
            serde_json::to_vec(&doc).unwrap_or_default()
        }
        Err(_) => env_json.to_vec(),
    }
}

pub fn compute(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    h.update(BUILDER_VERSION.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Written next to each bundle (`build/{tenant}.build.json`) after it is in place.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub fingerprint: String,
    pub builder: String,
    pub pages: usize,
    pub content_version: i64,
    /// When the bundle was put in place (RFC 3339, UTC); absent in records of older builders.
    #[serde(default)]
    pub built: Option<String>,
    /// The shared objects (`{out}/_shared/…`: theme assets, image variants) the bundle
    /// references, with their hashes: a deploy of it needs them in the bundle store too.
    #[serde(default)]
    pub shared: BTreeMap<String, ObjectInfo>,
    /// What the build did with images.
    #[serde(default)]
    pub images: Counts,
}

impl Record {
    pub fn read(path: &Path) -> Option<Record> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("records serialise");
        t8k_core::atomic::write_file(path, &bytes)
    }
}
