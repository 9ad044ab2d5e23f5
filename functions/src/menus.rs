//! `/api/menus` (editors and admins): list the menus, replace one whole, delete one.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use t8k_core::content::menus::{self, Menu, MenuItem};

use crate::error::{ApiError, ApiResult};
use crate::guard::Editor;
use crate::state::{Shared, blocking};

#[derive(serde::Deserialize)]
pub struct MenuBody {
    #[serde(default)]
    pub title: String,
    pub items: Vec<MenuItem>,
}

pub async fn list(State(state): State<Shared>, Editor(s): Editor) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        Ok(Json(json!(menus::list(st.inst.store(), &s.tenant)?)))
    })
    .await
}

/// `PUT /api/menus/{name}` `{title?, items: [{label, page | url, weight?}]}`.
pub async fn put(
    State(state): State<Shared>,
    Editor(s): Editor,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let b: MenuBody = crate::body::read(&headers, body).await?;
    blocking(&state, move |st| {
        let menu = Menu {
            name,
            title: b.title,
            items: b.items,
        };
        menus::put(st.inst.store(), &s.tenant, &menu)?;
        let saved = menus::list(st.inst.store(), &s.tenant)?
            .into_iter()
            .find(|m| m.name == menu.name)
            .ok_or_else(|| ApiError::internal("the menu vanished after saving"))?;
        Ok(Json(json!({"menu": saved, "queued": true})))
    })
    .await
}

pub async fn delete(
    State(state): State<Shared>,
    Editor(s): Editor,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state, move |st| {
        menus::delete(st.inst.store(), &s.tenant, &name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
