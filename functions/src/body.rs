//! Request bodies: size-capped (413), JSON or an HTML form, parsed into a typed value (400 with
//! the reason on anything malformed).

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Bodies larger than this are refused before they are read whole.
pub const MAX_BODY: usize = 64 * 1024;

pub async fn read<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> ApiResult<T> {
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY} bytes"),
        )
    })?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded_form(&bytes);
    }
    serde_json::from_slice(&bytes).map_err(|e| {
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
