//! `/api/users` (admins of the `Host`'s tenant): list accounts, add one (bounded by
//! MAX_USERS), reset a password, disable or enable a named account. Editors get 403.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use t8k_core::users::{self, Role};

use crate::error::{ApiError, ApiResult};
use crate::guard::Admin;
use crate::state::{Shared, blocking, blocking_hash};

#[derive(Deserialize)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: Option<Role>,
    pub password: String,
}

#[derive(Deserialize)]
pub struct Change {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

pub async fn list(State(state): State<Shared>, Admin(s): Admin) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        Ok(Json(json!(users::list(st.inst.store(), &s.tenant)?)))
    })
    .await
}

pub async fn create(
    State(state): State<Shared>,
    Admin(s): Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let new: NewUser = crate::body::read(&headers, body).await?;
    blocking_hash(&state, move |st| {
        let role = new.role.unwrap_or(Role::Editor);
        users::add(
            st.inst.store(),
            &s.tenant,
            &new.username,
            role,
            &new.email,
            &new.password,
        )?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"username": new.username.trim().to_ascii_lowercase(), "role": role})),
        )
            .into_response())
    })
    .await
}

pub async fn update(
    State(state): State<Shared>,
    Admin(s): Admin,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let change: Change = crate::body::read(&headers, body).await?;
    blocking_hash(&state, move |st| {
        if change.password.is_none() && change.disabled.is_none() {
            return Err(ApiError::bad_request("give `password` and/or `disabled`"));
        }
        if let Some(pw) = &change.password {
            users::set_password(st.inst.store(), &s.tenant, &username, pw)?;
            users::revoke_sessions(st.inst.store(), &s.tenant, &username)?;
        }
        if let Some(d) = change.disabled {
            users::set_disabled(st.inst.store(), &s.tenant, &username, d)?;
        }
        Ok(Json(json!({"username": username, "updated": true})))
    })
    .await
}
