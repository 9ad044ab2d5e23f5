//! The one output choke point: everything a build writes goes through a [`Sink`] — a folder on
//! disk ([`DirSink`]), memory ([`MemSink`], for tests and benchmarks), later a bucket.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::BuildError;

pub trait Sink: Sync {
    /// Writes one file of the bundle; `path` is relative, `/`-separated, built by the builder
    /// from validated slugs.
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError>;
}

/// Writes a bundle into a fresh staging folder; [`DirSink::commit`] swaps it into place in one
/// step, so a reader (the preview server) sees the old bundle or the new one, never a mix.
pub struct DirSink {
    staging: PathBuf,
    target: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DirSink {
    pub fn new(target: PathBuf) -> Result<DirSink, BuildError> {
        let parent = target
            .parent()
            .expect("bundle folders have a parent")
            .to_owned();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand).expect("the OS random source is available");
        let name = target
            .file_name()
            .expect("bundle folders have a name")
            .to_string_lossy();
        let staging = parent.join(format!(".{name}.staging-{}", hex::encode(rand)));
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        Ok(DirSink { staging, target })
    }

    /// Puts the staged bundle in place of the old one atomically (Linux `renameat2` exchange;
    /// elsewhere two renames), then removes the old bundle.
    pub fn commit(self) -> Result<(), BuildError> {
        let old = self.staging.with_extension("old");
        if self.target.exists() {
            if exchange(&self.staging, &self.target).is_ok() {
                std::fs::remove_dir_all(&self.staging).map_err(io(&self.staging))?;
                return Ok(());
            }
            std::fs::rename(&self.target, &old).map_err(io(&self.target))?;
        }
        std::fs::rename(&self.staging, &self.target).map_err(io(&self.target))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(())
    }

    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("no atomic exchange here"))
}

impl Sink for DirSink {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError> {
        let full = self.staging.join(path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&full, bytes).map_err(io(&full))
    }
}

/// Keeps a bundle in memory.
#[derive(Default)]
pub struct MemSink {
    pub files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl Sink for MemSink {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError> {
        self.files
            .lock()
            .expect("memory sink lock")
            .insert(path.to_owned(), bytes.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_the_bundle_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("acme");
        let s = DirSink::new(target.clone()).unwrap();
        s.write("index.html", b"one").unwrap();
        s.write("old/index.html", b"old").unwrap();
        s.commit().unwrap();
        let s = DirSink::new(target.clone()).unwrap();
        s.write("index.html", b"two").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read(target.join("index.html")).unwrap(), b"two");
        assert!(
            !target.join("old").exists(),
            "files of the previous build are gone"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no staging folders left"
        );
    }
}
