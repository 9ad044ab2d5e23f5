//! Who may call a handler, as extractors that reject before it runs: a handler that takes an
//! [`Editor`] cannot forget the check, and one that takes nothing of the kind is public. The
//! route table ([`crate::router::endpoints`]) states each route's [`Access`], and a test walks
//! every route to hold the two to each other.
//!
//! - [`SignedIn`]: any session of the `Host`'s tenant;
//! - [`Editor`]: an editor's or an admin's session;
//! - [`Admin`]: a tenant admin's session;
//! - [`InstallationAdmin`]: the installation admin API key (or the operator session made
//!   from it), on the main domain.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use t8k_core::users::Role;

use crate::auth::{Session, session, session_in};
use crate::cache::Fresh;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared, blocking, on_main_domain};

/// What a route asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-up, login, beacon): these guard themselves with rate limits.
    Public,
    SignedIn,
    Editor,
    Admin,
    InstallationAdmin,
}

/// Any verified session of the request's tenant, with the proof that the request has taken in
/// recent changes (so a handler reading the cache does not poll for them again).
pub struct SignedIn(pub Session, pub Fresh);

/// A session whose role includes [`Role::Editor`].
pub struct Editor(pub Session);

/// A session whose role includes [`Role::Admin`].
pub struct Admin(pub Session);

/// The installation's operator: the admin API key on the main domain.
pub struct InstallationAdmin;

/// Runs `check` on the request's headers: inline on a local data root, on the blocking pool
/// otherwise — [`crate::state::read`], except that the inline path borrows the headers
/// instead of copying them (this runs on every guarded request).
async fn check<T: Send + 'static>(
    parts: &Parts,
    state: &Shared,
    check: fn(&AppState, &axum::http::HeaderMap) -> ApiResult<T>,
) -> ApiResult<T> {
    if state.inline_reads {
        return check(state, &parts.headers);
    }
    let headers = parts.headers.clone();
    blocking(state, move |st| check(st, &headers)).await
}

fn with_role(s: Session, needed: Role) -> ApiResult<Session> {
    if s.claims.role.includes(needed) {
        return Ok(s);
    }
    Err(ApiError::forbidden(format!(
        "this needs an {} account",
        needed.as_str()
    )))
}

impl FromRequestParts<Shared> for SignedIn {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Self> {
        let (s, fresh) = check(parts, state, |st, headers| {
            let fresh = st.cache.sync();
            Ok((session_in(st, headers, &fresh)?, fresh))
        })
        .await?;
        Ok(SignedIn(s, fresh))
    }
}

impl FromRequestParts<Shared> for Editor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Self> {
        let s = check(parts, state, session).await?;
        with_role(s, Role::Editor).map(Editor)
    }
}

impl FromRequestParts<Shared> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Self> {
        let s = check(parts, state, session).await?;
        with_role(s, Role::Admin).map(Admin)
    }
}

impl FromRequestParts<Shared> for InstallationAdmin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Self> {
        let headers = parts.headers.clone();
        // The key check reads the installation's secrets: always off the async threads.
        blocking(state, move |st| operator(st, &headers)).await?;
        Ok(InstallationAdmin)
    }
}

/// Main domain, and the current admin key (or the operator's browser session that stands for
/// it, [`crate::operator`]). No tenant session, not even a tenant admin's, opens these routes.
fn operator(st: &AppState, headers: &axum::http::HeaderMap) -> ApiResult<()> {
    on_main_domain(st, headers, "the admin API")?;
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    // Read, never created here: a refused request writes nothing.
    let secrets = st.inst.existing_secrets()?.unwrap_or_default();
    if !secrets.admin_key_matches(key) && !crate::operator::verified(&secrets, headers) {
        return Err(ApiError::unauthorized(
            "send the installation admin API key as `Authorization: Bearer <key>` (or log in at /admin/ with it); `t8k config admin-key` makes one",
        ));
    }
    Ok(())
}
