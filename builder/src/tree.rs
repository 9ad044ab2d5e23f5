//! Reading a folder tree whole (a theme's templates and assets, a built bundle).

use std::path::{Path, PathBuf};

/// Files of a tree: (relative path with `/` separators, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Every file under `dir` as (relative path with `/` separators, bytes), sorted by path. A
/// missing folder is empty. An error names the path that failed.
pub fn read(dir: &Path) -> Result<Files, (PathBuf, std::io::Error)> {
    let mut out = vec![];
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| (dir.to_owned(), e.into()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir stays under dir")
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(entry.path()).map_err(|e| (entry.path().to_owned(), e))?;
        out.push((rel, bytes));
    }
    Ok(out)
}
