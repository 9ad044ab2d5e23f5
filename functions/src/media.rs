//! `/api/media` (editors and admins): upload an image as the raw request body
//! (`POST /api/media?alt=…`), list, delete. The body is capped (10 MiB, `T8K_MAX_UPLOAD`), its
//! type is sniffed from the bytes (PNG, JPEG, GIF, WebP; the declared `Content-Type` and any
//! file name are ignored), and it is decoded in full, within pixel and memory limits, so a
//! truncated file or a decompression bomb is refused. All decodes of a process share one
//! memory budget ([`DecodeBudget`]), so concurrent uploads cannot exhaust memory. The storage
//! key is made by core from the bytes' hash.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{ImageDecoder, ImageFormat, ImageReader, Limits};
use serde_json::{Value, json};
use t8k_core::content::media::{self, Upload};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};
use crate::guard::Editor;
use crate::state::{Shared, blocking};

use t8k_core::images::MAX_SIDE;
const MAX_DECODED: u64 = 256 * 1024 * 1024;

#[derive(serde::Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    pub alt: String,
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("uploads are limited to {max} bytes; resize the image and try again"),
    )
}

fn unsupported(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media",
        format!("{detail}; upload a PNG, JPEG, GIF or WebP image"),
    )
}

/// An upload whose type and size were read from its header, before any pixel is decoded.
pub struct Probed {
    pub format: ImageFormat,
    pub mime: &'static str,
    pub ext: &'static str,
    /// What decoding it will hold in memory: width × height × bytes per pixel.
    pub decoded_bytes: u64,
}

fn limits() -> Limits {
    t8k_core::images::decode_limits(MAX_DECODED)
}

fn bad_image(ext: &str, e: image::ImageError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_image",
        format!(
            "the {ext} image cannot be decoded ({e}); upload an intact file of at most {MAX_SIDE} × {MAX_SIDE} pixels"
        ),
    )
}

/// Sniffs the type from the bytes and reads the header: cheap, and enough to know what a full
/// decode will cost ([`DecodeBudget`]).
pub fn probe(bytes: &[u8]) -> ApiResult<Probed> {
    let format = image::guess_format(bytes)
        .map_err(|_| unsupported("the upload is not an image t8k recognises"))?;
    let accepted = t8k_core::images::Format::of_image_format(format)
        .ok_or_else(|| unsupported(&format!("{format:?} images are not accepted")))?;
    let (mime, ext) = (accepted.mime(), accepted.ext());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let decoder = reader.into_decoder().map_err(|e| bad_image(ext, e))?;
    let decoded_bytes = decoder.total_bytes();
    if decoded_bytes > MAX_DECODED {
        return Err(bad_image(
            ext,
            image::ImageError::Limits(image::error::LimitError::from_kind(
                image::error::LimitErrorKind::InsufficientMemory,
            )),
        ));
    }
    Ok(Probed {
        format,
        mime,
        ext,
        decoded_bytes,
    })
}

/// Decodes the whole image (a truncated file or a decompression bomb fails here); returns its
/// width and height. Call it holding a [`DecodeBudget`] reservation for `p.decoded_bytes`.
pub fn decode(bytes: &[u8], p: &Probed) -> ApiResult<(u32, u32)> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), p.format);
    reader.limits(limits());
    let img = reader.decode().map_err(|e| bad_image(p.ext, e))?;
    Ok((img.width(), img.height()))
}

/// The memory all image decodes of this process may hold at once (`T8K_DECODE_BUDGET`, a size
/// like `512MiB`, the default), shared by every request and tenant: a burst of large images
/// queues for it instead of growing memory without bound. A request that cannot get its share
/// within `T8K_DECODE_WAIT_MS` (default 3000) is answered 503 with `Retry-After`.
pub struct DecodeBudget {
    /// One permit is one KiB of decoded pixels.
    permits: Arc<Semaphore>,
    total_kib: u32,
    wait: Duration,
    /// Asks the program's allocator to give freed memory back to the system now
    /// ([`DecodeBudget::release`]).
    give_back: Option<fn()>,
}

impl DecodeBudget {
    pub fn new(total_bytes: u64, wait: Duration) -> DecodeBudget {
        let total_kib = (total_bytes / 1024).clamp(1, u64::from(u32::MAX >> 3)) as u32;
        DecodeBudget {
            permits: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            wait,
            give_back: None,
        }
    }

    /// For allocators that keep freed pages a while before giving them back (mimalloc, in
    /// `t8k serve`): without `give_back`, the next decode on another thread takes fresh pages
    /// while the last one's are still held, and the budget stops bounding the process's
    /// memory (`tests/limits_under_load.rs`: +95 to +140 MiB against a 64 MiB budget).
    pub fn giving_memory_back_with(mut self, give_back: fn()) -> DecodeBudget {
        self.give_back = Some(give_back);
        self
    }

    /// Returns a reservation once its pixels are freed, the memory handed back first.
    pub fn release(&self, reserved: OwnedSemaphorePermit) {
        if let Some(give_back) = self.give_back {
            give_back();
        }
        drop(reserved);
    }

    /// Reserves `bytes` of the budget (all of it for an image larger than the whole budget),
    /// waiting at most the configured time.
    pub async fn reserve(&self, bytes: u64) -> ApiResult<OwnedSemaphorePermit> {
        let kib = bytes.div_ceil(1024).clamp(1, u64::from(self.total_kib)) as u32;
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_many_owned(kib)).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError {
                retry_after: Some(self.wait.as_secs().max(1)),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the server is decoding as many images as it can hold right now; try again shortly",
                )
            }),
        }
    }
}

/// Who is asking is checked (by the [`Editor`] extractor) before a large body is read.
pub async fn upload(
    State(state): State<Shared>,
    Editor(session): Editor,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> ApiResult<Response> {
    let max = state.inst.env.max_upload;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let bytes = to_bytes(body, max).await.map_err(|_| too_large(max))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty; send the image's bytes as the request body",
        ));
    }
    let probed = probe(&bytes)?;
    // Held until the decoded pixels are freed, so the process never holds more than the
    // budget in decoded images, whatever the number of concurrent uploads.
    let reserved = state.decoding.reserve(probed.decoded_bytes).await?;
    let (file, created) = blocking(&state, move |st| {
        let decoded = decode(&bytes, &probed);
        st.decoding.release(reserved);
        let (width, height) = decoded?;
        let up = Upload {
            bytes: &bytes,
            mime: probed.mime,
            ext: probed.ext,
            width: Some(width),
            height: Some(height),
            alt: q.alt,
        };
        Ok(media::add(st.inst.store(), &session.tenant, &up)?)
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"media": file, "created": created}))).into_response())
}

pub async fn list(State(state): State<Shared>, Editor(s): Editor) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        Ok(Json(json!(media::list(st.inst.store(), &s.tenant)?)))
    })
    .await
}

fn media_id(id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::not_found(format!("there is no media file {id:?}")))
}

/// `GET /api/media/{id}/file`: the stored original, for the admin's thumbnails (the site's
/// `/media/…` serves it only once a build has published it). Private to the tenant's editors;
/// served as the image type it was checked to be at upload, and never as a document.
pub async fn file(
    State(state): State<Shared>,
    Editor(s): Editor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (file, bytes) = blocking(&state, move |st| {
        Ok(media::read(st.inst.store(), &s.tenant, media_id(&id)?)?)
    })
    .await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    let mime = HeaderValue::from_str(&file.mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mime);
    // The key is the content's hash: the bytes behind this id never change.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

pub async fn delete(
    State(state): State<Shared>,
    Editor(s): Editor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |st| {
        media::delete(st.inst.store(), &s.tenant, media_id(&id)?)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_decode_budget_is_shared_and_a_request_that_cannot_wait_gets_503() {
        let budget = DecodeBudget::new(1024 * 1024, Duration::from_millis(50));
        let first = budget.reserve(700 * 1024).await.unwrap();
        let refused = budget.reserve(700 * 1024).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.retry_after, Some(1));
        // A small one still fits beside the first.
        drop(budget.reserve(300 * 1024).await.unwrap());
        drop(first);
        // An image larger than the whole budget takes all of it, rather than never fitting.
        drop(budget.reserve(50 * 1024 * 1024).await.unwrap());
    }

    #[test]
    fn the_probe_reads_the_cost_from_the_header_alone() {
        let img = image::RgbImage::from_pixel(3000, 2000, image::Rgb([1, 2, 3]));
        let mut png = Cursor::new(vec![]);
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        let p = probe(png.get_ref()).unwrap();
        assert_eq!((p.mime, p.decoded_bytes), ("image/png", 3000 * 2000 * 3));
        assert_eq!(decode(png.get_ref(), &p).unwrap(), (3000, 2000));
    }
}
