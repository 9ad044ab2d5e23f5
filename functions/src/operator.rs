//! The installation operator's browser session, for the installation admin at the main
//! domain's `/admin/`. The operator logs in with the installation admin API key once; the
//! answer is an HttpOnly cookie (`__Host-t8k_operator`) that stands for the key for eight
//! hours, so the key itself never sits in the page's storage. The cookie is signed with the
//! installation's secret joined to the key's hash, so rotating the key (`t8k config
//! admin-key`) ends every operator session, and a logout ends them all too (the operator
//! epoch in `config/t8k/secrets.json`). Tenant sessions and operator sessions never open
//! each other's routes: different cookies, different secrets, different hosts.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use t8k_core::secrets::Secrets;
use t8k_core::users::Role;

use crate::auth::{cookie_header, named_cookie, with_cookie};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::guard::InstallationAdmin;
use crate::state::{Shared, blocking, host_of, on_main_domain};
use crate::token::{self, Claims};

/// The cookie's names: secure on real domains, plain over http on `localhost`.
pub const COOKIES: [&str; 2] = ["__Host-t8k_operator", "t8k_operator"];
/// How long an operator session lasts.
const TTL_SECS: u64 = 8 * 3600;
const KIND: &str = "operator";

/// The key the operator's cookie is signed with: none while no admin key exists.
fn secret(s: &Secrets) -> Option<String> {
    s.admin_key_sha256
        .as_ref()
        .map(|k| format!("{}:{k}", s.signing_secret))
}

/// The operator cookie a request carries, if any (a credential browsers send on their own,
/// so writes carrying it must prove their origin, as tenant sessions' do).
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    named_cookie(headers, COOKIES)
}

/// True when the request carries a current operator session under these secrets.
pub fn verified(secrets: &Secrets, headers: &HeaderMap) -> bool {
    let (Some(token), Some(secret)) = (cookie(headers), secret(secrets)) else {
        return false;
    };
    let now = t8k_core::timefmt::now().unix_timestamp();
    token::verify(&secret, token, now)
        .is_some_and(|c| c.kind == KIND && c.ver == secrets.operator_epoch)
}

#[derive(Deserialize)]
pub struct Login {
    pub key: String,
}

/// `POST /api/admin/login {"key"}` on the main domain: the admin key for a session cookie.
/// Wrong keys count against the caller's address as wrong passwords do.
pub async fn login(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let form: Login = crate::body::read(&headers, body).await?;
    let h = headers.clone();
    let token = blocking(&state, move |st| {
        on_main_domain(st, &h, "the installation admin")?;
        crate::limits::take_all(&[(&st.login_by_ip, ip.as_str())]).map_err(ApiError::too_many)?;
        let secrets = st.inst.existing_secrets()?.unwrap_or_default();
        let Some(secret) = secret(&secrets).filter(|_| secrets.admin_key_matches(form.key.trim()))
        else {
            return Err(ApiError::unauthorized(
                "that is not the installation admin key; `t8k config admin-key` makes a new one",
            ));
        };
        st.login_by_ip.give_back(&ip);
        let claims = Claims {
            kind: KIND.into(),
            tenant: String::new(),
            user: KIND.into(),
            role: Role::Admin,
            exp: t8k_core::timefmt::now().unix_timestamp() + TTL_SECS as i64,
            ver: secrets.operator_epoch,
        };
        Ok(token::sign(&secret, &claims))
    })
    .await?;
    let cookie = cookie_header(COOKIES, host_of(&headers), &token, TTL_SECS);
    Ok(with_cookie(
        json!({"operator": true, "expires_in": TTL_SECS}),
        cookie,
    ))
}

/// `GET /api/admin/me`: whether the caller is the operator (the admin app asks on load).
pub async fn me(_: InstallationAdmin) -> Json<serde_json::Value> {
    Json(json!({"operator": true}))
}

/// `POST /api/admin/logout`: ends every operator session and clears this browser's cookie.
pub async fn logout(
    State(state): State<Shared>,
    _: InstallationAdmin,
    headers: HeaderMap,
) -> ApiResult<Response> {
    blocking(&state, |st| Ok(st.inst.end_operator_sessions()?)).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        cookie_header(COOKIES, host_of(&headers), "", 0),
    );
    Ok(r)
}
