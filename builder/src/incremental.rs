//! Page-level incremental builds. Every file of a bundle is produced under a key: a hash of
//! the inputs that file is rendered from (a page: its row, its panes by the page's revision,
//! the titles above it, the pages it lists, and the site-wide context; a listing page: the
//! keys of the pages it lists) or, for files cheaper to make than to reason about (sitemap,
//! feed, redirects), a hash of the bytes themselves. The keys of the last build are kept
//! beside the bundle (`{out}/{tenant}.pages`); the next build renders only the files whose key
//! changed, removes the files no longer produced, and keeps the rest where they are.
//!
//! Equal keys must mean equal bytes, so a key covers everything its file is made from, and
//! the builder's version (a code change re-renders everything). A wrong key can only be a
//! key that changed without the bytes changing: more work, never a stale page.
//!
//! The changed files are rendered into memory first and put in place only once the whole
//! site rendered (a failing template changes nothing). The manifest is removed before the
//! first file is replaced and written after the last: a build killed in between leaves no
//! manifest, and the next build is a full one into a fresh staging folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::BuildError;
use crate::sink::{MemSink, Sink};

/// What a file is made from, hashed (the first 16 bytes of a SHA-256).
pub type Key = [u8; 16];

/// Gathers the inputs of one file, each length-prefixed so that no two different sequences
/// of inputs hash alike, and hashes them at once (one pass over a buffer costs less than
/// feeding a hasher twenty small pieces, and every page's key is made on every build).
pub struct Inputs(Vec<u8>);

impl Inputs {
    /// A key derived from `parent` (the site's key, a section's key) for one kind of file.
    pub fn new(parent: &[u8], kind: &str) -> Inputs {
        let mut h = Inputs(Vec::with_capacity(512));
        h.str(crate::fingerprint::BUILDER_VERSION)
            .bytes(parent)
            .str(kind);
        h
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Inputs {
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Inputs {
        self.bytes(s.as_bytes())
    }

    pub fn num(&mut self, n: i64) -> &mut Inputs {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }

    pub fn opt(&mut self, s: Option<&str>) -> &mut Inputs {
        match s {
            Some(s) => self.num(1).str(s),
            None => self.num(0),
        }
    }

    /// A value by its JSON form (maps keep their order, so equal values give equal bytes).
    pub fn json(&mut self, v: &impl Serialize) -> &mut Inputs {
        let bytes = serde_json::to_vec(v).expect("render contexts serialise");
        self.bytes(&bytes)
    }

    pub fn finish(&mut self) -> Key {
        let mut key = [0; 16];
        key.copy_from_slice(&Sha256::digest(&self.0)[..16]);
        key
    }
}

/// The key of a file known by its bytes.
fn of_bytes(bytes: &[u8]) -> Key {
    Inputs::new(b"", "bytes").bytes(bytes).finish()
}

/// A file of a build: the key it is made from, its size, and for a page its weight
/// ([`crate::weight`]; 0 for other files). A kept page keeps its weight: what it loads changes
/// only with the site-wide key, which renders every page again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub key: Key,
    pub size: u64,
    pub weight: u64,
}

/// A path's file and what is known of it.
pub type Files = foldhash::HashMap<String, FileEntry>;

/// `{out}/{tenant}.pages`: the site-wide key and every file's key at the last build.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub site: Key,
    pub files: Files,
    /// What each page's authors should fix (by page path), as its last rendering found: a
    /// page kept from the last build still reports its warnings.
    pub warnings: BTreeMap<String, Vec<String>>,
}

impl Manifest {
    /// The bytes of the bundle's files.
    pub fn bundle_bytes(&self) -> u64 {
        self.files.values().map(|f| f.size).sum()
    }

    /// Every page's weight.
    pub fn page_weights(&self) -> Vec<u64> {
        self.files
            .iter()
            .filter(|(p, _)| p.ends_with(".html"))
            .map(|(_, f)| f.weight)
            .collect()
    }
}

pub fn manifest_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.pages"))
}

/// How a manifest file starts; then the 16 random bytes that name this writing of it
/// ([`Manifest::stamp_of`]), then postcard's compact binary (a 10,000-page site's manifest is
/// read and written in a millisecond or two).
const HEADER: &[u8] = b"t8k-pages 3\n";

/// Names one writing of a manifest file.
pub type Stamp = [u8; 16];

impl Manifest {
    /// The manifest of the bundle at `bundle`, if both are there (and it is whole, and of
    /// this format: an older one means a full build).
    pub fn read(path: &Path, bundle: &Path) -> Option<Manifest> {
        if !bundle.is_dir() {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        let body = bytes.strip_prefix(HEADER)?.get(size_of::<Stamp>()..)?;
        postcard::from_bytes(body).ok()
    }

    /// Writes the manifest (atomically); returns the stamp this writing has.
    pub fn write(&self, path: &Path) -> Result<Stamp, BuildError> {
        let mut stamp = Stamp::default();
        getrandom::fill(&mut stamp).expect("the OS random source is available");
        let mut start = HEADER.to_vec();
        start.extend_from_slice(&stamp);
        let bytes = postcard::to_io(self, start)
            .map_err(|e| BuildError::io(path)(std::io::Error::other(e)))?;
        t8k_core::atomic::write_file(path, &bytes).map_err(BuildError::io(path))?;
        Ok(stamp)
    }

    /// The stamp of the manifest file at `path` (its first bytes only are read): a process
    /// that wrote it knows whether the file is still its writing.
    pub fn stamp_of(path: &Path) -> Option<Stamp> {
        use std::io::Read;
        let mut start = [0; HEADER.len() + size_of::<Stamp>()];
        std::fs::File::open(path)
            .ok()?
            .read_exact(&mut start)
            .ok()?;
        start.strip_prefix(HEADER)?.try_into().ok()
    }

    /// Forgets the manifest before its bundle changes (a missing one means a full build).
    pub fn remove(path: &Path) -> Result<(), BuildError> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BuildError::io(path)(e)),
            _ => Ok(()),
        }
    }
}

const SHARDS: usize = 16;

/// Where a build's files go: every file is recorded under its key, and written to the sink
/// unless the previous build left the same key at the same path.
pub struct Outputs<'a> {
    sink: &'a dyn Sink,
    previous: Option<&'a Manifest>,
    /// The files produced so far, in shards (by a hash of the path): pages record theirs from
    /// every thread at once.
    now: [Mutex<Files>; SHARDS],
    /// Each file written: its size, and for a page what it loads.
    written: Mutex<Vec<Written>>,
    rendered: AtomicUsize,
    kept: AtomicUsize,
}

struct Written {
    path: String,
    size: u64,
    loads: Option<Vec<String>>,
}

impl<'a> Outputs<'a> {
    /// `previous`: the manifest of the bundle the sink updates in place; `None` when the sink
    /// starts empty (then every file is written).
    pub fn new(sink: &'a dyn Sink, previous: Option<&'a Manifest>) -> Outputs<'a> {
        Outputs {
            sink,
            previous,
            now: Default::default(),
            written: Default::default(),
            rendered: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
        }
    }

    /// Records `path` under `key`; true when it must be written. A path produced twice in one
    /// build is always written again (the later bytes win, as in a full build).
    fn must_write(&self, path: &str, key: Key) -> bool {
        let kept = self
            .previous
            .and_then(|m| m.files.get(path))
            .filter(|f| f.key == key)
            .copied();
        let unchanged = kept.is_some();
        // A file written now gets its size (and weight) when it is written.
        let entry = kept.unwrap_or(FileEntry {
            key,
            size: 0,
            weight: 0,
        });
        let shard = {
            use std::hash::BuildHasher;
            foldhash::fast::FixedState::with_seed(0).hash_one(path) as usize
        };
        let again = self.now[shard % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_owned(), entry)
            .is_some();
        if unchanged && !again {
            self.kept.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.rendered.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A file whose bytes `make` renders from inputs hashed as `key`: not rendered at all when
    /// the previous build made it from the same inputs.
    pub fn keyed(
        &self,
        path: &str,
        key: Key,
        make: impl FnOnce() -> Result<Vec<u8>, BuildError>,
    ) -> Result<(), BuildError> {
        if self.must_write(path, key) {
            let bytes = make()?;
            self.sink.write(path, &bytes)?;
            self.wrote(path, &bytes);
        }
        Ok(())
    }

    fn wrote(&self, path: &str, bytes: &[u8]) {
        let loads = path.ends_with(".html").then(|| crate::weight::loads(bytes));
        let w = Written {
            path: path.to_owned(),
            size: bytes.len() as u64,
            loads,
        };
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(w);
    }

    /// A file known by its bytes (cheap to make): written only when they changed.
    pub fn bytes(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError> {
        if self.must_write(path, of_bytes(bytes)) {
            self.sink.write(path, bytes)?;
            self.wrote(path, bytes);
        }
        Ok(())
    }

    /// The new manifest, the files written and the files kept. `shared_size` gives the size
    /// of a shared object by its path under `/_t8k/` (a page's weight counts what it loads
    /// from there too).
    pub fn finish(
        self,
        site: Key,
        shared_size: &dyn Fn(&str) -> Option<u64>,
    ) -> (Manifest, usize, usize) {
        let mut files = Files::default();
        for shard in self.now {
            files.extend(shard.into_inner().unwrap_or_else(|p| p.into_inner()));
        }
        let written = self.written.into_inner().unwrap_or_else(|p| p.into_inner());
        measure(&mut files, &written, shared_size);
        (
            Manifest {
                site,
                files,
                warnings: BTreeMap::new(),
            },
            self.rendered.into_inner(),
            self.kept.into_inner(),
        )
    }
}

/// The files written this build get their sizes, then their pages their weights (the files
/// kept have theirs from the last build).
fn measure(files: &mut Files, written: &[Written], shared_size: &dyn Fn(&str) -> Option<u64>) {
    for w in written {
        if let Some(f) = files.get_mut(&w.path) {
            f.size = w.size;
        }
    }
    let mut shared = foldhash::HashMap::<&str, u64>::default();
    for w in written {
        let Some(loads) = &w.loads else { continue };
        let mut weight = w.size;
        for path in loads {
            weight += match path.strip_prefix(t8k_core::shared::URL_PREFIX) {
                Some(rel) => *shared
                    .entry(rel)
                    .or_insert_with(|| shared_size(rel).unwrap_or(0)),
                None => files.get(&path[1..]).map_or(0, |f| f.size),
            };
        }
        if let Some(f) = files.get_mut(&w.path) {
            f.weight = weight;
        }
    }
}

/// What [`build_bundle`] made: HTML pages, the new manifest, files written and kept.
pub type Built = (usize, Manifest, usize, usize);

/// Builds a site's bundle at `{out}/{name}` with `write`: over `previous` — only the changed
/// files rendered, into memory, then put in place — or, without one, into a fresh staging
/// folder swapped in whole. The site's manifest is removed before the bundle changes; the
/// caller writes the new one once it has its warnings.
pub fn build_bundle(
    out: &Path,
    name: &str,
    previous: Option<&Manifest>,
    site: Key,
    write: impl Fn(&Outputs) -> Result<usize, BuildError>,
    shared_size: &dyn Fn(&str) -> Option<u64>,
    laps: &mut crate::Laps,
) -> Result<Built, BuildError> {
    let bundle = out.join(name);
    let manifest = manifest_path(out, name);
    let Some(previous) = previous else {
        // A failure drops the sink, and with it the staged files.
        let sink = crate::sink::DirSink::new(bundle)?;
        let outputs = Outputs::new(&sink, None);
        let pages = write(&outputs)?;
        laps.lap("render");
        let (now, written, kept) = outputs.finish(site, shared_size);
        Manifest::remove(&manifest)?;
        sink.commit()?;
        laps.lap("commit");
        return Ok((pages, now, written, kept));
    };
    let changed = MemSink::default();
    let outputs = Outputs::new(&changed, Some(previous));
    let pages = write(&outputs)?;
    laps.lap("render");
    let (now, written, kept) = outputs.finish(site, shared_size);
    Manifest::remove(&manifest)?;
    let scratch = out.join(format!(".{name}.incoming"));
    apply(&bundle, &scratch, changed, previous, &now)?;
    laps.lap("apply");
    Ok((pages, now, written, kept))
}

/// Puts an incremental build's files into `bundle`: the changed ones (each by a rename, so a
/// reader sees a file whole), then removes the files the build no longer produces (and the
/// folders they leave empty). `scratch` is a folder beside the bundle on the same disk.
pub fn apply(
    bundle: &Path,
    scratch: &Path,
    changed: MemSink,
    previous: &Manifest,
    now: &Manifest,
) -> Result<(), BuildError> {
    std::fs::create_dir_all(scratch).map_err(BuildError::io(scratch))?;
    let files: BTreeMap<String, Vec<u8>> = changed
        .files
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    for (n, (rel, bytes)) in files.iter().enumerate() {
        let tmp = scratch.join(n.to_string());
        std::fs::write(&tmp, bytes).map_err(BuildError::io(&tmp))?;
        let dest = bundle.join(rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(BuildError::io(dir))?;
        }
        std::fs::rename(&tmp, &dest).map_err(BuildError::io(&dest))?;
    }
    for rel in previous
        .files
        .keys()
        .filter(|p| !now.files.contains_key(*p))
    {
        let gone = bundle.join(rel);
        match std::fs::remove_file(&gone) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(BuildError::io(&gone)(e));
            }
            _ => {}
        }
        let mut dir = gone.parent();
        while let Some(d) = dir.filter(|d| *d != bundle) {
            if std::fs::remove_dir(d).is_err() {
                break; // not empty
            }
            dir = d.parent();
        }
    }
    let _ = std::fs::remove_dir(scratch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_length_prefixed() {
        let a = Inputs::new(b"s", "page").str("ab").str("c").finish();
        let b = Inputs::new(b"s", "page").str("a").str("bc").finish();
        assert_ne!(a, b);
        assert_eq!(a, Inputs::new(b"s", "page").str("ab").str("c").finish());
    }

    #[test]
    fn unchanged_keys_are_not_written_and_gone_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("acme");
        std::fs::create_dir_all(bundle.join("old/deep")).unwrap();
        std::fs::write(bundle.join("old/deep/index.html"), b"old").unwrap();
        std::fs::write(bundle.join("index.html"), b"home").unwrap();
        let (k1, k2) = ([1; 16], [2; 16]);
        let previous = Manifest {
            warnings: BTreeMap::new(),
            site: [0; 16],
            files: [
                ("old/deep/index.html", k1, 3, 50),
                ("index.html", k2, 4, 100),
            ]
            .into_iter()
            .map(|(p, key, size, weight)| (p.to_owned(), FileEntry { key, size, weight }))
            .collect(),
        };
        let changed = MemSink::default();
        let out = Outputs::new(&changed, Some(&previous));
        out.keyed("index.html", k2, || panic!("not rendered"))
            .unwrap();
        let page = br#"<link rel="stylesheet" href="/_t8k/assets/s.css"><img src="/media/a.jpg">"#;
        out.bytes("new/index.html", page).unwrap();
        out.bytes("media/a.jpg", &[0; 500]).unwrap();
        let shared = |rel: &str| (rel == "assets/s.css").then_some(1000);
        let (now, written, kept) = out.finish([0; 16], &shared);
        assert_eq!((written, kept), (2, 1));
        // A page's weight: its HTML, the shared stylesheet and the site's image it loads; a
        // kept page keeps the weight its last rendering had.
        assert_eq!(
            now.files["new/index.html"].weight,
            page.len() as u64 + 1000 + 500
        );
        assert_eq!(now.files["index.html"].weight, 100);
        assert_eq!(now.bundle_bytes(), 4 + page.len() as u64 + 500);
        apply(
            &bundle,
            &dir.path().join(".scratch"),
            changed,
            &previous,
            &now,
        )
        .unwrap();
        assert_eq!(std::fs::read(bundle.join("new/index.html")).unwrap(), page);
        assert!(!bundle.join("old").exists(), "emptied folders go too");
        assert_eq!(std::fs::read(bundle.join("index.html")).unwrap(), b"home");
    }
}
