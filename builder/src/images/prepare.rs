//! Preparing a tenant's images for a build: one index read per original, and for those not
//! settled, one decode that makes every variant missing — on the rayon pool.

use rayon::prelude::*;
use t8k_core::TenantId;
use t8k_core::content::media::url_of;
use t8k_core::images::{self, Format, Index, Made, Params};
use t8k_core::store::Store;

use super::plan::{plan, shown};
use super::{Image, ImageSet, Original, Settings, Shown, codec};
use crate::error::BuildError;
use crate::publish::ObjectInfo;
use crate::shared_dir::SharedDir;

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
    fn err(&self, source: t8k_core::Error) -> BuildError {
        BuildError::Tenant {
            tenant: self.tenant.to_string(),
            source,
        }
    }

    /// Reads the original's index and, if its variants are not all known (and it is neither
    /// animated nor known to be undecodable), makes them.
    ///
    /// A variant the index lists but the store lost (swept by `t8k gc` while this build
    /// read the index, or removed by hand) is made again.
    fn prepare(&self, o: &Original, format: Format) -> Result<Prepared, BuildError> {
        let mut index = images::read_index(self.store, &o.sha256)
            .map_err(|e| self.err(e))?
            .unwrap_or_default();
        let mut work = Work::Reused;
        loop {
            let settled = index.failure(codec::ENCODER).is_some()
                || index.animated
                || (index.width > 0 && shown(&index, &o.sha256, format, self.settings).is_some());
            if !settled {
                let learnt = self.process(o, format, &index)?;
                index.merge(&learnt);
                work = Work::Processed;
            }
            match self.show(o, format, &index, work)? {
                Ok(prepared) => return Ok(prepared),
                // Made in this pass and gone already: something removes them as they are made.
                Err(lost) if work == Work::Processed => {
                    return Err(self.err(t8k_core::Error::Corrupt {
                        file: lost,
                        message: "an image variant vanished from the data root as it was made"
                            .into(),
                    }));
                }
                Err(lost) => {
                    index.variants.retain(|key, _| !lost.contains(key.as_str()));
                }
            }
        }
    }

    /// Decodes the original and makes what `index` lacks; remembers what it learnt (a bad
    /// image included) in the original's index.
    fn process(&self, o: &Original, format: Format, index: &Index) -> Result<Index, BuildError> {
        let original = t8k_core::content::media::original(self.store, self.tenant, &o.key)
            .map_err(|e| self.err(e))?;
        let learnt = self
            .make(o, &original, format, index)?
            .unwrap_or_else(|message| Index {
                failed: Some(images::Failure {
                    encoder: codec::ENCODER.into(),
                    message,
                }),
                ..Default::default()
            });
        images::record(self.store, &o.sha256, &learnt).map_err(|e| self.err(e))?;
        Ok(learnt)
    }

    /// How pages show an original whose index is complete, and the shared objects they use.
    fn show(
        &self,
        o: &Original,
        format: Format,
        index: &Index,
        work: Work,
    ) -> Result<Result<Prepared, String>, BuildError> {
        let as_is = |size, why| Image {
            alt: o.alt.clone(),
            shown: Shown::AsIs { size, why },
        };
        if let Some(f) = index.failure(codec::ENCODER) {
            let image = as_is(None, Some(f.message.clone()));
            return Ok(Ok(Prepared(image, Work::Failed, vec![])));
        }
        if index.animated {
            let image = as_is(Some((index.width, index.height)), None);
            return Ok(Ok(Prepared(image, work, vec![])));
        }
        let shown =
            shown(index, &o.sha256, format, self.settings).expect("every planned variant was made");
        let objects = match share(self.store, &shown, index, self.shared) {
            Ok(objects) => objects,
            Err(Shared::Lost(object)) => return Ok(Err(object)),
            Err(Shared::Failed(e)) => return Err(self.err(e)),
        };
        let image = Image {
            alt: o.alt.clone(),
            shown,
        };
        Ok(Ok(Prepared(image, work, objects)))
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
/// Why a variant could not be shared.
enum Shared {
    /// The store has no object for it (its key in the data root).
    Lost(String),
    Failed(t8k_core::Error),
}

impl From<t8k_core::Error> for Shared {
    fn from(e: t8k_core::Error) -> Shared {
        Shared::Failed(e)
    }
}

fn share(
    store: &dyn Store,
    shown: &Shown,
    index: &Index,
    shared: &SharedDir,
) -> Result<Vec<(String, ObjectInfo)>, Shared> {
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
        let rel = v.rel();
        if !shared.has(&rel) {
            let object = images::object_key(&v.key, v.format)?;
            match store.local_path(&object).filter(|p| p.is_file()) {
                Some(path) => shared.link_or_copy(&rel, &path)?,
                None => {
                    let bytes = store
                        .get(&object)
                        .map_err(t8k_core::Error::from)?
                        .ok_or_else(|| Shared::Lost(object.to_string()))?;
                    shared.put(&rel, &bytes.bytes)?;
                }
            }
        }
        let made = &index.variants[&v.key];
        out.push((
            rel,
            ObjectInfo {
                sha256: made.sha256.clone(),
                size: made.bytes,
            },
        ));
    }
    Ok(out)
}
