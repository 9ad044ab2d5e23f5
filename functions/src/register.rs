//! Self-service sign-up on the main domain: `GET /api/register/check?name=` (availability and
//! the naming rules, as the user types) and `POST /api/register` (JSON, or the
//! `/sandbox/register/` form without JavaScript). Names are validated by core's one validator
//! and claimed by core's atomic create, so uniqueness and `max_tenants` hold under concurrency.
//!
//! With `require_email_verification` on, the name is reserved as `pending` instead and a link
//! is emailed ([`crate::mail`]). The link's token is signed with the installation's secret and
//! carries a nonce the reservation knows only the hash of. Following the link shows a confirm
//! button (so mail scanners that fetch links do not consume it); posting it creates the tenant.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use t8k_core::lifecycle::{NewTenant, Reservation};
use t8k_core::registry::TenantEntry;
use t8k_core::settings::Settings;

use crate::cache::RegistryDoc;
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::mail::{self, Mail, Sent};
use crate::page::{self, esc};
use crate::state::{AppState, Shared, blocking, blocking_hash, host_of, on_main_domain};
use crate::token::{self, Claims};
use t8k_core::hosts::is_local;

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

#[derive(Deserialize)]
pub struct Verify {
    #[serde(default)]
    pub token: String,
}

const VERIFY_KIND: &str = "verify";

/// Sign-up is answered on the main domain only, and only while it is open. Returns the
/// registry it checked that against (the cached one: the name check runs on every keystroke).
fn main_domain(state: &AppState, headers: &HeaderMap) -> ApiResult<(Arc<RegistryDoc>, Settings)> {
    let doc = on_main_domain(state, headers, "sign-up")?;
    let settings = Settings::resolve(&doc.reg, &state.inst.env)?;
    if !(settings.enable_multi_tenant.value && settings.public_enable_multi_tenant.value) {
        return Err(ApiError::forbidden(
            "self-service sign-up is closed on this installation",
        ));
    }
    Ok((doc, settings))
}

pub async fn check(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Check>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(&state, move |st| {
        let (doc, _) = main_domain(st, &headers)?;
        Ok(Json(match doc.reg.validate_name(&q.name) {
            Err(t8k_core::Error::Name(e)) => json!({"name": q.name, "available": false, "rule": e.rule, "message": e.message}),
            Err(e) => return Err(e.into()),
            Ok(id) => {
                let taken = st.inst.is_taken(&id)?;
                json!({"name": id, "available": !taken, "rule": if taken { Some("taken") } else { None }, "message": if taken { "this name is taken" } else { "available" }})
            }
        }))
    })
    .await
}

/// A no-JavaScript form post from a browser: answer with a page rather than JSON.
fn form_from_browser(headers: &HeaderMap) -> bool {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    form && page::wants_html(headers)
}

/// What a sign-up led to.
enum Outcome {
    Created(Box<TenantEntry>),
    Pending {
        tenant: String,
        email: String,
        expires: i64,
        sent: Sent,
    },
}

pub async fn register(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let html = form_from_browser(&headers);
    let local = local_port(&headers);
    let form: Signup = crate::body::read_form_or_json(&headers, body).await?;
    let outcome = blocking_hash(&state, move |st| sign_up(st, &headers, form, &ip)).await;
    match outcome {
        Ok(o) => Ok(respond(o, html, local.as_deref())),
        Err(e) if html => Ok(page::error(&e)),
        Err(e) => Err(e),
    }
}

fn sign_up(st: &AppState, headers: &HeaderMap, form: Signup, ip: &str) -> ApiResult<Outcome> {
    let (_, settings) = main_domain(st, headers)?;
    let email_key = form.email.trim().to_ascii_lowercase();
    // Typos in the form do not count against the limits; attempts that get this far do,
    // counted before any work so that concurrent sign-ups cannot all pass.
    let id = st.inst.validate_name(&form.subdomain)?;
    let person = t8k_core::text::label("name", &form.name)?;
    let org = t8k_core::text::optional_label("organisation", &form.organisation)?;
    t8k_core::password::check_policy(&form.password)?;
    crate::limits::take_all(&[
        (&st.signup_by_ip, ip),
        (&st.signup_by_email, email_key.as_str()),
    ])
    .map_err(ApiError::too_many)?;
    let site_name = match &org {
        Some(org) => org.clone(),
        None => format!("{person}'s site"),
    };
    let new = NewTenant {
        id,
        site_name,
        email: form.email.clone(),
        admin_password: Some(form.password),
        editor_password: None,
        theme: None,
        organisation: org,
    };
    if !settings.require_email_verification.value {
        return Ok(Outcome::Created(Box::new(create(st, new)?)));
    }
    let ttl = st.verify_ttl.as_secs() as i64;
    let r = st.inst.reserve_tenant(new, ttl)?;
    let sent = email_link(st, headers, &settings, &r, &person, &form.email);
    match sent {
        Ok(sent) => Ok(Outcome::Pending {
            tenant: r.id.to_string(),
            email: form.email.trim().to_owned(),
            expires: r.expires,
            sent,
        }),
        Err(e) => {
            let _ = st.inst.cancel_reservation(&r);
            Err(e)
        }
    }
}

/// Creates the tenant and asks for its first build.
fn create(st: &AppState, new: NewTenant) -> ApiResult<TenantEntry> {
    let entry = st.inst.create_tenant_with(new)?;
    let id = entry.tenant_id().map_err(t8k_core::Error::from)?;
    t8k_core::queue::request_build(st.inst.store(), &id, "sign-up")?;
    Ok(entry)
}

/// The main site's address for links: the request's own host on local preview, else the
/// installation's domain (never a client-chosen host).
fn base_url(headers: &HeaderMap, settings: &Settings) -> String {
    let h = host_of(headers);
    if is_local(h) {
        format!("http://{h}")
    } else {
        format!("https://{}", settings.domain.value)
    }
}

fn email_link(
    st: &AppState,
    headers: &HeaderMap,
    settings: &Settings,
    r: &Reservation,
    person: &str,
    email: &str,
) -> ApiResult<Sent> {
    let secret = st.inst.secrets()?.signing_secret;
    let claims = Claims {
        kind: VERIFY_KIND.into(),
        tenant: r.id.to_string(),
        user: r.nonce.clone(),
        role: t8k_core::users::Role::Admin,
        exp: r.expires,
        ver: 0,
    };
    let link = format!(
        "{}/api/register/verify?token={}",
        base_url(headers, settings),
        token::sign(&secret, &claims)
    );
    let hours = link_hours(st);
    let site = format!("{}.{}", r.id, settings.domain.value);
    // The person's name is the only text here a stranger chose: it is quoted and labelled as
    // typed into the form, never used as a greeting that could read as our own words (and
    // `text::label` has already refused line breaks in it).
    let body = format!(
        "Hello,\n\nSomeone (we hope you) asked to create the site {site} with this email address.\n\
The name given on the sign-up form was: \"{person}\".\n\
To confirm and create it, open this link within {hours} hours:\n\n{link}\n\n\
If it was not you, ignore this email: the name is released when the link expires.\n"
    );
    mail::send(
        &st.inst,
        &Mail {
            to: email.trim().to_owned(),
            subject: format!("Confirm your new site {site}"),
            body,
            tag: r.id.to_string(),
        },
    )
}

fn respond(o: Outcome, html: bool, local: Option<&str>) -> Response {
    match o {
        Outcome::Created(entry) => created(&entry, html, local),
        Outcome::Pending {
            tenant,
            email,
            expires,
            sent,
        } => {
            let (status, via) = (
                StatusCode::ACCEPTED,
                match sent {
                    Sent::Smtp { .. } => "email",
                    Sent::Outbox { .. } => "outbox",
                },
            );
            if html {
                return page::page(
                    status,
                    "Check your email",
                    &format!(
                        "<p>We sent a link to <strong>{}</strong>. Open it to create <strong>{}</strong>; until then the name is reserved for you.</p>",
                        esc(&email),
                        esc(&tenant)
                    ),
                );
            }
            let expires = t8k_core::timefmt::unix_rfc3339(expires);
            (
                status,
                Json(
                    json!({"tenant": tenant, "status": "pending", "email": email, "expires": expires, "sent_via": via}),
                ),
            )
                .into_response()
        }
    }
}

/// On a local preview (`t8k serve`, a `*.localhost` host), the request's port (`":8080"`, or
/// `""` without one): the new site's links then point where that server serves it.
fn local_port(headers: &HeaderMap) -> Option<String> {
    let host = host_of(headers);
    is_local(host).then(|| {
        host.rfind(':')
            .map_or(String::new(), |i| host[i..].to_owned())
    })
}

/// Where the new site is served: `http://{id}.localhost:{port}/` on a local preview, else
/// `https://` and its domain.
fn site_url(entry: &TenantEntry, local: Option<&str>) -> String {
    match local {
        Some(port) => format!("http://{}.localhost{port}/", entry.id),
        None => format!("https://{}/", entry.domain),
    }
}

fn created(entry: &TenantEntry, html: bool, local: Option<&str>) -> Response {
    let url = site_url(entry, local);
    if html {
        return page::page(
            StatusCode::CREATED,
            "Your site is ready",
            &format!(
                "<p>Your site <strong>{}</strong> has been created and will be online at <a href=\"{url}\">{url}</a> in a few minutes. Log in to <a href=\"{url}admin/\">its admin</a> as <code>admin</code>.</p>",
                esc(&entry.id)
            ),
        );
    }
    (
        StatusCode::CREATED,
        Json(
            json!({"tenant": entry.id, "url": url, "status": "created", "login": format!("{url}admin/")}),
        ),
    )
        .into_response()
}

/// How long a verification link works, in whole hours, as configured.
fn link_hours(st: &AppState) -> u64 {
    (st.verify_ttl.as_secs() / 3600).max(1)
}

/// A verification error worded for the person holding the link, with the configured
/// lifetime.
fn link_error(st: &AppState, e: t8k_core::Error) -> ApiError {
    match e {
        t8k_core::Error::VerificationExpired(id) => ApiError::new(
            StatusCode::GONE,
            "gone",
            format!(
                "this confirmation link for '{id}' has expired (links last {} hours) and the name was released; sign up again",
                link_hours(st)
            ),
        ),
        other => other.into(),
    }
}

/// The reservation a verification token names, if its signature holds. Expiry is judged by
/// the reservation, so an expired link gets "expired", not "invalid".
fn read_token(st: &AppState, tok: &str) -> ApiResult<(t8k_core::TenantId, String)> {
    let secret = st.inst.secrets()?.signing_secret;
    let claims = token::verify(&secret, tok, i64::MIN)
        .filter(|c| c.kind == VERIFY_KIND)
        .ok_or_else(|| {
            ApiError::bad_request(
                "this confirmation link is damaged; open it again from the email, or copy the whole link",
            )
        })?;
    let id = t8k_core::TenantId::trusted(&claims.tenant).map_err(t8k_core::Error::from)?;
    if claims.exp <= t8k_core::timefmt::now().unix_timestamp() {
        return Err(link_error(
            st,
            t8k_core::Error::VerificationExpired(id.to_string()),
        ));
    }
    Ok((id, claims.user))
}

/// `GET /api/register/verify?token=`: the page behind the emailed link, with a confirm button.
pub async fn verify_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Verify>,
) -> Response {
    let html = page::wants_html(&headers);
    let checked = blocking(&state, move |st| {
        main_domain(st, &headers)?;
        read_token(st, &q.token).map(|(id, _)| (id, q.token))
    })
    .await;
    match checked {
        Ok((id, tok)) if html => page::page(
            StatusCode::OK,
            "Confirm your new site",
            &format!(
                "<p>Create <strong>{}</strong> now?</p><form method=\"post\" action=\"/api/register/verify\">\
<input type=\"hidden\" name=\"token\" value=\"{}\"><button type=\"submit\">Create my site</button></form>",
                esc(id.as_str()),
                esc(&tok)
            ),
        ),
        Ok((id, _)) => Json(json!({"tenant": id, "status": "pending", "confirm": "POST this token to /api/register/verify"})).into_response(),
        Err(e) if html => page::error(&e),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/register/verify` (`token` as JSON or form): creates the reserved tenant, once.
pub async fn verify(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let html = form_from_browser(&headers);
    let local = local_port(&headers);
    let done = async {
        let form: Verify = crate::body::read_form_or_json(&headers, body).await?;
        let h = headers.clone();
        blocking(&state, move |st| {
            main_domain(st, &h)?;
            let (id, nonce) = read_token(st, &form.token)?;
            let entry = st
                .inst
                .confirm_tenant(&id, &nonce)
                .map_err(|e| link_error(st, e))?;
            t8k_core::queue::request_build(st.inst.store(), &id, "sign-up verified")?;
            Ok(entry)
        })
        .await
    }
    .await;
    match done {
        Ok(entry) => created(&entry, html, local.as_deref()),
        Err(e) if html => page::error(&e),
        Err(e) => e.into_response(),
    }
}
