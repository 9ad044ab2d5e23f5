//! One router for every function; `t8k serve` mounts it under `/api/`, and each Lambda binary
//! runs it too.

use axum::Router;
use axum::routing::{get, post};

use crate::state::Shared;
use crate::{admin, auth, content, quota, register, users};

/// The functions, to be nested at `/api`.
pub fn api(state: Shared) -> Router {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/quota", get(quota::quota))
        .route("/pages", get(content::list).post(content::create))
        .route(
            "/pages/{slug}",
            get(content::get)
                .put(content::update)
                .delete(content::delete),
        )
        .route("/users", get(users::list).post(users::create))
        .route("/users/{username}", axum::routing::patch(users::update))
        .route("/register", post(register::register))
        .route("/register/check", get(register::check))
        .route(
            "/register/verify",
            get(register::verify_page).post(register::verify),
        )
        .route("/admin/tenants", get(admin::list))
        .route("/admin/tenants/{id}", get(admin::show))
        .route("/admin/tenants/{id}/activate", post(admin::activate))
        .route("/admin/tenants/{id}/deactivate", post(admin::deactivate))
        .route(
            "/admin/tenants/{id}/quota",
            axum::routing::put(admin::set_quota),
        )
        .fallback(|| async {
            crate::error::ApiError::not_found("no such function; see the README for the API")
        })
        .with_state(state)
}

/// The functions at their public paths (`/api/...`), as a Lambda binary serves them.
pub fn app(state: Shared) -> Router {
    Router::new().nest("/api", api(state))
}
