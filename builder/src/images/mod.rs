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
mod plan;
mod prepare;

pub use prepare::prepare;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use t8k_core::images::Format;
use t8k_core::shared;

use crate::publish::ObjectInfo;

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
    pub width: u32,
    pub height: u32,
    pub format: Format,
}

impl Variant {
    pub fn url(&self) -> String {
        shared::url(&self.rel())
    }

    /// `img/{key}.{ext}`: its shared object.
    pub fn rel(&self) -> String {
        t8k_core::images::shared_rel(&self.key, self.format)
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

    /// A hash of how every image shows (for the keys of incremental builds: a page's markup
    /// depends on the variants of the images it embeds). `Debug` names every field.
    pub fn digest(&self) -> crate::incremental::Key {
        let mut urls: Vec<_> = self.by_url.iter().collect();
        urls.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = crate::incremental::Inputs::new(b"", "images");
        h.json(&self.settings);
        for (url, image) in urls {
            h.str(url)
                .str(&image.alt)
                .str(&format!("{:?}", image.shown));
        }
        h.finish()
    }
}
