//! The functions in-process: requests go through the same router `t8k serve` and the Lambda
//! binaries use (`tower::ServiceExt::oneshot`), on a temporary local data root — no server,
//! no port, no outside program.
//!
//! The access test walks every route of the route table (`router::endpoints`), so a route
//! added later is checked without editing it.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use t8k_core::lifecycle::{InitOptions, Installation, NewTenant};
use t8k_core::settings::Env;
use t8k_functions::router::{Function, endpoints};
use tower::ServiceExt;

mod access;
mod operator;
mod policy;
mod recorder;
mod tenant_site;

const PASSWORD: &str = "correct horse battery";
const ACME: &str = "acme.example.com";
const OTHER: &str = "other.example.com";
const MAIN: &str = "example.com";

/// An installation with two tenants (`acme`, `other`), each with an admin and an editor.
struct Api {
    dir: tempfile::TempDir,
    app: Router,
    /// With [`Api::recorded`]: each function's own router, over a store of its own.
    functions: Vec<(Function, Router)>,
}

fn installation(dir: &std::path::Path) -> Installation {
    let store = Box::new(t8k_core::store::local::LocalStore::new(dir));
    Installation::new(store, Env::default())
}

/// One answer: status, headers and the body as JSON (`null` when it is not JSON).
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    json: Value,
}

impl Api {
    fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let state = t8k_functions::AppState::new(Api::init(dir.path(), false)).unwrap();
        let app = t8k_functions::app(std::sync::Arc::new(state));
        Api {
            dir,
            app,
            functions: vec![],
        }
    }

    /// As [`Api::new`], but each function runs on its own, as its Lambda does: its own state
    /// over a [`recorder::Recorder`] that writes down each S3 request it makes in `logs`.
    fn recorded() -> (Api, Vec<(Function, recorder::Log)>) {
        let dir = tempfile::tempdir().unwrap();
        Api::init(dir.path(), true);
        let (mut functions, mut logs) = (vec![], vec![]);
        for f in Function::ALL {
            let log = recorder::Log::default();
            let store = Box::new(recorder::Recorder::new(dir.path(), log.clone()));
            let state = t8k_functions::AppState::new(Installation::new(store, Env::default()));
            let state = std::sync::Arc::new(state.unwrap());
            functions.push((f, t8k_functions::router::function_app(f, state)));
            logs.push((f, log));
        }
        let app = functions[0].1.clone();
        (
            Api {
                dir,
                app,
                functions,
            },
            logs,
        )
    }

    /// The router that serves `method path`: the function the route table names.
    fn router(&self, method: &Method, path: &str) -> Router {
        let path = path.split('?').next().unwrap_or(path);
        let owner = endpoints()
            .into_iter()
            .map(|(e, _)| e)
            .find(|e| e.method == method && route_matches(e.path, path));
        match owner {
            Some(e) if !self.functions.is_empty() => {
                let (_, app) = self
                    .functions
                    .iter()
                    .find(|(f, _)| *f == e.function)
                    .unwrap();
                app.clone()
            }
            _ => self.app.clone(),
        }
    }

    /// Two tenants; sign-ups confirm their address first when `verify`.
    fn init(dir: &std::path::Path, verify: bool) -> Installation {
        let inst = installation(dir);
        inst.init(&InitOptions {
            domain: MAIN.into(),
            multi: true,
            max_tenants: Some(10),
            public_enable_multi_tenant: Some(true),
            require_email_verification: verify,
            auto_ssl: false,
            enable_custom_domains: true,
        })
        .unwrap();
        for name in ["acme", "other"] {
            inst.create_tenant(name, |id| NewTenant {
                id,
                site_name: name.into(),
                email: format!("owner@{name}.test"),
                admin_password: Some(PASSWORD.into()),
                editor_password: Some(PASSWORD.into()),
                theme: None,
                organisation: None,
            })
            .unwrap();
        }
        inst
    }

    fn inst(&self) -> Installation {
        installation(self.dir.path())
    }

    /// Sends one request as a browser on `host`'s own pages would (writes carry `Origin`).
    async fn call(
        &self,
        method: Method,
        host: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("/api{path}"))
            .header(header::HOST, host)
            .header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
            );
        if !method.is_safe() && !matches!(auth, Auth::CookieFrom(..)) {
            req = req.header(header::ORIGIN, format!("https://{host}"));
        }
        req = match auth {
            Auth::None => req,
            Auth::Cookie(c) | Auth::CookieFrom(c, None) => req.header(header::COOKIE, c),
            Auth::CookieFrom(c, Some(origin)) => {
                req.header(header::COOKIE, c).header(header::ORIGIN, origin)
            }
            Auth::Bearer(k) => req.header(header::AUTHORIZATION, format!("Bearer {k}")),
        };
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.answer(&method, path, req.body(body).unwrap()).await
    }

    async fn get(&self, host: &str, path: &str, auth: Auth<'_>) -> Answer {
        self.call(Method::GET, host, path, auth, None).await
    }

    async fn send(
        &self,
        method: Method,
        host: &str,
        path: &str,
        auth: Auth<'_>,
        body: Value,
    ) -> Answer {
        self.call(method, host, path, auth, Some(body)).await
    }

    /// Uploads `png` to the media library of `host` as an editor with `cookie` would.
    async fn upload(&self, host: &str, cookie: &str, png: &[u8]) -> Answer {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/media?alt=A%20dot")
            .header(header::HOST, host)
            .header(header::ORIGIN, format!("https://{host}"))
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "image/png")
            .body(Body::from(png.to_vec()))
            .unwrap();
        self.answer(&Method::POST, "/media", req).await
    }

    async fn answer(&self, method: &Method, path: &str, mut req: Request<Body>) -> Answer {
        let peer: SocketAddr = "127.0.0.7:4000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let r = self.router(method, path).oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    /// Logs `user` in at `host`; returns the `Cookie` header value of the session.
    async fn login(&self, host: &str, user: &str) -> String {
        let a = self
            .send(
                Method::POST,
                host,
                "/auth/login",
                Auth::None,
                json!({"username": user, "password": PASSWORD}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "login {user}@{host}: {}", a.json);
        let set = a.headers[header::SET_COOKIE].to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }
}

/// True when a route table path (`/pages/{*slug}`) matches a concrete one.
fn route_matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut c) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), c.next()) {
            (None, None) => return true,
            (Some(seg), Some(_)) if seg.starts_with("{*") => return true,
            (Some(seg), Some(got)) if seg == got || seg.starts_with('{') => {}
            _ => return false,
        }
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
    /// A cookie sent with this `Origin` (or none) instead of the host's own.
    CookieFrom(&'a str, Option<&'a str>),
}
