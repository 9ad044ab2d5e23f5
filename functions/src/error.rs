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

/// The message, as the CLI shows it when it runs a function's work itself.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<t8k_core::Error> for ApiError {
    /// Core states what went wrong; this adds what an API client can do about it.
    fn from(e: t8k_core::Error) -> ApiError {
        use StatusCode as S;
        use t8k_core::Error as E;
        let (status, code, remedy) = match &e {
            E::Name(_) | E::Invalid { .. } | E::Import(_) => (S::BAD_REQUEST, "invalid", ""),
            E::BelowUsage { .. } => (
                S::BAD_REQUEST,
                "below_usage",
                "; free space first, or send \"force\": true to set it anyway",
            ),
            E::AlreadyTaken(_) => (S::CONFLICT, "taken", ""),
            E::EditConflict(_) => (S::CONFLICT, "conflict", ""),
            E::HostTaken { .. } => (
                S::CONFLICT,
                "taken",
                "; a domain serves one site: remove it from the other first",
            ),
            E::NoSuchTenant(_) | E::NothingInTrash(_) | E::NoSuchPage(_) => {
                (S::NOT_FOUND, "not_found", "")
            }
            E::NoSuchMenu(_) => (
                S::NOT_FOUND,
                "not_found",
                "; GET /api/menus lists the menus",
            ),
            E::NoSuchMedia(_) => (
                S::NOT_FOUND,
                "not_found",
                "; GET /api/media lists the files",
            ),
            E::NoSuchUser { .. } => (
                S::NOT_FOUND,
                "not_found",
                "; GET /api/users lists the accounts",
            ),
            E::MaxTenants { .. } | E::SingleTenantMode => (
                S::CONFLICT,
                "full",
                "; no new sites can be created here until the operator makes room",
            ),
            E::Quota {
                limit: QuotaKind::Storage,
                ..
            } => (
                S::PAYLOAD_TOO_LARGE,
                "quota",
                "; delete pages or media to free space, or ask the installation's operator to raise it",
            ),
            E::Quota { .. } => (
                S::CONFLICT,
                "quota",
                "; ask the installation's operator to raise it",
            ),
            E::Busy { .. } => (S::CONFLICT, "busy", ""),
            E::Dns(_) => (S::SERVICE_UNAVAILABLE, "dns_unsure", ""),
            E::VerificationUsed(_) => (
                S::GONE,
                "gone",
                "; if the site exists, log in there, else sign up again",
            ),
            E::VerificationExpired(_) => (S::GONE, "gone", "; sign up again"),
            _ => return ApiError::internal(t8k_core::error::chain(&e)),
        };
        ApiError::new(status, code, format!("{e}{remedy}"))
    }
}

tokio::task_local! {
    /// The id of the request being handled (see [`crate::trace`]), for 500 bodies.
    pub static REQUEST_ID: Option<HeaderValue>;
}

impl ApiError {
    /// The message a client may see, and the request id when it stands in for the cause. A
    /// 500's cause goes to the log (here, once) and the client gets an id to quote, never a
    /// path, a query or an internal message.
    pub fn disclose(&self) -> (String, Option<String>) {
        if self.status != StatusCode::INTERNAL_SERVER_ERROR {
            return (self.message.clone(), None);
        }
        let id = REQUEST_ID
            .try_with(|id| id.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned))
            .ok()
            .flatten()
            .unwrap_or_default();
        tracing::error!(request_id = %id, code = self.code, cause = %self.message, "request failed");
        let message = format!(
            "something went wrong on our side; if it persists, quote request id {id} to the site's operator"
        );
        (message, Some(id))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.disclose() {
            (message, Some(id)) => {
                json!({"error": {"code": self.code, "message": message, "request_id": id}})
            }
            (message, None) => json!({"error": {"code": self.code, "message": message}}),
        };
        let mut r = (self.status, Json(body)).into_response();
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
