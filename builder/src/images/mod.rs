//! Responsive images: every image of a tenant's media library in the widths its theme asks for
//! (never wider than the original), as lossy WebP and in the original's own family (JPEG stays
//! JPEG, PNG and still GIFs become PNG), upright and without metadata.
//!
//! Computed once ever: a variant is named by the original's hash and its parameters
//! ([`t8k_core::images::variant_key`]) and kept in the data root's `images/`, with one index
//! per original; a build whose images are all known reads one index per image and decodes
//! nothing. Images are processed on the rayon pool, one decode per worker at a time, so memory
//! grows with the number of workers, not of images. A file that cannot be decoded never fails
//! the build: its pages link the original, and the build names it.

pub mod codec;
pub mod html;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use t8k_core::content::media::url_of;
use t8k_core::images::{self, Format, Index, Made, Params};
use t8k_core::store::Store;
use t8k_core::{TenantId, shared};

use crate::error::BuildError;
use crate::publish::ObjectInfo;
use crate::shared_dir::SharedDir;

/// `[images]` of a theme's `theme.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Widths of the variants, in pixels.
    pub widths: Vec<u32>,
    /// Quality of the lossy encodings (WebP, JPEG), 1–100.
    pub quality: u8,
    /// The `sizes` attribute: how wide the theme shows an image at each viewport width.
    pub sizes: String,
    /// Width of the variant OpenGraph cards use (`social_image`).
    pub social_width: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            widths: vec![480, 960, 1600],
            quality: 80,
            sizes: "100vw".into(),
            social_width: 1200,
        }
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), String> {
        let width_ok = |w: &u32| (16..=codec::MAX_SIDE).contains(w);
        if self.widths.is_empty() || !self.widths.iter().all(width_ok) {
            return Err("[images] widths: give one or more widths from 16 to 12000".into());
        }
        if !width_ok(&self.social_width) {
            return Err("[images] social_width: give a width from 16 to 12000".into());
        }
        if !(1..=100).contains(&self.quality) {
            return Err("[images] quality: give a number from 1 to 100".into());
        }
        if self.sizes.is_empty() || self.sizes.contains(['"', '<', '>', '&']) {
            return Err(
                "[images] sizes: give a `sizes` attribute value, e.g. \"(min-width: 40rem) 38rem, 100vw\"".into(),
            );
        }
        Ok(())
    }
}

/// One media file of the tenant, as the media table lists it.
pub use t8k_core::content::published::MediaRow as Original;

/// One variant as a page links it.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Its cache key ([`images::variant_key`]).
    pub key: String,
    /// `img/{key}.{ext}`: its shared object.
    pub rel: String,
    pub width: u32,
    pub height: u32,
    pub format: Format,
}

impl Variant {
    pub fn url(&self) -> String {
        shared::url(&self.rel)
    }
}

/// How a page shows one image.
#[derive(Clone, Debug)]
pub enum Shown {
    /// Variants exist: `<picture>` with `srcset`.
    Responsive {
        /// WebP variants, narrowest first.
        webp: Vec<Variant>,
        /// The original's family, narrowest first (empty for WebP originals).
        fallback: Vec<Variant>,
        /// The OpenGraph variant.
        social: Variant,
    },
    /// Published as it is: animated (size known), or undecodable (`why`).
    AsIs {
        size: Option<(u32, u32)>,
        why: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Image {
    pub alt: String,
    pub shown: Shown,
}

impl Image {
    /// The variant that replaces the original at its own address (`/media/…`): the widest
    /// of the original's own format, so old links keep working without its metadata.
    pub fn replaces_original(&self, original: Format) -> Option<&Variant> {
        match &self.shown {
            Shown::Responsive { webp, fallback, .. } => fallback
                .iter()
                .chain(webp)
                .filter(|v| v.format == original)
                .max_by_key(|v| v.width),
            Shown::AsIs { .. } => None,
        }
    }
}

/// What one build did with images.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Originals decoded and encoded by this build.
    pub processed: usize,
    /// Originals whose every variant was known already.
    pub reused: usize,
    /// Originals that cannot be decoded (their pages link them as they are).
    pub failed: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.processed += o.processed;
        self.reused += o.reused;
        self.failed += o.failed;
    }
}

/// A tenant's images for one build.
#[derive(Default)]
pub struct ImageSet {
    pub settings: Settings,
    /// Media URL (`/media/ab/{sha}.jpg`) → how pages show it.
    pub by_url: HashMap<String, Image>,
    /// Shared objects the pages reference (`img/…` → hash, size).
    pub shared: BTreeMap<String, ObjectInfo>,
    pub counts: Counts,
}

impl ImageSet {
    pub fn get(&self, url: &str) -> Option<&Image> {
        self.by_url.get(url)
    }
}

/// The widths an original `w` pixels wide (upright) is shown at: the theme's widths up to
/// its own, plus its own width when the theme wants wider.
fn widths(w: u32, s: &Settings) -> Vec<u32> {
    let mut out: Vec<u32> = s.widths.iter().copied().filter(|&x| x <= w).collect();
    if s.widths.iter().any(|&x| x > w) {
        out.push(w);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The fallback family of an original: JPEG stays JPEG, PNG and (still) GIF become PNG; a
/// WebP original needs none.
fn family(original: Format) -> Option<Format> {
    match original {
        Format::Jpeg => Some(Format::Jpeg),
        Format::Png | Format::Gif => Some(Format::Png),
        Format::Webp => None,
    }
}

fn params(width: u32, format: Format, s: &Settings) -> Params {
    Params {
        width,
        format,
        quality: s.quality,
    }
}

fn social_params(w: u32, original: Format, s: &Settings) -> Params {
    params(
        s.social_width.min(w),
        family(original).unwrap_or(Format::Webp),
        s,
    )
}

/// Every variant an upright original `w` pixels wide gets: each width in WebP and in its
/// family, and the OpenGraph width in its family.
fn plan(w: u32, original: Format, s: &Settings) -> Vec<Params> {
    let mut out: Vec<Params> = widths(w, s)
        .into_iter()
        .flat_map(|width| {
            std::iter::once(Format::Webp)
                .chain(family(original))
                .map(move |format| params(width, format, s))
        })
        .collect();
    out.push(social_params(w, original, s));
    out.sort();
    out.dedup();
    out
}

/// How pages show an original whose planned variants are all in `index` (`None` if one is
/// missing).
fn shown(index: &Index, sha: &str, original: Format, s: &Settings) -> Option<Shown> {
    let variant = |p: Params| {
        let key = images::variant_key(sha, &p, codec::ENCODER);
        let made = index.variants.get(&key)?;
        Some(Variant {
            rel: images::shared_rel(&key, p.format),
            width: made.width,
            height: made.height,
            format: p.format,
            key,
        })
    };
    let set = |format: Format| -> Option<Vec<Variant>> {
        widths(index.width, s)
            .into_iter()
            .map(|w| variant(params(w, format, s)))
            .collect()
    };
    Some(Shown::Responsive {
        webp: set(Format::Webp)?,
        fallback: match family(original) {
            Some(f) => set(f)?,
            None => vec![],
        },
        social: variant(social_params(index.width, original, s))?,
    })
}

/// What preparing one original took.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Processed,
    Reused,
    Failed,
}

/// Prepares every image of a tenant's media library (other files are not images and are
/// skipped) on the rayon pool: reads each original's index, makes the variants it lacks, and
/// puts every variant its pages will reference into `shared`.
pub fn prepare(
    store: &dyn Store,
    id: &TenantId,
    originals: &[Original],
    settings: &Settings,
    shared: &SharedDir,
) -> Result<ImageSet, BuildError> {
    let job = Job {
        store,
        tenant: id,
        settings,
        shared,
    };
    let prepared: Vec<(String, Prepared)> = originals
        .par_iter()
        .filter_map(|o| {
            let format = Format::of_mime(&o.mime)?;
            let url = url_of(id, &o.key)?;
            Some(job.prepare(o, format).map(|p| (url, p)))
        })
        .collect::<Result<_, BuildError>>()?;
    let mut set = ImageSet {
        settings: settings.clone(),
        ..Default::default()
    };
    for (url, Prepared(image, work, objects)) in prepared {
        match work {
            Work::Processed => set.counts.processed += 1,
            Work::Reused => set.counts.reused += 1,
            Work::Failed => set.counts.failed += 1,
        }
        set.shared.extend(objects);
        set.by_url.insert(url, image);
    }
    Ok(set)
}

/// One original ready for pages, and the shared objects they will reference.
struct Prepared(Image, Work, Vec<(String, ObjectInfo)>);

/// What every image of one tenant's build is prepared with.
struct Job<'a> {
    store: &'a dyn Store,
    tenant: &'a TenantId,
    settings: &'a Settings,
    shared: &'a SharedDir,
}

impl Job<'_> {
    fn prepare(&self, o: &Original, format: Format) -> Result<Prepared, BuildError> {
        let (store, s, shared) = (self.store, self.settings, self.shared);
        let cerr = |source: t8k_core::Error| BuildError::Tenant {
            tenant: self.tenant.to_string(),
            source,
        };
        let as_is = |size, why| Image {
            alt: o.alt.clone(),
            shown: Shown::AsIs { size, why },
        };
        let mut index = images::read_index(store, &o.sha256)
            .map_err(cerr)?
            .unwrap_or_default();
        if let Some(f) = index
            .failed
            .as_ref()
            .filter(|f| f.encoder == codec::ENCODER)
        {
            return Ok(Prepared(
                as_is(None, Some(f.message.clone())),
                Work::Failed,
                vec![],
            ));
        }
        if index.animated {
            let size = Some((index.width, index.height));
            return Ok(Prepared(as_is(size, None), Work::Reused, vec![]));
        }
        let mut work = Work::Reused;
        if index.width == 0 || shown(&index, &o.sha256, format, s).is_none() {
            let original = store
                .get(&t8k_core::Key::new(&o.key).map_err(cerr)?)
                .map_err(|e| cerr(e.into()))?
                .ok_or_else(|| {
                    cerr(t8k_core::Error::Corrupt {
                        file: o.key.clone(),
                        message: "the media file is listed but missing from the data root".into(),
                    })
                })?;
            let learnt = match self.make(o, &original.bytes, format, &index)? {
                Ok(learnt) => learnt,
                Err(message) => Index {
                    failed: Some(images::Failure {
                        encoder: codec::ENCODER.into(),
                        message,
                    }),
                    ..Default::default()
                },
            };
            images::record(store, &o.sha256, &learnt).map_err(cerr)?;
            if let Some(f) = learnt.failed {
                return Ok(Prepared(as_is(None, Some(f.message)), Work::Failed, vec![]));
            }
            if learnt.animated {
                let size = Some((learnt.width, learnt.height));
                return Ok(Prepared(as_is(size, None), Work::Processed, vec![]));
            }
            (index.width, index.height) = (learnt.width, learnt.height);
            index.variants.extend(learnt.variants);
            work = Work::Processed;
        }
        let shown = shown(&index, &o.sha256, format, s).expect("every planned variant was made");
        let objects = share(store, &shown, &index, shared).map_err(cerr)?;
        Ok(Prepared(
            Image {
                alt: o.alt.clone(),
                shown,
            },
            work,
            objects,
        ))
    }

    /// Decodes an original and makes the planned variants `known` lacks, storing each in the
    /// data root and in `shared`. Widths are made widest first, each resized from the one before.
    /// The inner `Err` is a bad image (remembered in its index); the outer one a failed write.
    fn make(
        &self,
        o: &Original,
        bytes: &[u8],
        format: Format,
        known: &Index,
    ) -> Result<Result<Index, String>, BuildError> {
        let (store, s, shared) = (self.store, self.settings, self.shared);
        let (pixels, orientation) = match codec::decode(bytes) {
            Err(why) => return Ok(Err(why)),
            Ok(codec::Decoded::Animated { width, height }) => {
                return Ok(Ok(Index {
                    width,
                    height,
                    animated: true,
                    ..Default::default()
                }));
            }
            Ok(codec::Decoded::Still {
                pixels,
                orientation,
            }) => (pixels, orientation),
        };
        let (width, height) = codec::upright_size(&pixels, orientation);
        let mut learnt = Index {
            width,
            height,
            ..Default::default()
        };
        let mut todo: Vec<(Params, String)> = plan(width, format, s)
            .into_iter()
            .map(|p| (p, images::variant_key(&o.sha256, &p, codec::ENCODER)))
            .filter(|(_, key)| !known.variants.contains_key(key))
            .collect();
        todo.sort_by_key(|(p, _)| std::cmp::Reverse(p.width));
        let mut source = std::borrow::Cow::Borrowed(&pixels);
        for group in todo.chunk_by(|a, b| a.0.width == b.0.width) {
            let small = codec::resize(&source, orientation, group[0].0.width);
            let upright = codec::upright(small.clone(), orientation);
            for (p, key) in group {
                let encoded = match codec::encode(&upright, p.format, p.quality) {
                    Ok(bytes) => bytes,
                    Err(why) => return Ok(Err(why)),
                };
                images::put_variant(store, key, p.format, &encoded)
                    .and_then(|()| shared.put(&images::shared_rel(key, p.format), &encoded))
                    .map_err(|source| BuildError::Tenant {
                        tenant: self.tenant.to_string(),
                        source,
                    })?;
                learnt.variants.insert(
                    key.clone(),
                    Made {
                        width: upright.width(),
                        height: upright.height(),
                        format: p.format,
                        quality: p.quality,
                        bytes: encoded.len() as u64,
                        sha256: t8k_core::secrets::sha256_hex(&encoded),
                    },
                );
            }
            source = std::borrow::Cow::Owned(small);
        }
        Ok(Ok(learnt))
    }
}

/// Puts every variant `shown` references into `shared` (a hard link or copy from a local data
/// root, a download from a bucket) and lists them for the build record.
fn share(
    store: &dyn Store,
    shown: &Shown,
    index: &Index,
    shared: &SharedDir,
) -> Result<Vec<(String, ObjectInfo)>, t8k_core::Error> {
    let Shown::Responsive {
        webp,
        fallback,
        social,
    } = shown
    else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for v in webp.iter().chain(fallback).chain([social]) {
        if !shared.has(&v.rel) {
            let object = images::object_key(&v.key, v.format)?;
            match store.local_path(&object).filter(|p| p.is_file()) {
                Some(path) => shared.link_or_copy(&v.rel, &path)?,
                None => {
                    let bytes = store.get(&object)?.ok_or_else(|| t8k_core::Error::Corrupt {
                        file: object.to_string(),
                        message: "an image variant its index lists is missing; delete the index (images/index/…) to make it again".into(),
                    })?;
                    shared.put(&v.rel, &bytes.bytes)?;
                }
            }
        }
        let made = &index.variants[&v.key];
        out.push((
            v.rel.clone(),
            ObjectInfo {
                sha256: made.sha256.clone(),
                size: made.bytes,
            },
        ));
    }
    Ok(out)
}
