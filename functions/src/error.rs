//! Every function error is JSON, `{"error": {"code", "message"}}`, with the status that fits.
//! Handlers return `Result<_, ApiError>`; nothing a client sends can make them panic.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use t8k_core::quota::QuotaKind;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn too_many(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many attempts; try again in {retry_after} s"),
            )
        }
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<t8k_core::Error> for ApiError {
    fn from(e: t8k_core::Error) -> ApiError {
        use t8k_core::Error as E;
        let (status, code) = match &e {
            E::Name(_) | E::Invalid { .. } | E::Import(_) => (StatusCode::BAD_REQUEST, "invalid"),
            E::AlreadyTaken(_) => (StatusCode::CONFLICT, "taken"),
            E::NoSuchTenant(_)
            | E::NothingInTrash(_)
            | E::NoSuchPage(_)
            | E::NoSuchMenu(_)
            | E::NoSuchMedia(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::MaxTenants { .. } | E::SingleTenantMode => (StatusCode::CONFLICT, "full"),
            E::Quota {
                limit: QuotaKind::Storage,
                ..
            } => (StatusCode::PAYLOAD_TOO_LARGE, "quota"),
            E::Quota { .. } => (StatusCode::CONFLICT, "quota"),
            E::Busy { .. } => (StatusCode::CONFLICT, "busy"),
            E::VerificationUsed(_) | E::VerificationExpired(_) => (StatusCode::GONE, "gone"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
