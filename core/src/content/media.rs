//! Media files: uploaded originals stored at `media/{tenant}/{h2}/{sha256}.{ext}` — a key made
//! by the server from the bytes' hash and the type sniffed from them, never from a name the
//! client sent — and listed in the tenant's `media_files` table. Identical uploads share one
//! object. The object is written before its row (a crash leaves an unlisted object, never a
//! row pointing at nothing), and removed after its row.
//!
//! An image's published variants (its widths in WebP and its own format) are made by the next
//! build, not at upload: an upload answers at once whatever the photo's size, and the build
//! that publishes the page does the work on all cores, once ever for identical files (see
//! [`crate::images`]). A listing names the variants that exist so far.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::edit;
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::quota::{self, Limits, Storage};
use crate::store::{Condition, Store, StoreError};
use crate::tenant_config::TenantConfig;

/// An upload whose bytes the caller has already verified (sniffed and decoded).
pub struct Upload<'a> {
    pub bytes: &'a [u8],
    /// `image/png`, `image/jpeg`, ...
    pub mime: &'static str,
    /// The extension that goes with `mime`.
    pub ext: &'static str,
    /// Pixel size, for images.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MediaFile {
    pub id: i64,
    /// The object's key in the data root.
    pub key: String,
    /// Where the published site serves it.
    pub url: String,
    pub sha256: String,
    pub bytes: u64,
    pub mime: String,
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created: String,
    /// The variants made so far (by any build, of any tenant with the same file), where the
    /// site serves them once a page that shows the image is published.
    pub variants: Vec<VariantFile>,
}

/// One published variant of an image.
#[derive(Clone, Debug, Serialize)]
pub struct VariantFile {
    /// `/_t8k/img/{key}.{ext}` on the tenant's hosts.
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub format: crate::images::Format,
    pub bytes: u64,
}

/// The variants of `file` its original's index lists, narrowest first, WebP first.
fn with_variants(store: &dyn Store, mut file: MediaFile) -> Result<MediaFile> {
    let Some(index) = crate::images::read_index(store, &file.sha256)? else {
        return Ok(file);
    };
    file.variants = index
        .variants
        .iter()
        .map(|(key, m)| VariantFile {
            url: crate::shared::url(&crate::images::shared_rel(key, m.format)),
            width: m.width,
            height: m.height,
            format: m.format,
            bytes: m.bytes,
        })
        .collect();
    file.variants
        .sort_by(|a, b| (a.format, a.width, &a.url).cmp(&(b.format, b.width, &b.url)));
    Ok(file)
}

const COLUMNS: &str = "id, key, content_hash, bytes, mime, alt_text, width, height, created";

fn row(id: &TenantId) -> impl Fn(&rusqlite::Row) -> rusqlite::Result<MediaFile> + '_ {
    move |r| {
        let key: String = r.get(1)?;
        Ok(MediaFile {
            id: r.get(0)?,
            url: url_of(id, &key).unwrap_or_default(),
            key,
            sha256: r.get(2)?,
            bytes: r.get(3)?,
            mime: r.get(4)?,
            alt: r.get(5)?,
            width: r.get(6)?,
            height: r.get(7)?,
            created: r.get(8)?,
            variants: vec![],
        })
    }
}

/// The site path of a media key (`media/acme/ab/abcd.png` → `/media/ab/abcd.png`), or `None`
/// for a key outside the tenant's media folder.
pub fn url_of(id: &TenantId, key: &str) -> Option<String> {
    let key = Key::new(key).ok()?;
    key.strip_prefix(&layout::media_dir(id))
        .map(|rel| format!("/media/{rel}"))
}

fn check_alt(alt: &str) -> Result<String> {
    let alt = alt.trim();
    if alt.chars().count() > 500 || alt.chars().any(char::is_control) {
        return Err(Error::invalid(
            "alt text",
            "give at most 500 printable characters",
        ));
    }
    Ok(alt.to_owned())
}

pub fn list(store: &dyn Store, id: &TenantId) -> Result<Vec<MediaFile>> {
    let db = SiteDb::open(store, id)?;
    let read = || -> rusqlite::Result<Vec<MediaFile>> {
        db.conn
            .prepare(&format!("SELECT {COLUMNS} FROM media_files ORDER BY id"))?
            .query_map([], row(id))?
            .collect()
    };
    let files = read().map_err(db.err())?;
    drop(db);
    files.into_iter().map(|f| with_variants(store, f)).collect()
}

/// One media file and its bytes (for the admin's thumbnails before a build publishes it). A
/// key outside the tenant's media folder (a tampered database) is refused, never followed.
pub fn read(store: &dyn Store, id: &TenantId, media_id: i64) -> Result<(MediaFile, Vec<u8>)> {
    let db = SiteDb::open(store, id)?;
    let file = db
        .conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM media_files WHERE id = ?1"),
            [media_id],
            row(id),
        )
        .optional()
        .map_err(db.err())?
        .ok_or(Error::NoSuchMedia(media_id))?;
    let bytes = original(store, id, &file.key)?;
    Ok((file, bytes))
}

/// The stored bytes behind a media key the table lists. A key outside the tenant's media
/// folder (a tampered database) is refused, never followed.
pub fn original(store: &dyn Store, id: &TenantId, key: &str) -> Result<Vec<u8>> {
    let missing = |why: &str| Error::Corrupt {
        file: key.to_owned(),
        message: format!("the media file is listed but {why}"),
    };
    let k = Key::new(key).map_err(|_| missing("its key is not a valid key"))?;
    if k.strip_prefix(&layout::media_dir(id)).is_none() {
        return Err(missing(&format!("its key is outside media/{id}/")));
    }
    Ok(store
        .get(&k)?
        .ok_or_else(|| missing("missing from the data root"))?
        .bytes)
}

/// Stores an upload (or finds the identical one already stored). Returns the file and whether
/// it is new. Refused before anything is written if it would pass STORAGE_QUOTA.
pub fn add(store: &dyn Store, id: &TenantId, up: &Upload) -> Result<(MediaFile, bool)> {
    let alt = check_alt(&up.alt)?;
    let hash = crate::secrets::sha256_hex(up.bytes);
    let key = layout::media_dir(id).join(&format!("{}/{hash}.{}", &hash[..2], up.ext))?;
    let find = |conn: &rusqlite::Connection| {
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM media_files WHERE key = ?1"),
            [key.as_str()],
            row(id),
        )
        .optional()
    };
    {
        let db = SiteDb::open(store, id)?;
        if let Some(found) = find(&db.conn).map_err(db.err())? {
            drop(db);
            return Ok((with_variants(store, found)?, false));
        }
    }
    // A first refusal before any bytes are sent to the store; the check that holds under
    // concurrency is the one in the transaction below, which counts the new row's bytes.
    let limits = Limits::of(&TenantConfig::load(store, id)?)?;
    let used = Storage::measure(store, id)?.total();
    quota::check_storage(id, &limits, used + up.bytes.len() as u64)?;

    let fresh = match store.put(&key, up.bytes, Condition::IfAbsent) {
        Ok(_) => true,
        // The same bytes are already there (an earlier attempt that did not finish).
        Err(StoreError::PreconditionFailed { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    let inserted = edit::transact(store, id, |tx, _, now| {
        if let Some(found) = find(tx).map_err(Error::db(id.as_str()))? {
            return Ok((found, false));
        }
        tx.execute(
            "INSERT INTO media_files (key, content_hash, bytes, mime, alt_text, width, height, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![key.as_str(), hash, up.bytes.len() as u64, up.mime, alt, up.width, up.height, now],
        )
        .map_err(Error::db(id.as_str()))?;
        let file = find(tx)
            .map_err(Error::db(id.as_str()))?
            .expect("the row was just inserted");
        Ok((file, true))
    });
    if inserted.is_err() && fresh {
        let _ = store.delete(&key);
    }
    let (file, new) = inserted?;
    Ok((with_variants(store, file)?, new))
}

/// Removes a media file's row, then its object.
pub fn delete(store: &dyn Store, id: &TenantId, media_id: i64) -> Result<()> {
    let key: String = edit::transact(store, id, |tx, _, _| {
        let key: String = tx
            .query_row(
                "SELECT key FROM media_files WHERE id = ?1",
                [media_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db(id.as_str()))?
            .ok_or(Error::NoSuchMedia(media_id))?;
        tx.execute("DELETE FROM media_files WHERE id = ?1", [media_id])
            .map_err(Error::db(id.as_str()))?;
        Ok(key)
    })?;
    let key = Key::new(&key)?;
    if key.strip_prefix(&layout::media_dir(id)).is_some() {
        store.delete(&key)?;
    }
    Ok(())
}
