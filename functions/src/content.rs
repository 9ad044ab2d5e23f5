//! The content API (editors and admins of the `Host`'s tenant): story fragments with their
//! panes and menus. Every change bumps the content version and queues a build, which
//! `t8k build --queued && t8k publish --changed` makes live.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use t8k_core::content::Page;
use t8k_core::content::edit::{self, Mode};

use crate::error::{ApiError, ApiResult};
use crate::guard::Editor;
use crate::state::{Shared, blocking};

pub async fn list(State(state): State<Shared>, Editor(s): Editor) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        Ok(Json(json!(edit::list(st.inst.store(), &s.tenant)?)))
    })
    .await
}

/// A page, with its version as the ETag: send it back in `If-Match` with the update, and an
/// update made meanwhile by anyone else is refused (409) instead of overwritten.
pub async fn get(
    State(state): State<Shared>,
    Editor(s): Editor,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    blocking(&state, move |st| {
        let page = edit::get(st.inst.store(), &s.tenant, &slug)?
            .ok_or_else(|| ApiError::not_found(format!("no story fragment {slug:?}")))?;
        let etag = format!("\"{}\"", edit::version(&page));
        let mut r = Json(page).into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    })
    .await
}

pub async fn create(
    State(state): State<Shared>,
    Editor(s): Editor,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let page: Page = crate::body::read(&headers, body).await?;
    blocking(&state, move |st| {
        edit::save(st.inst.store(), &s.tenant, &page, Mode::Create)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"slug": page.slug, "queued": true})),
        )
            .into_response())
    })
    .await
}

pub async fn update(
    State(state): State<Shared>,
    Editor(s): Editor,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let mut page: Page = crate::body::read(&headers, body).await?;
    if page.slug.is_empty() {
        page.slug = slug.clone();
    }
    if page.slug != slug {
        return Err(ApiError::bad_request(
            "the slug in the body differs from the one in the path; rename by creating the new page and deleting the old",
        ));
    }
    let expected = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        });
    blocking(&state, move |st| {
        let store = st.inst.store();
        edit::save_expecting(store, &s.tenant, &page, Mode::Update, expected.as_deref())?;
        Ok(Json(json!({"slug": page.slug, "queued": true})))
    })
    .await
}

pub async fn delete(
    State(state): State<Shared>,
    Editor(s): Editor,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |st| {
        edit::delete(st.inst.store(), &s.tenant, &slug)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct Preview {
    /// The page's panes, as Markdown.
    pub panes: Vec<String>,
}

/// `POST /api/preview {"panes": [markdown, ...]}` → `{"html": [...]}`: the panes rendered by
/// the builder's own Markdown rules (sanitised, or raw HTML where the tenant allows it), so
/// the admin's preview is the published page's body.
pub async fn preview(
    State(state): State<Shared>,
    Editor(s): Editor,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let preview: Preview = crate::body::read(&headers, body).await?;
    // The env.json the session was just checked against: no store read per keystroke.
    let allow = t8k_builder::markdown::allows_raw_html(&s.config.cfg);
    blocking(&state, move |_| {
        let html =
            t8k_builder::markdown::render_panes(preview.panes.iter().map(String::as_str), allow);
        Ok(Json(json!({ "html": html })))
    })
    .await
}
