//! The functions as routers: one per function (what a Lambda binary in `src/bin/` serves), and
//! all of them together (what `t8k serve` mounts under `/api/`).

use axum::Router;
use axum::routing::{get, patch, post, put};

use crate::state::Shared;
use crate::{admin, auth, beacon, content, dashboard, media, menus, quota, register, users};

/// Each function, deployable on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Auth,
    Register,
    Quota,
    Content,
    Users,
    Admin,
    Beacon,
}

impl Function {
    pub const ALL: [Function; 7] = [
        Function::Auth,
        Function::Register,
        Function::Quota,
        Function::Content,
        Function::Users,
        Function::Admin,
        Function::Beacon,
    ];

    /// The function's routes, relative to `/api`.
    fn routes(self) -> Router<Shared> {
        let r = Router::new();
        match self {
            Function::Auth => r
                .route("/auth/login", post(auth::login))
                .route("/auth/logout", post(auth::logout))
                .route("/auth/me", get(auth::me)),
            Function::Register => r
                .route("/register", post(register::register))
                .route("/register/check", get(register::check))
                .route(
                    "/register/verify",
                    get(register::verify_page).post(register::verify),
                ),
            Function::Quota => r.route("/quota", get(quota::quota)),
            Function::Content => r
                .route("/pages", get(content::list).post(content::create))
                .route(
                    "/pages/{slug}",
                    get(content::get)
                        .put(content::update)
                        .delete(content::delete),
                )
                .route("/menus", get(menus::list))
                .route("/menus/{name}", put(menus::put).delete(menus::delete))
                .route("/media", get(media::list).post(media::upload))
                .route("/media/{id}", axum::routing::delete(media::delete))
                .route("/analytics", get(dashboard::json))
                .route("/analytics/dashboard", get(dashboard::dashboard)),
            Function::Users => r
                .route("/users", get(users::list).post(users::create))
                .route("/users/{username}", patch(users::update)),
            Function::Beacon => r.route("/beacon", post(beacon::beacon)),
            Function::Admin => r
                .route("/admin/tenants", get(admin::list))
                .route("/admin/tenants/{id}", get(admin::show))
                .route("/admin/tenants/{id}/activate", post(admin::activate))
                .route("/admin/tenants/{id}/deactivate", post(admin::deactivate))
                .route("/admin/tenants/{id}/quota", put(admin::set_quota)),
        }
    }
}

/// Every function's router ends the same way: a JSON 404 for unknown paths, and the request
/// checks (one host, same-origin writes) in front of every handler.
fn finish(routes: Router<Shared>, state: Shared) -> Router {
    routes
        .fallback(|| async {
            crate::error::ApiError::not_found("no such function; see the README for the API")
        })
        .layer(axum::middleware::from_fn(crate::host::checks))
        .with_state(state)
}

/// Every function, to be nested at `/api`.
pub fn api(state: Shared) -> Router {
    let all = Function::ALL
        .into_iter()
        .fold(Router::new(), |r, f| r.merge(f.routes()));
    finish(all, state)
}

/// The functions at their public paths (`/api/...`).
pub fn app(state: Shared) -> Router {
    Router::new().nest("/api", api(state))
}

/// One function at its public paths, as its Lambda binary serves it.
pub fn function_app(f: Function, state: Shared) -> Router {
    Router::new().nest("/api", finish(f.routes(), state))
}
