//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`. A session is a cookie
//! holding a token signed with the tenant's secret (tenant, user, role, expiry, token version),
//! checked against the `Host`'s tenant on every request.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use t8k_core::TenantId;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::users;

use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::guard::SignedIn;
use crate::state::{AppState, Shared, blocking, blocking_hash, tenant_in, tenant_of};
use crate::token::{self, Claims};
use t8k_core::hosts::is_local;

/// The secure cookie name; `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const COOKIE: &str = "__Host-t8k_session";
/// Over plain http on `*.localhost` (local preview) browsers drop Secure cookies.
pub const COOKIE_LOCAL: &str = "t8k_session";

#[derive(Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// A verified session.
#[derive(Clone)]
pub struct Session {
    pub tenant: TenantId,
    /// The `Host` it was presented at (decides the cookie's name when it is replaced).
    pub host: String,
    pub claims: std::sync::Arc<Claims>,
    /// The tenant's env.json the session was checked against.
    pub config: std::sync::Arc<crate::cache::ConfigDoc>,
}

/// The session cookie's value, if the request carries one: the credential a browser sends
/// on its own, which is why writes that carry it must prove where they come from
/// ([`crate::origin`]).
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    named_cookie(headers, [COOKIE, COOKIE_LOCAL])
}

/// The value of the first cookie called one of `names`.
pub fn named_cookie<'h>(headers: &'h HeaderMap, names: [&str; 2]) -> Option<&'h str> {
    // A malformed cookie part is skipped, not allowed to hide the session cookie after it.
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && names.contains(&k)
            {
                return Some(val);
            }
        }
    }
    None
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    if let Some(c) = session_cookie(headers) {
        return Some(c);
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The session of a request, verified against the request's tenant: signature with that
/// tenant's secret, expiry, and the account's current token version.
pub fn session(state: &AppState, headers: &HeaderMap) -> ApiResult<Session> {
    session_in(state, headers, &state.cache.sync())
}

/// [`session`] for a request that has already taken in recent changes.
pub fn session_in(
    state: &AppState,
    headers: &HeaderMap,
    fresh: &crate::cache::Fresh,
) -> ApiResult<Session> {
    let (tenant, host) = tenant_in(state, headers, fresh)?;
    let token = cookie_value(headers).ok_or_else(|| ApiError::unauthorized("log in first"))?;
    let store = state.inst.store();
    let doc = state.cache.config(store, &tenant, fresh)?;
    let now = t8k_core::timefmt::now().unix_timestamp();
    let claims = match doc.verified(token) {
        Some(c) => c,
        None => {
            if token::claimed_tenant(token).as_deref() != Some(tenant.as_str()) {
                return Err(ApiError::unauthorized(
                    "this session belongs to another site; log in here",
                ));
            }
            let c = token::verify(&doc.cfg.signing_secret, token, now).ok_or_else(|| {
                ApiError::unauthorized("the session is invalid or expired; log in again")
            })?;
            let c = std::sync::Arc::new(c);
            doc.remember(token, &c);
            c
        }
    };
    if claims.exp <= now || claims.tenant != tenant.as_str() {
        return Err(ApiError::unauthorized(
            "the session is invalid or expired; log in again",
        ));
    }
    let current = match users::builtin_state(&doc.cfg, &claims.user) {
        Some(s) => s,
        None => match state.cache.with_db(store, &tenant, fresh, |db| {
            users::named_state(db.db(), &claims.user)
        })? {
            Some(s) => s,
            None => users::session_state(store, &tenant, &claims.user)?,
        },
    };
    match current {
        Some((role, ver))
            if ver == claims.ver && role == claims.role && claims.kind == "session" =>
        {
            Ok(Session {
                tenant,
                host,
                claims,
                config: doc,
            })
        }
        _ => Err(ApiError::unauthorized(
            "the session was ended; log in again",
        )),
    }
}

fn set_cookie(host: &str, value: &str, max_age: u64) -> HeaderValue {
    cookie_header([COOKIE, COOKIE_LOCAL], host, value, max_age)
}

/// A `Set-Cookie` for `host`: the `__Host-` name (`names[0]`, Secure) on real domains, the
/// plain one over http on `*.localhost`; HttpOnly and SameSite=Strict always.
pub fn cookie_header(names: [&str; 2], host: &str, value: &str, max_age: u64) -> HeaderValue {
    let c = if is_local(host) {
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}",
            names[1]
        )
    } else {
        format!(
            "{}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}",
            names[0]
        )
    };
    HeaderValue::from_str(&c).expect("tokens are base64url and dots")
}

pub async fn login(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let form: Login = crate::body::read_form_or_json(&headers, body).await?;
    let h = headers.clone();
    let (host, token, account) = blocking_hash(&state, move |st| {
        let (tenant, host) = tenant_of(st, &h)?;
        let account_key = format!("{tenant}/{}", form.username.trim().to_ascii_lowercase());
        // The attempt is counted before the hash, so concurrent guesses cannot all pass.
        crate::limits::take_all(&[
            (&st.login_by_ip, ip.as_str()),
            (&st.login_by_account, account_key.as_str()),
        ])
        .map_err(ApiError::too_many)?;
        let Some(account) =
            users::verify(st.inst.store(), &tenant, &form.username, &form.password)?
        else {
            return Err(ApiError::unauthorized("wrong user name or password"));
        };
        st.login_by_ip.give_back(&ip);
        st.login_by_account.clear(&account_key);
        let (token, account) = new_session(st, &tenant, &account.username)?;
        Ok((host, token, account))
    })
    .await?;
    Ok(with_session(account, &host, &token, &state))
}

/// A signed session token for `username` at its current role and token version, and what
/// the login answers about the account.
fn new_session(
    st: &AppState,
    tenant: &TenantId,
    username: &str,
) -> ApiResult<(String, serde_json::Value)> {
    let (role, ver) = users::session_state(st.inst.store(), tenant, username)?
        .ok_or_else(|| ApiError::unauthorized("wrong user name or password"))?;
    let cfg = TenantConfig::load(st.inst.store(), tenant)?;
    let exp = t8k_core::timefmt::now().unix_timestamp() + st.session_ttl.as_secs() as i64;
    let claims = Claims {
        kind: "session".into(),
        tenant: tenant.to_string(),
        user: username.to_owned(),
        role,
        exp,
        ver,
    };
    Ok((
        token::sign(&cfg.signing_secret, &claims),
        json!({"tenant": tenant, "user": username, "role": role}),
    ))
}

/// The account as JSON, with the session's cookie set (never cached).
fn with_session(account: serde_json::Value, host: &str, token: &str, state: &Shared) -> Response {
    with_cookie(
        account,
        set_cookie(host, token, state.session_ttl.as_secs()),
    )
}

/// `body` as JSON with `cookie` set, never cached: a login's answer.
pub fn with_cookie(body: serde_json::Value, cookie: HeaderValue) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// `POST /api/auth/password {"current", "new"}`: the signed-in user sets their own password.
/// The current one is checked (and guesses are limited as logins are); every other session
/// of theirs ends, and this one goes on with a fresh cookie.
pub async fn change_password(
    State(state): State<Shared>,
    SignedIn(s, _): SignedIn,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let change: PasswordChange = crate::body::read(&headers, body).await?;
    let (host, token, account) = blocking_hash(&state, move |st| {
        let user = s.claims.user.clone();
        let account_key = format!("{}/{}", s.tenant, user.to_ascii_lowercase());
        crate::limits::take_all(&[(&st.login_by_account, account_key.as_str())])
            .map_err(ApiError::too_many)?;
        if users::verify(st.inst.store(), &s.tenant, &user, &change.current)?.is_none() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_password",
                "the current password is not right",
            ));
        }
        st.login_by_account.clear(&account_key);
        users::set_password(st.inst.store(), &s.tenant, &user, &change.new)?;
        users::revoke_sessions(st.inst.store(), &s.tenant, &user)?;
        let (token, account) = new_session(st, &s.tenant, &user)?;
        Ok((s.host, token, account))
    })
    .await?;
    Ok(with_session(account, &host, &token, &state))
}

pub async fn logout(State(state): State<Shared>, SignedIn(s, _): SignedIn) -> ApiResult<Response> {
    let host = blocking(&state, move |st| {
        users::revoke_sessions(st.inst.store(), &s.tenant, &s.claims.user)?;
        Ok(s.host)
    })
    .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&host, "", 0));
    Ok(r)
}

pub async fn me(SignedIn(s, _): SignedIn) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"tenant": s.tenant, "user": s.claims.user, "role": s.claims.role, "expires": s.claims.exp}),
    ))
}
