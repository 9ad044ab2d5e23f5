//! Self-service sign-up on the main domain: `GET /api/register/check?name=` (availability and
//! the naming rules, as the user types) and `POST /api/register` (JSON, or the
//! `/sandbox/register/` form without JavaScript). Names are validated by core's one validator
//! and claimed by core's atomic create, so uniqueness and `max_tenants` hold under concurrency.

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use t8k_core::lifecycle::NewTenant;

use crate::error::{ApiError, ApiResult};
use crate::host::{HostMap, Site};
use crate::state::{AppState, Shared, blocking};

#[derive(Deserialize)]
pub struct Check {
    #[serde(default)]
    pub name: String,
}

#[derive(Deserialize)]
pub struct Signup {
    pub subdomain: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub organisation: String,
    pub password: String,
}

/// Sign-up is answered on the main domain only, and only while it is open.
fn main_domain(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let (reg, _) = state.inst.registry()?;
    if HostMap::new(&reg).resolve(host) != Some(&Site::Main) {
        return Err(ApiError::not_found("sign-up lives on the main domain"));
    }
    let settings = state.inst.settings()?;
    if !(settings.enable_multi_tenant.value && settings.public_enable_multi_tenant.value) {
        return Err(ApiError::forbidden(
            "self-service sign-up is closed on this installation",
        ));
    }
    Ok(settings.domain.value)
}

pub async fn check(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Check>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(&state, move |st| {
        main_domain(st, &headers)?;
        Ok(Json(match st.inst.validate_name(&q.name) {
            Err(t8k_core::Error::Name(e)) => json!({"name": q.name, "available": false, "rule": e.rule, "message": e.message}),
            Err(e) => return Err(e.into()),
            Ok(id) => {
                let taken = st.inst.registry()?.0.find(id.as_str()).is_some();
                json!({"name": id, "available": !taken, "rule": if taken { Some("taken") } else { None }, "message": if taken { "this name is taken" } else { "available" }})
            }
        }))
    })
    .await
}

fn wants_html(headers: &HeaderMap) -> bool {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ctype.starts_with("application/x-www-form-urlencoded") && accept.contains("text/html")
}

pub async fn register(
    State(state): State<Shared>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let html = wants_html(&headers);
    let form: Signup = crate::body::read(&headers, body).await?;
    let ip = addr.ip().to_string();
    let created = blocking(&state, move |st| {
        let domain = main_domain(st, &headers)?;
        let email_key = form.email.trim().to_ascii_lowercase();
        st.signup_by_ip.check(&ip).map_err(ApiError::too_many)?;
        st.signup_by_email
            .check(&email_key)
            .map_err(ApiError::too_many)?;
        // Typos in the form do not count against the limits; attempts that get this far do.
        st.inst.validate_name(&form.subdomain)?;
        t8k_core::password::check_policy(&form.password)?;
        st.signup_by_ip.hit(&ip);
        st.signup_by_email.hit(&email_key);
        let org = form.organisation.trim().to_owned();
        let site_name = if org.is_empty() {
            format!("{}'s site", form.name.trim())
        } else {
            org.clone()
        };
        let entry = st.inst.create_tenant(&form.subdomain, |id| NewTenant {
            id,
            site_name,
            email: form.email.clone(),
            admin_password: Some(form.password.clone()),
            editor_password: None,
            theme: None,
            organisation: Some(org),
        })?;
        let id = entry.tenant_id().map_err(t8k_core::Error::from)?;
        t8k_core::queue::request_build(st.inst.store(), &id, "sign-up")?;
        Ok((entry, domain))
    })
    .await?;
    let (entry, _) = created;
    let url = format!("https://{}/", entry.domain);
    if html {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Your site is ready</title></head>\
<body><main><h1>Your site is ready</h1><p>Your site <strong>{}</strong> has been created and will be online at <a href=\"{url}\">{url}</a> in a few minutes. Log in there as <code>admin</code>.</p></main></body></html>",
            entry.id
        );
        return Ok((StatusCode::CREATED, Html(page)).into_response());
    }
    Ok((StatusCode::CREATED, Json(json!({"tenant": entry.id, "url": url, "status": "created", "login": format!("{url}api/auth/login")}))).into_response())
}
