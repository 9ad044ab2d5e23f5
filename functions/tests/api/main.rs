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
use tower::ServiceExt;

mod access;
mod operator;
mod tenant_site;

const PASSWORD: &str = "correct horse battery";
const ACME: &str = "acme.example.com";
const OTHER: &str = "other.example.com";
const MAIN: &str = "example.com";

/// An installation with two tenants (`acme`, `other`), each with an admin and an editor.
struct Api {
    dir: tempfile::TempDir,
    app: Router,
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
        let inst = installation(dir.path());
        inst.init(&InitOptions {
            domain: MAIN.into(),
            multi: true,
            max_tenants: Some(10),
            public_enable_multi_tenant: Some(true),
            require_email_verification: false,
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
        let state = t8k_functions::AppState::new(inst).unwrap();
        let app = t8k_functions::app(std::sync::Arc::new(state));
        Api { dir, app }
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
        let mut req = req.body(body).unwrap();
        let peer: SocketAddr = "127.0.0.7:4000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let r = self.app.clone().oneshot(req).await.unwrap();
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

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
    /// A cookie sent with this `Origin` (or none) instead of the host's own.
    CookieFrom(&'a str, Option<&'a str>),
}
