//! The one way t8k writes a local file whole: a uniquely named temp file in the same folder,
//! fsynced, renamed over the target, then the folder fsynced — so a crash leaves the old file
//! or the new one, never half of either, and two writers never share a temp file. The local
//! store, build records and histories, exports and the bucket cache all write through here.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (creating its folder), readable by its owner only.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_file_as(path, bytes, Readers::Owner)
}

/// Who may read a file t8k writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readers {
    /// The owner only (0600): data, secrets, keys — the default.
    Owner,
    /// Anyone the umask allows (0644 usually): published output a web server running as
    /// another user (nginx's www-data) serves.
    Everyone,
}

/// [`write_file`], choosing who may read the file.
pub fn write_file_as(path: &Path, bytes: &[u8], readers: Readers) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    if readers == Readers::Everyone {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Makes a rename or creation in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/record.json");
        write_file(&path, b"one").unwrap();
        write_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn concurrent_writers_never_mix_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_file(path, &vec![b'a' + i; 10_000]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 10_000);
        assert!(
            bytes.iter().all(|&b| b == bytes[0]),
            "one writer's bytes, whole"
        );
    }
}
