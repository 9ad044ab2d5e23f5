//! The one output choke point: everything a build writes goes through a [`Sink`] — a folder on
//! disk ([`DirSink`]), memory ([`MemSink`], for tests and benchmarks), later a bucket.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use t8k_core::lifecycle::process;
use t8k_core::registry::Claim;

use crate::error::BuildError;

pub trait Sink: Sync {
    /// Writes one file of the bundle; `path` is relative, `/`-separated, built by the builder
    /// from validated slugs.
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError>;
}

/// Writes a bundle into a fresh staging folder; [`DirSink::commit`] swaps it into place in one
/// step, so a reader (the preview server) sees the old bundle or the new one, never a mix.
///
/// Beside the folder lies a lease (`.{name}.staging-{rand}.lease`: the builder's process and
/// an expiry, the same rule as a tenant claim), written before the folder is made and removed
/// after it is gone. A build killed mid-run leaves both behind; [`reclaim_stale`] removes them
/// once the lease's process is dead, and never touches a folder a running build owns.
pub struct DirSink {
    staging: PathBuf,
    target: PathBuf,
}

/// How long a staging folder is protected when its builder's liveness cannot be checked
/// (no `/proc`): longer than any build.
const STAGING_LEASE_SECS: i64 = 6 * 3600;

/// `path` with `suffix` added to its name (`Path::with_extension` would cut the name at its
/// last dot: `.acme.staging-…` would become `.acme.lease`, shared by every build of acme).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn lease_of(staging: &Path) -> PathBuf {
    with_suffix(staging, ".lease")
}

impl DirSink {
    pub fn new(target: PathBuf) -> Result<DirSink, BuildError> {
        let parent = target
            .parent()
            .expect("bundle folders have a parent")
            .to_owned();
        std::fs::create_dir_all(&parent).map_err(BuildError::io(&parent))?;
        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand).expect("the OS random source is available");
        let name = target
            .file_name()
            .expect("bundle folders have a name")
            .to_string_lossy();
        let staging = parent.join(format!(".{name}.staging-{}", hex::encode(rand)));
        let lease = Claim {
            holder: hex::encode(rand),
            process: process::current(),
            expires: t8k_core::timefmt::now().unix_timestamp() + STAGING_LEASE_SECS,
        };
        let lease_path = lease_of(&staging);
        t8k_core::atomic::write_file(&lease_path, &t8k_core::cas::to_json_bytes(&lease))
            .map_err(BuildError::io(&lease_path))?;
        let sink = DirSink { staging, target };
        std::fs::create_dir(&sink.staging).map_err(BuildError::io(&sink.staging))?;
        Ok(sink)
    }

    /// Puts the staged bundle in place of the old one atomically (Linux `renameat2` exchange;
    /// elsewhere two renames), then removes the old bundle.
    pub fn commit(self) -> Result<(), BuildError> {
        let old = with_suffix(&self.staging, ".old");
        if self.target.exists() {
            if exchange(&self.staging, &self.target).is_ok() {
                // The staging path now holds the previous bundle.
                std::fs::remove_dir_all(&self.staging).map_err(BuildError::io(&self.staging))?;
                return Ok(());
            }
            std::fs::rename(&self.target, &old).map_err(BuildError::io(&self.target))?;
        }
        std::fs::rename(&self.staging, &self.target).map_err(BuildError::io(&self.target))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(BuildError::io(&old))?;
        }
        Ok(())
    }
}

impl Drop for DirSink {
    /// Whatever happened — committed, abandoned or failed half-way — the staging folder and
    /// then its lease are removed.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        let _ = std::fs::remove_file(lease_of(&self.staging));
    }
}

/// What [`reclaim_stale`] removed.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Reclaimed {
    pub folders: usize,
    pub bytes: u64,
}

/// Removes the staging folders in `out` that builds killed mid-run left behind: those whose
/// lease names a process that has died (or whose lease ran out), and those from before leases
/// existed (no lease at all). Folders of running builds are left alone.
pub fn reclaim_stale(out: &Path) -> Reclaimed {
    let mut done = Reclaimed::default();
    let Ok(entries) = std::fs::read_dir(out) else {
        return done;
    };
    let now = t8k_core::timefmt::now().unix_timestamp();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') || !name.contains(".staging-") || name.ends_with(".lease") {
            continue;
        }
        let staging = e.path();
        let lease = lease_of(&staging);
        let stale = match std::fs::read(&lease) {
            Ok(bytes) => serde_json::from_slice::<Claim>(&bytes).map_or(true, |c| c.is_stale(now)),
            Err(_) => true,
        };
        if !stale {
            continue;
        }
        let bytes = folder_bytes(&staging);
        if std::fs::remove_dir_all(&staging).is_ok() {
            let _ = std::fs::remove_file(&lease);
            done.folders += 1;
            done.bytes += bytes;
        }
    }
    done
}

fn folder_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
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
            std::fs::create_dir_all(dir).map_err(BuildError::io(dir))?;
        }
        std::fs::write(&full, bytes).map_err(BuildError::io(&full))
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
            "no staging folders or leases left"
        );
    }

    #[test]
    fn only_folders_of_dead_builds_are_reclaimed() {
        let dir = tempfile::tempdir().unwrap();
        // A running build (this process holds the lease).
        let running = DirSink::new(dir.path().join("live")).unwrap();
        running.write("index.html", b"in progress").unwrap();
        // A build killed mid-run: its lease names a process that has exited.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let dead = dir.path().join(".acme.staging-0123456789ab");
        std::fs::create_dir_all(dead.join("css")).unwrap();
        std::fs::write(dead.join("css/site.css"), vec![b'x'; 3000]).unwrap();
        std::fs::write(dead.join("index.html"), vec![b'y'; 1000]).unwrap();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let lease = Claim {
            holder: "x".into(),
            process: format!("{}/{}/1", host.trim(), child.id()),
            expires: i64::MAX,
        };
        std::fs::write(lease_of(&dead), serde_json::to_vec(&lease).unwrap()).unwrap();
        // One from before leases.
        let legacy = dir.path().join(".other.staging-ffffffffffff");
        std::fs::create_dir(&legacy).unwrap();
        std::fs::write(legacy.join("a"), b"12345").unwrap();

        let r = reclaim_stale(dir.path());
        assert_eq!((r.folders, r.bytes), (2, 4005));
        assert!(!dead.exists() && !lease_of(&dead).exists() && !legacy.exists());
        assert!(
            running.staging.join("index.html").exists(),
            "a running build keeps its folder"
        );
        running.commit().unwrap();
        assert_eq!(reclaim_stale(dir.path()).folders, 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
