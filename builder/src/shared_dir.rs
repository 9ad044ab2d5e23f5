//! `{out}/_shared/`: the shared objects (theme assets, image variants) that built bundles
//! reference at `/_t8k/…`. Each is content-addressed, so it is written once and never changed;
//! `t8k publish` uploads from here what the bundle store lacks, and `t8k serve` serves from
//! here for every host.

use std::path::{Path, PathBuf};

use t8k_core::{Error, shared};

#[derive(Clone, Debug)]
pub struct SharedDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

impl SharedDir {
    /// The shared folder beside the bundles in `out`.
    pub fn in_out(out: &Path) -> SharedDir {
        SharedDir {
            root: out.join(shared::SITE),
        }
    }

    /// Where a shared object lives on disk (its relative path checked).
    pub fn path(&self, rel: &str) -> Result<PathBuf, Error> {
        Ok(self.root.join(shared::check(rel)?))
    }

    /// The size of a shared object, if it is there.
    pub fn size(&self, rel: &str) -> Option<u64> {
        std::fs::metadata(self.path(rel).ok()?)
            .ok()
            .map(|m| m.len())
    }

    pub fn has(&self, rel: &str) -> bool {
        self.path(rel).is_ok_and(|p| p.is_file())
    }

    /// Writes `bytes` at `rel` unless a file is there (same name, same bytes), atomically.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.path(rel)?;
        if path.is_file() {
            return Ok(());
        }
        t8k_core::atomic::write_file_as(&path, bytes, t8k_core::atomic::Readers::Everyone)
            .map_err(io(&path))
    }

    /// Makes `rel` present from `src` (a file of a local data root): a hard link when both are
    /// on one filesystem, else a copy.
    pub fn link_or_copy(&self, rel: &str, src: &Path) -> Result<(), Error> {
        let path = self.path(rel)?;
        if path.is_file() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        match std::fs::hard_link(src, &path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(_) => self.put(rel, &std::fs::read(src).map_err(io(src))?),
        }
    }

    pub fn read(&self, rel: &str) -> Result<Vec<u8>, Error> {
        let path = self.path(rel)?;
        std::fs::read(&path).map_err(io(&path))
    }
}
