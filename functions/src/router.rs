//! The functions as routers: one per function (what a Lambda binary in `src/bin/` serves), and
//! all of them together (what `t8k serve` mounts under `/api/`).

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, any, get, on};

use crate::guard::Access;
use crate::state::Shared;
use crate::{
    admin, admin_ui, auth, backups, beacon, content, dashboard, domains, edge, media, menus,
    notices, operator, publish, quota, register, users,
};

/// HTTP-01 answers, on every host (served by the auth function).
pub const ACME_CHALLENGE: &str = "/.well-known/acme-challenge/{token}";

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

    /// Its binary in `src/bin/` (and its Lambda function's name).
    pub fn binary(self) -> &'static str {
        match self {
            Function::Auth => "t8k-auth",
            Function::Register => "t8k-register",
            Function::Quota => "t8k-quota",
            Function::Content => "t8k-content",
            Function::Users => "t8k-users",
            Function::Admin => "t8k-admin",
            Function::Beacon => "t8k-beacon",
        }
    }

    /// Its GET routes outside `/api` (those under it are the route table's): where an ACME CA
    /// looks (RFC 8555 §8.3), and the browser admin.
    fn extra_routes(self) -> Vec<(&'static str, MethodRouter<Shared>)> {
        match self {
            Function::Auth => std::iter::once((ACME_CHALLENGE, get(edge::challenge)))
                .chain(admin_ui::ROUTES.map(|path| (path, get(admin_ui::serve))))
                .collect(),
            _ => vec![],
        }
    }

    /// The paths of [`Function::extra_routes`].
    pub fn extra_paths(self) -> Vec<&'static str> {
        self.extra_routes()
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    /// The function's routes, at their public paths (`/api` + the table's path).
    fn routes(self) -> Router<Shared> {
        let routes = endpoints()
            .into_iter()
            .filter(|(e, _)| e.function == self)
            .fold(Router::new(), |r, (e, handler)| {
                r.route(&format!("/api{}", e.path), handler)
            });
        self.extra_routes()
            .into_iter()
            .fold(routes, |r, (path, handler)| r.route(path, handler))
    }
}

/// One route: which function serves it, and what it asks of its caller (enforced by the
/// handler's extractor, see [`crate::guard`]).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub function: Function,
    pub method: Method,
    /// Relative to `/api`; `{name}` marks a path parameter.
    pub path: &'static str,
    pub access: Access,
}

fn ep<H, T>(
    function: Function,
    method: Method,
    path: &'static str,
    access: Access,
    handler: H,
) -> (Endpoint, MethodRouter<Shared>)
where
    H: Handler<T, Shared>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("the table uses standard methods");
    let e = Endpoint {
        function,
        method,
        path,
        access,
    };
    (e, on(filter, handler))
}

/// Every route of every function, in one table (a line a route, so it reads as a table): the routers are built from it, and the test
/// that walks every route reads it, so a new route cannot escape that test.
#[rustfmt::skip]
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<Shared>)> {
    use Access::*;
    use Function as F;
    use Method as M;
    vec![
        ep(F::Auth, M::POST, "/auth/login", Public, auth::login),
        ep(F::Auth, M::POST, "/auth/logout", SignedIn, auth::logout),
        ep(F::Auth, M::GET, "/auth/me", SignedIn, auth::me),
        ep(F::Auth, M::POST, "/auth/password", SignedIn, auth::change_password),
        ep(F::Register, M::POST, "/register", Public, register::register),
        ep(F::Register, M::GET, "/register/check", Public, register::check),
        ep(F::Register, M::GET, "/register/verify", Public, register::verify_page),
        ep(F::Register, M::POST, "/register/verify", Public, register::verify),
        ep(F::Quota, M::GET, "/quota", SignedIn, quota::quota),
        ep(F::Content, M::GET, "/pages", Editor, content::list),
        ep(F::Content, M::POST, "/pages", Editor, content::create),
        ep(F::Content, M::GET, "/pages/{*slug}", Editor, content::get),
        ep(F::Content, M::PUT, "/pages/{*slug}", Editor, content::update),
        ep(F::Content, M::DELETE, "/pages/{*slug}", Editor, content::delete),
        ep(F::Content, M::POST, "/preview", Editor, content::preview),
        ep(F::Content, M::POST, "/publish", Editor, publish::publish),
        ep(F::Content, M::GET, "/status", Editor, publish::status),
        ep(F::Content, M::GET, "/menus", Editor, menus::list),
        ep(F::Content, M::PUT, "/menus/{name}", Editor, menus::put),
        ep(F::Content, M::DELETE, "/menus/{name}", Editor, menus::delete),
        ep(F::Content, M::GET, "/media", Editor, media::list),
        ep(F::Content, M::POST, "/media", Editor, media::upload),
        ep(F::Content, M::GET, "/media/{id}/file", Editor, media::file),
        ep(F::Content, M::DELETE, "/media/{id}", Editor, media::delete),
        ep(F::Content, M::GET, "/analytics", Editor, dashboard::json),
        ep(F::Content, M::GET, "/analytics/dashboard", Editor, dashboard::dashboard),
        ep(F::Users, M::GET, "/users", Admin, users::list),
        ep(F::Users, M::POST, "/users", Admin, users::create),
        ep(F::Users, M::PATCH, "/users/{username}", Admin, users::update),
        ep(F::Users, M::GET, "/backups", Admin, backups::list),
        ep(F::Users, M::POST, "/backups", Admin, backups::request),
        ep(F::Users, M::GET, "/domains", Admin, domains::list),
        ep(F::Users, M::POST, "/domains", Admin, domains::add),
        ep(F::Users, M::POST, "/domains/{host}/verify", Admin, domains::verify),
        ep(F::Users, M::DELETE, "/domains/{host}", Admin, domains::remove),
        ep(F::Users, M::GET, "/notices", Admin, notices::list),
        ep(F::Beacon, M::POST, "/beacon", Public, beacon::beacon),
        ep(F::Auth, M::GET, "/edge/ask", Public, edge::ask),
        ep(F::Admin, M::POST, "/admin/login", Public, operator::login),
        ep(F::Admin, M::POST, "/admin/logout", InstallationAdmin, operator::logout),
        ep(F::Admin, M::GET, "/admin/me", InstallationAdmin, operator::me),
        ep(F::Admin, M::GET, "/admin/report", InstallationAdmin, admin::report),
        ep(F::Admin, M::GET, "/admin/signups", InstallationAdmin, admin::signups),
        ep(F::Admin, M::GET, "/admin/tenants", InstallationAdmin, admin::list),
        ep(F::Admin, M::GET, "/admin/tenants/{id}", InstallationAdmin, admin::show),
        ep(F::Admin, M::POST, "/admin/tenants/{id}/activate", InstallationAdmin, admin::activate),
        ep(F::Admin, M::POST, "/admin/tenants/{id}/deactivate", InstallationAdmin, admin::deactivate),
        ep(F::Admin, M::PUT, "/admin/tenants/{id}/quota", InstallationAdmin, admin::set_quota),
        ep(F::Admin, M::PUT, "/admin/notices", InstallationAdmin, notices::put),
    ]
}

/// Every function's router ends the same way: a JSON 404 for unknown paths under `/api`, and
/// the request checks (one host, same-origin writes), with the request id and span, in front
/// of every handler ([`crate::trace::Trace`]). The routes carry their full paths, so a router
/// merged into `t8k serve`'s is matched once, with no prefix stripped from the URI (axum's
/// `nest` rewrites it on every request).
fn finish(routes: Router<Shared>, state: Shared) -> Router {
    let unknown = || async {
        crate::error::ApiError::not_found("no such function; see the README for the API")
    };
    ["/api", "/api/", "/api/{*rest}"]
        .into_iter()
        .fold(routes, |r, path| r.route(path, any(unknown)))
        .layer(crate::trace::Trace)
        .with_state(state)
}

/// Every function at its public paths (`/api/...`), to be merged into a router that serves
/// everything else ([`app`] serves nothing else).
pub fn api(state: Shared) -> Router {
    let all = Function::ALL
        .into_iter()
        .fold(Router::new(), |r, f| r.merge(f.routes()));
    finish(all, state)
}

/// The functions alone, as the tests and a single process serve them.
pub fn app(state: Shared) -> Router {
    api(state)
}

/// One function at its public paths, as its Lambda binary serves it.
pub fn function_app(f: Function, state: Shared) -> Router {
    finish(f.routes(), state)
}
