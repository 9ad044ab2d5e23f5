//! `/api/media` (editors and admins): upload an image as the raw request body
//! (`POST /api/media?alt=…`), list, delete. The body is capped (10 MiB, `T8K_MAX_UPLOAD`), its
//! type is sniffed from the bytes (PNG, JPEG, GIF, WebP; the declared `Content-Type` and any
//! file name are ignored), and it is decoded in full, within pixel and memory limits, so a
//! truncated file or a decompression bomb is refused. The storage key is made by core from
//! the bytes' hash.

use std::io::Cursor;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{ImageFormat, ImageReader, Limits};
use serde_json::{Value, json};
use t8k_core::content::media::{self, Upload};

use crate::content::editor;
use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, blocking};

/// Images wider or taller than this are refused (a 16k × 16k RGBA image is 1 GiB decoded).
const MAX_SIDE: u32 = 12_000;
const MAX_DECODED: u64 = 256 * 1024 * 1024;

#[derive(serde::Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    pub alt: String,
}

fn max_upload() -> usize {
    std::env::var("T8K_MAX_UPLOAD")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(10 * 1024 * 1024)
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

/// Sniffs and fully decodes the bytes; returns (mime, extension, width, height).
pub fn verify_image(bytes: &[u8]) -> ApiResult<(&'static str, &'static str, u32, u32)> {
    let format = image::guess_format(bytes)
        .map_err(|_| unsupported("the upload is not an image t8k recognises"))?;
    let (mime, ext) = match format {
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Gif => ("image/gif", "gif"),
        ImageFormat::WebP => ("image/webp", "webp"),
        other => return Err(unsupported(&format!("{other:?} images are not accepted"))),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_image",
            format!("the {ext} image cannot be decoded ({e}); upload an intact file of at most {MAX_SIDE} × {MAX_SIDE} pixels"),
        )
    })?;
    Ok((mime, ext, img.width(), img.height()))
}

pub async fn upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> ApiResult<Response> {
    // Who is asking is checked before a large body is read.
    let h = headers.clone();
    let session = blocking(&state, move |st| editor(st, &h)).await?;
    let max = max_upload();
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
    let (file, created) = blocking(&state, move |st| {
        let (mime, ext, width, height) = verify_image(&bytes)?;
        let up = Upload {
            bytes: &bytes,
            mime,
            ext,
            width,
            height,
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

pub async fn list(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let s = editor(st, &headers)?;
        Ok(Json(json!(media::list(st.inst.store(), &s.tenant)?)))
    })
    .await
}

pub async fn delete(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |st| {
        let s = editor(st, &headers)?;
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::not_found(format!("there is no media file {id:?}")))?;
        media::delete(st.inst.store(), &s.tenant, id)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
