//! Request bodies: size-capped (413), JSON (or an HTML form where an endpoint is built for
//! one), parsed into a typed value (400 with the reason on anything malformed).

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Bodies larger than this are refused before they are read whole.
pub const MAX_BODY: usize = 64 * 1024;

/// A JSON body. Anything not sent as `application/json` is refused (415): a page on another
/// site can post a form or `text/plain` without asking, but not JSON, so JSON-only endpoints
/// cannot be driven by a cross-site form.
pub async fn read<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> ApiResult<T> {
    if !is_json(content_type(headers)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let bytes = bytes(body).await?;
    json(&bytes)
}

/// A JSON body or an HTML form (`application/x-www-form-urlencoded`), for the endpoints that
/// are built to work without JavaScript (sign-up and its confirmation). Their writes pass the
/// same-origin check like every other ([`crate::origin`]).
pub async fn read_form_or_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<T> {
    let ctype = content_type(headers);
    let bytes = bytes(body).await?;
    if ctype.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded_form(&bytes);
    }
    if !is_json(ctype) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON (Content-Type: application/json) or as an HTML form",
        ));
    }
    json(&bytes)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_json(ctype: &str) -> bool {
    ctype
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

async fn bytes(body: Body) -> ApiResult<axum::body::Bytes> {
    to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY} bytes"),
        )
    })
}

fn json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("the body is not the JSON this endpoint takes: {e}"))
    })
}

fn serde_urlencoded_form<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let pairs: serde_json::Map<String, serde_json::Value> = form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(pairs))
        .map_err(|e| ApiError::bad_request(format!("the form is missing or has wrong fields: {e}")))
}
