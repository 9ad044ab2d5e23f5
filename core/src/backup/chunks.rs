//! Content-addressed objects: a database is cut into chunks — at its SQLite pages, or by
//! content (FastCDC, 2020) when it is not a SQLite file — other files are one chunk each;
//! every chunk is stored once as `objects/{h2}/{sha256}` under the SHA-256 of its plain bytes.
//! So a one-page edit of a large database stores the few pages it changed, nothing more.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{BackupError, Repo, key};
use crate::key::Key;
use crate::secrets::sha256_hex;
use crate::store::Condition;

/// FastCDC's bounds, in bytes, for databases. Small enough that a page edit (the page, the
/// header page, index pages: a few 4 KiB pages spread over the file) costs tens of kilobytes;
/// a 100 MB database is some 12,000 objects.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Sizes {
    pub min: u32,
    pub avg: u32,
    pub max: u32,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            min: 2 * 1024,
            avg: 8 * 1024,
            max: 32 * 1024,
        }
    }
}

/// Where `bytes` are cut: each chunk's range.
pub fn cut(bytes: &[u8], s: Sizes) -> Vec<std::ops::Range<usize>> {
    if bytes.len() <= s.min as usize {
        return std::iter::once(0..bytes.len()).collect();
    }
    fastcdc::v2020::FastCDC::new(bytes, s.min, s.avg, s.max)
        .map(|c| c.offset..c.offset + c.length)
        .collect()
}

/// The page size of a SQLite database file (its header's bytes 16–17), if `bytes` is one.
/// A database is cut at its pages: SQLite's backup API copies them in place, so an edit
/// changes whole pages and never shifts the rest — content-defined cuts would only add the
/// bytes around each changed page.
pub fn sqlite_page_size(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return None;
    }
    let size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        n => usize::from(n),
    };
    (size.is_power_of_two() && (512..=65_536).contains(&size)).then_some(size)
}

pub fn object_key(sha: &str) -> crate::Result<Key> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(crate::Error::invalid(
            "object name",
            format!("{sha:?} is not a SHA-256"),
        ));
    }
    key(format!("objects/{}/{sha}", &sha[..2]))
}

/// The objects a repository holds, listed once per command so that storing a chunk that is
/// already there costs no request; shared by the tenants backed up in parallel (two storing
/// the same new chunk at once both write it create-only: one wins, the other is told so).
pub struct Known {
    names: Mutex<HashSet<String>>,
}

impl Known {
    pub(super) fn has(&self, sha: &str) -> bool {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(sha)
    }

    /// Noted only once the object is stored, so no snapshot counts on one that failed.
    fn add(&self, sha: String) {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sha);
    }
}

/// What storing a file's chunks did.
#[derive(Default, Debug, Clone, Copy)]
pub struct Sent {
    pub bytes: u64,
}

impl Repo {
    /// Every object name in the repository, with its stored size.
    pub fn objects(&self) -> crate::Result<Vec<(String, u64)>> {
        Ok(self
            .store()
            .list(&key("objects")?)?
            .into_iter()
            .map(|e| (e.key.file_name().to_owned(), e.size))
            .filter(|(n, _)| n.len() == 64)
            .collect())
    }

    pub fn known(&self) -> crate::Result<Known> {
        Ok(Known {
            names: Mutex::new(self.objects()?.into_iter().map(|(n, _)| n).collect()),
        })
    }

    /// Stores `bytes` as chunks not yet in the repository; returns the chunk names in order.
    /// Only files that change in place (`cut_by_content`: databases) are cut — a SQLite file at
    /// its pages, anything else by FastCDC; others (media, written once and named by their
    /// hash) are one object each.
    pub fn put_chunks(
        &self,
        bytes: &[u8],
        cut_by_content: bool,
        known: &Known,
        sent: &mut Sent,
    ) -> crate::Result<Vec<String>> {
        let ranges = match (cut_by_content, sqlite_page_size(bytes)) {
            (false, _) => std::iter::once(0..bytes.len()).collect(),
            (true, Some(page)) => (0..bytes.len())
                .step_by(page)
                .map(|at| at..(at + page).min(bytes.len()))
                .collect(),
            (true, None) => cut(bytes, self.config.chunks),
        };
        let mut names = vec![];
        for range in ranges {
            let chunk = &bytes[range];
            let sha = sha256_hex(chunk);
            if !known.has(&sha) {
                let sealed = self.seal(chunk)?;
                // Unconditional: an object's name is its content's hash, so a concurrent
                // writer of the same name writes the same content.
                self.store()
                    .put(&object_key(&sha)?, &sealed, Condition::None)?;
                sent.bytes += sealed.len() as u64;
                known.add(sha.clone());
            }
            names.push(sha);
        }
        Ok(names)
    }

    /// One chunk's plain bytes, checked against its name.
    pub fn get_chunk(&self, snapshot: &str, sha: &str) -> crate::Result<Vec<u8>> {
        let damaged = |problem: &str| BackupError::Damaged {
            snapshot: snapshot.to_owned(),
            object: sha.to_owned(),
            problem: problem.to_owned(),
        };
        let stored = self
            .store()
            .get(&object_key(sha)?)?
            .ok_or_else(|| damaged("missing"))?;
        let plain = self
            .unseal(&stored.bytes)
            .map_err(|_| damaged("unreadable (it does not decrypt)"))?;
        if sha256_hex(&plain) != sha {
            return Err(damaged("damaged (its bytes do not match its name)").into());
        }
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_file_is_cut_at_its_pages() {
        let mut db = vec![0u8; 3 * 4096 + 10];
        db[..16].copy_from_slice(b"SQLite format 3\0");
        db[16..18].copy_from_slice(&4096u16.to_be_bytes());
        assert_eq!(sqlite_page_size(&db), Some(4096));
        db[16..18].copy_from_slice(&1u16.to_be_bytes());
        assert_eq!(sqlite_page_size(&db), Some(65_536));
        db[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(sqlite_page_size(&db), None, "not a power of two");
        assert_eq!(sqlite_page_size(b"plain text that is long enough to pass the length check of one hundred bytes......"), None);
    }

    #[test]
    fn an_edit_in_the_middle_changes_few_chunks() {
        let mut data: Vec<u8> = (0..2_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let s = Sizes::default();
        let before: HashSet<Vec<u8>> = cut(&data, s)
            .into_iter()
            .map(|r| data[r].to_vec())
            .collect();
        data[1_000_000..1_004_096].fill(7);
        let after: Vec<Vec<u8>> = cut(&data, s)
            .into_iter()
            .map(|r| data[r].to_vec())
            .collect();
        let new: usize = after
            .iter()
            .filter(|c| !before.contains(*c))
            .map(Vec::len)
            .sum();
        assert!(new < 200_000, "{new} new bytes of 2 MB for a 4 KB edit");
        assert_eq!(after.concat(), data, "the chunks are the file");
    }
}
