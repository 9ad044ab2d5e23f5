//! Published theme versions: `themes/{name}/{version}/…` in the data root, listed by
//! `themes/{name}/versions.json`. A version's files never change once it is complete, so a
//! bucket root and every CI runner build from the same theme bytes, and an old version stays
//! buildable for as long as a tenant is pinned to it.
//!
//! The index is updated by compare-and-swap. A push claims its number first (an incomplete
//! entry), uploads the files under it, then marks it complete: two pushers never share a
//! number, and a push that dies leaves an incomplete version nothing builds from (pushing the
//! same files again completes it).
//!
//! Channels (`stable`, `canary`) name a version each: a tenant without `THEME_VERSION` builds
//! with its channel's version. The index also holds the rollout that owns the theme, so two
//! rollouts of one theme cannot run at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cas;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Condition, Store};

/// The channels a tenant can follow: `stable` (the default) and `canary` (opt-in, moved first).
pub const CHANNELS: [&str; 2] = ["stable", "canary"];

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ThemeIndex {
    #[serde(default)]
    pub versions: Vec<ThemeVersion>,
    /// Channel → version.
    #[serde(default)]
    pub channels: BTreeMap<String, u32>,
    /// The rollout moving tenants of this theme now (its id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThemeVersion {
    pub version: u32,
    /// SHA-256 over every file's path and bytes: two pushes of the same files are one version.
    pub hash: String,
    pub files: usize,
    pub bytes: u64,
    pub pushed: String,
    /// All files are uploaded (a version being pushed, or whose push died, is not built from).
    pub complete: bool,
}

impl ThemeIndex {
    pub fn get(&self, version: u32) -> Option<&ThemeVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    pub fn latest(&self) -> Option<u32> {
        self.versions
            .iter()
            .filter(|v| v.complete)
            .map(|v| v.version)
            .max()
    }

    /// The version a tenant builds with: its pin, else its channel's version (else stable's).
    pub fn resolve(&self, name: &str, pin: Option<u32>, channel: &str) -> Result<u32> {
        let version = match pin {
            Some(v) => v,
            None => self
                .channels
                .get(channel_or_stable(channel))
                .or_else(|| self.channels.get("stable"))
                .copied()
                .ok_or_else(|| {
                    Error::invalid(
                        format!("theme '{name}'"),
                        "no channel names a version; `t8k theme channel` sets one",
                    )
                })?,
        };
        self.usable(name, version)?;
        Ok(version)
    }

    /// Errors unless `version` is a complete version of the theme.
    pub fn usable(&self, name: &str, version: u32) -> Result<&ThemeVersion> {
        match self.get(version) {
            Some(v) if v.complete => Ok(v),
            Some(_) => Err(Error::invalid(
                format!("{name}@{version}"),
                "its push did not finish; push the same folder again with `t8k theme push`",
            )),
            None => Err(Error::invalid(
                format!("{name}@{version}"),
                format!(
                    "no such version (published: {}); `t8k theme list {name}` shows them",
                    self.published()
                ),
            )),
        }
    }

    fn published(&self) -> String {
        let all: Vec<String> = self
            .versions
            .iter()
            .filter(|v| v.complete)
            .map(|v| v.version.to_string())
            .collect();
        if all.is_empty() {
            "none".into()
        } else {
            all.join(", ")
        }
    }
}

fn channel_or_stable(channel: &str) -> &str {
    if channel.is_empty() {
        "stable"
    } else {
        channel
    }
}

/// Checks a channel name.
pub fn check_channel(channel: &str) -> Result<()> {
    if CHANNELS.contains(&channel) {
        return Ok(());
    }
    Err(Error::invalid(
        format!("channel {channel:?}"),
        format!("channels are {}", CHANNELS.join(" and ")),
    ))
}

/// Checks a theme name: letters, digits, `-` and `_` (it is a key segment and a folder name).
pub fn check_name(name: &str) -> Result<()> {
    if crate::key::is_plain(name, 64) {
        return Ok(());
    }
    Err(Error::invalid(
        format!("theme name {name:?}"),
        "theme names are 1–64 letters, digits, '-' and '_'",
    ))
}

/// Parses `default@3` into its name and version.
pub fn parse_spec(spec: &str) -> Result<(String, u32)> {
    let bad = || {
        Error::invalid(
            format!("theme version {spec:?}"),
            "write it as NAME@VERSION, e.g. default@3 (`t8k theme list` shows the versions)",
        )
    };
    let (name, version) = spec.split_once('@').ok_or_else(bad)?;
    check_name(name)?;
    let version: u32 = version.parse().map_err(|_| bad())?;
    if version == 0 {
        return Err(bad());
    }
    Ok((name.to_owned(), version))
}

fn key(s: String) -> Result<Key> {
    Key::new(&s)
}

pub fn index_key(name: &str) -> Result<Key> {
    check_name(name)?;
    key(format!("themes/{name}/versions.json"))
}

/// The folder of a version's files.
pub fn version_key(name: &str, version: u32) -> Result<Key> {
    check_name(name)?;
    key(format!("themes/{name}/{version}"))
}

/// The index of a theme; `None` when no version of it was ever pushed.
pub fn read_index(store: &dyn Store, name: &str) -> Result<Option<ThemeIndex>> {
    Ok(cas::read_json(store, &index_key(name)?)?.map(|(i, _)| i))
}

/// Compare-and-swap update of a theme's index (`change` returns `None` to write nothing).
pub fn update_index<R>(
    store: &dyn Store,
    name: &str,
    change: impl FnMut(&mut ThemeIndex) -> Result<Option<R>>,
) -> Result<Option<R>> {
    cas::upsert_json(store, &index_key(name)?, change)
}

/// The content hash of a theme's files (sorted by path).
pub fn hash_files(files: &[(String, Vec<u8>)]) -> String {
    let mut h = Sha256::new();
    for (rel, bytes) in files {
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    hex::encode(h.finalize())
}

/// What a push did.
#[derive(Clone, Debug, Serialize)]
pub struct Pushed {
    pub theme: String,
    pub version: u32,
    pub hash: String,
    /// False when these exact files already were a complete version.
    pub new: bool,
    pub files: usize,
    pub bytes: u64,
    /// Channels that now name this version (the first version of a theme starts both).
    pub channels: Vec<String>,
}

/// Publishes a theme's files (already checked to compile) as its next version.
pub fn push(store: &dyn Store, name: &str, files: &[(String, Vec<u8>)]) -> Result<Pushed> {
    for (rel, _) in files {
        Key::new(rel).map_err(|_| {
            Error::invalid(
                format!("theme file {rel:?}"),
                "name theme files with plain relative paths (no dot-led folders)",
            )
        })?;
    }
    let hash = hash_files(files);
    let bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    let claimed = update_index(store, name, |index| {
        if let Some(v) = index.versions.iter().find(|v| v.hash == hash) {
            return Ok(Some((v.version, v.complete)));
        }
        let version = index.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        index.versions.push(ThemeVersion {
            version,
            hash: hash.clone(),
            files: files.len(),
            bytes,
            pushed: crate::timefmt::now_rfc3339(),
            complete: false,
        });
        Ok(Some((version, false)))
    })?;
    let (version, complete) = claimed.expect("the claim always writes or finds");
    let mut pushed = Pushed {
        theme: name.to_owned(),
        version,
        hash: hash.clone(),
        new: !complete,
        files: files.len(),
        bytes,
        channels: vec![],
    };
    if complete {
        return Ok(pushed);
    }
    let dir = version_key(name, version)?;
    for (rel, body) in files {
        store.put(&dir.join(rel)?, body, Condition::None)?;
    }
    let channels = update_index(store, name, |index| {
        let first = index.latest().is_none();
        let entry = index
            .versions
            .iter_mut()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::Corrupt {
                file: format!("themes/{name}/versions.json"),
                message: format!("version {version} vanished while it was pushed"),
            })?;
        entry.complete = true;
        let mut started = vec![];
        if first {
            for channel in CHANNELS {
                index.channels.entry(channel.into()).or_insert(version);
                started.push(channel.to_owned());
            }
        }
        Ok(Some(started))
    })?;
    pushed.channels = channels.unwrap_or_default();
    Ok(pushed)
}

/// Points `channel` of a theme at a complete version.
pub fn set_channel(store: &dyn Store, name: &str, channel: &str, version: u32) -> Result<()> {
    check_channel(channel)?;
    let found = read_index(store, name)?.ok_or_else(|| no_versions(name))?;
    found.usable(name, version)?;
    update_index(store, name, |index| {
        if index.channels.get(channel) == Some(&version) {
            return Ok(None);
        }
        index.channels.insert(channel.to_owned(), version);
        Ok(Some(()))
    })?;
    Ok(())
}

/// The error for a theme with no published version.
pub fn no_versions(name: &str) -> Error {
    Error::invalid(
        format!("theme '{name}'"),
        format!("no version of it is published; `t8k theme push themes/{name}` publishes one"),
    )
}

/// A version's files, read from the store (sorted by path).
pub fn read_files(store: &dyn Store, name: &str, version: u32) -> Result<Vec<(String, Vec<u8>)>> {
    let dir = version_key(name, version)?;
    let mut out = vec![];
    for entry in store.list(&dir)? {
        let Some(rel) = entry.key.strip_prefix(&dir) else {
            continue;
        };
        let rel = rel.to_owned();
        let obj = store.get(&entry.key)?.ok_or_else(|| Error::Corrupt {
            file: entry.key.to_string(),
            message: "it was listed but cannot be read".into(),
        })?;
        out.push((rel, obj.bytes));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Every theme with a published version (the names of `themes/*/versions.json`).
pub fn published_names(store: &dyn Store) -> Result<Vec<String>> {
    let mut names = vec![];
    for entry in store.list(&key("themes".into())?)? {
        let parts: Vec<&str> = entry.key.as_str().split('/').collect();
        if let ["themes", name, "versions.json"] = parts.as_slice() {
            names.push((*name).to_owned());
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(body: &str) -> Vec<(String, Vec<u8>)> {
        vec![
            ("templates/base.html".into(), body.as_bytes().to_vec()),
            ("theme.toml".into(), b"name = \"t\"\n".to_vec()),
        ]
    }

    #[test]
    fn pushes_number_versions_and_repeat_pushes_are_one_version() {
        let (_dir, store) = crate::store::temp();
        let one = push(store.as_ref(), "t", &files("a")).unwrap();
        assert_eq!((one.version, one.new), (1, true));
        assert_eq!(one.channels, ["stable", "canary"]);
        let again = push(store.as_ref(), "t", &files("a")).unwrap();
        assert_eq!((again.version, again.new), (1, false));
        let two = push(store.as_ref(), "t", &files("b")).unwrap();
        assert_eq!((two.version, two.new), (2, true));
        assert!(two.channels.is_empty(), "later versions move no channel");
        let index = read_index(store.as_ref(), "t").unwrap().unwrap();
        assert_eq!(index.resolve("t", None, "").unwrap(), 1);
        assert_eq!(index.resolve("t", Some(2), "stable").unwrap(), 2);
        let err = index.resolve("t", Some(7), "").unwrap_err().to_string();
        assert!(err.contains("published: 1, 2"), "{err}");
        assert_eq!(read_files(store.as_ref(), "t", 2).unwrap(), files("b"));
        assert_eq!(published_names(store.as_ref()).unwrap(), ["t"]);
    }

    #[test]
    fn specs_and_names_are_checked() {
        assert_eq!(parse_spec("default@3").unwrap(), ("default".into(), 3));
        for bad in ["default", "default@", "default@0", "../x@1", "d@x"] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
        assert!(check_channel("beta").is_err());
    }
}
