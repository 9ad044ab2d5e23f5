//! The image-variant cache of the data root: every resized, re-encoded copy of an uploaded
//! image the builder has ever made, so each is computed once ever — by any build, of any
//! tenant, on any machine sharing the data root.
//!
//! - `images/{aa}/{key}.{ext}`: a variant. `key` is the SHA-256 of the original's SHA-256,
//!   the width, the format, the quality and the encoder version ([`variant_key`]), so equal
//!   inputs name one object and a new encoder makes new ones. Variants carry no metadata.
//! - `images/index/{aa}/{sha256}.json`: what is known of one original ([`Index`]): its size
//!   after EXIF orientation, whether it is animated or cannot be decoded, and the variants made
//!   of it. One read tells a build whether anything is left to do.
//!
//! Variants are derived data shared by every tenant with the same original: they do not count
//! toward a tenant's STORAGE_QUOTA (`t8k tenant usage` shows them apart), they are not backed
//! up (a build makes them again), and deleting a tenant leaves them for others.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Condition, Store};

/// Images wider or taller than this are never decoded: uploads refuse them, builds report
/// them (a 16k × 16k RGBA image is 1 GiB decoded).
pub const MAX_SIDE: u32 = 12_000;

/// Decoding limits: at most [`MAX_SIDE`] pixels a side and `max_alloc` bytes of memory.
pub fn decode_limits(max_alloc: u64) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(max_alloc);
    limits
}

/// A variant's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Webp,
    Jpeg,
    Png,
    Gif,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Webp => "webp",
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Webp => "image/webp",
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
        }
    }

    /// The media formats t8k accepts, from the format sniffed from a file's bytes (uploads,
    /// imports); `None` for every other kind of image.
    pub fn of_image_format(f: image::ImageFormat) -> Option<Format> {
        match f {
            image::ImageFormat::Png => Some(Format::Png),
            image::ImageFormat::Jpeg => Some(Format::Jpeg),
            image::ImageFormat::Gif => Some(Format::Gif),
            image::ImageFormat::WebP => Some(Format::Webp),
            _ => None,
        }
    }

    /// The format of an upload's MIME type (the media table's `mime`).
    pub fn of_mime(mime: &str) -> Option<Format> {
        [Format::Webp, Format::Jpeg, Format::Png, Format::Gif]
            .into_iter()
            .find(|f| f.mime() == mime)
    }
}

/// What one variant is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Params {
    pub width: u32,
    pub format: Format,
    /// 1–100; lossless formats ignore it (and it is 0 in their key).
    pub quality: u8,
}

/// A variant's cache key (hex SHA-256).
pub fn variant_key(original_sha256: &str, p: &Params, encoder: &str) -> String {
    let quality = match p.format {
        Format::Webp | Format::Jpeg => p.quality,
        Format::Png | Format::Gif => 0,
    };
    crate::secrets::sha256_hex(
        format!(
            "{original_sha256}\n{}\n{}\n{quality}\n{encoder}",
            p.width,
            p.format.ext()
        )
        .as_bytes(),
    )
}

fn check_hex(s: &str) -> Result<&str> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s)
    } else {
        Err(Error::invalid(
            format!("image hash {s:?}"),
            "a SHA-256 in hex is expected; the media table may be damaged",
        ))
    }
}

/// `images/{aa}/{key}.{ext}`.
pub fn object_key(key: &str, format: Format) -> Result<Key> {
    let key = check_hex(key)?;
    Key::new(&format!("images/{}/{key}.{}", &key[..2], format.ext()))
}

/// `images/index/{aa}/{sha256}.json`.
pub fn index_key(original_sha256: &str) -> Result<Key> {
    let sha = check_hex(original_sha256)?;
    Key::new(&format!("images/index/{}/{sha}.json", &sha[..2]))
}

/// The shared object name of a variant (`img/{key}.{ext}`, served at `/_t8k/img/…`).
pub fn shared_rel(key: &str, format: Format) -> String {
    format!("img/{key}.{}", format.ext())
}

/// What is known of one original.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Index {
    /// Pixel size after EXIF orientation (0 until decoded once).
    pub width: u32,
    pub height: u32,
    /// More than one frame (an animated GIF or WebP): published as it is, never resized.
    #[serde(default)]
    pub animated: bool,
    /// Why it cannot be decoded, by the encoder version that tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Failure>,
    /// Variant key → what it is.
    #[serde(default)]
    pub variants: BTreeMap<String, Made>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub encoder: String,
    pub message: String,
}

/// One variant that exists in the cache.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Made {
    pub width: u32,
    pub height: u32,
    pub format: Format,
    pub quality: u8,
    pub bytes: u64,
    pub sha256: String,
}

impl Index {
    /// Adds what a build learnt of the original (its size and frames once decoded, a failure,
    /// variants made).
    pub fn merge(&mut self, learnt: &Index) {
        if learnt.width > 0 {
            (self.width, self.height, self.animated) =
                (learnt.width, learnt.height, learnt.animated);
        }
        if learnt.failed.is_some() {
            self.failed = learnt.failed.clone();
        }
        self.variants.extend(learnt.variants.clone());
    }

    /// The decode failure of this encoder version, if it had one (an older encoder's failure
    /// is tried again).
    pub fn failure(&self, encoder: &str) -> Option<&Failure> {
        self.failed.as_ref().filter(|f| f.encoder == encoder)
    }
}

pub fn read_index(store: &dyn Store, original_sha256: &str) -> Result<Option<Index>> {
    Ok(crate::cas::read_json::<Index>(store, &index_key(original_sha256)?)?.map(|(i, _)| i))
}

/// Merges what a build learnt into the original's index (compare-and-swap: two builds that
/// made different variants of one photo at once both keep theirs).
pub fn record(store: &dyn Store, original_sha256: &str, learnt: &Index) -> Result<()> {
    crate::cas::upsert_json::<Index, ()>(store, &index_key(original_sha256)?, |doc| {
        let before = doc.clone();
        doc.merge(learnt);
        Ok((*doc != before).then_some(()))
    })?;
    Ok(())
}

/// Stores a variant's bytes (idempotent: equal keys are equal bytes).
pub fn put_variant(store: &dyn Store, key: &str, format: Format, bytes: &[u8]) -> Result<()> {
    store.put(&object_key(key, format)?, bytes, Condition::None)?;
    Ok(())
}

/// What [`sweep`] removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    /// Originals no tenant's media lists any more, whose index and variants were deleted.
    pub originals: usize,
    pub variants: usize,
    pub bytes: u64,
    /// Indexes kept: an original some tenant lists, or written within the grace period.
    pub kept: usize,
}

/// Deletes the variants and index of every original that no tenant lists (`in_use`: the
/// SHA-256s of every tenant's media) and whose index is older than `grace_secs` — a build may
/// be making variants of an upload newer than the listing. Variants go before their index, so
/// a crash leaves an index whose missing variants the next build makes again.
pub fn sweep(
    store: &dyn Store,
    in_use: &std::collections::HashSet<String>,
    grace_secs: i64,
) -> Result<SweepReport> {
    let root = Key::new("images/index")?;
    let now = crate::timefmt::now().unix_timestamp();
    let mut report = SweepReport::default();
    for e in store.list(&root)? {
        let Some(sha) = e.key.file_name().strip_suffix(".json") else {
            continue;
        };
        let old = e.modified.is_some_and(|t| now - t >= grace_secs);
        if in_use.contains(sha) || !old || check_hex(sha).is_err() {
            report.kept += 1;
            continue;
        }
        if let Some(index) = read_index(store, sha)? {
            for (key, made) in &index.variants {
                store.delete(&object_key(key, made.format)?)?;
                report.variants += 1;
                report.bytes += made.bytes;
            }
        }
        store.delete(&e.key)?;
        report.originals += 1;
    }
    Ok(report)
}

/// Bytes of every variant made of these originals (for `t8k tenant usage`).
pub fn variant_bytes<'a>(
    store: &dyn Store,
    originals: impl IntoIterator<Item = &'a str>,
) -> Result<u64> {
    let mut total = 0;
    for sha in originals {
        if let Some(index) = read_index(store, sha)? {
            total += index.variants.values().map(|m| m.bytes).sum::<u64>();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_every_input_and_lossless_ignores_quality() {
        let sha = "a".repeat(64);
        let p = Params {
            width: 480,
            format: Format::Webp,
            quality: 80,
        };
        let k = variant_key(&sha, &p, "e1");
        assert_ne!(k, variant_key(&sha, &Params { width: 960, ..p }, "e1"));
        assert_ne!(k, variant_key(&sha, &Params { quality: 70, ..p }, "e1"));
        assert_ne!(k, variant_key(&sha, &p, "e2"));
        let png = Params {
            format: Format::Png,
            ..p
        };
        assert_eq!(
            variant_key(&sha, &png, "e1"),
            variant_key(&sha, &Params { quality: 10, ..png }, "e1")
        );
        assert!(
            object_key(&k, Format::Webp)
                .unwrap()
                .as_str()
                .starts_with(&format!("images/{}/", &k[..2]))
        );
        assert!(object_key("../x", Format::Png).is_err());
        assert!(index_key("zz").is_err());
    }
}
