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
use t8k_functions::guard::Access;
use t8k_functions::router::endpoints;
use tower::ServiceExt;

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
    let store = t8k_core::store::open(
        dir.to_str().unwrap(),
        &t8k_core::settings::Env::default(),
        false,
    )
    .unwrap();
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
        if !method.is_safe() {
            req = req.header(header::ORIGIN, format!("https://{host}"));
        }
        req = match auth {
            Auth::None => req,
            Auth::Cookie(c) => req.header(header::COOKIE, c),
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
}

/// A sample value for each `{param}` of a route.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "acme" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn refused(s: StatusCode) -> bool {
    s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN
}

#[tokio::test]
async fn every_route_refuses_callers_without_the_right_session() {
    let api = Api::new();
    let acme_editor = api.login(ACME, "editor").await;
    let acme_admin = api.login(ACME, "admin").await;
    let other_admin = api.login(OTHER, "admin").await;
    let acme_token = acme_admin.split_once('=').unwrap().1.to_owned();
    let mut table: Vec<_> = endpoints().into_iter().map(|(e, _)| e).collect();
    // Logging out ends the editor's sessions, so it is walked last.
    table.sort_by_key(|e| e.path == "/auth/logout");
    let public = [
        (Method::POST, "/auth/login"),
        (Method::POST, "/register"),
        (Method::GET, "/register/check"),
        (Method::GET, "/register/verify"),
        (Method::POST, "/register/verify"),
        (Method::POST, "/beacon"),
        (Method::GET, "/edge/ask"),
    ];
    assert!(table.len() >= 30, "the table lists every route");
    for e in &table {
        let path = concrete(e.path);
        let route = format!("{} /api{path}", e.method);
        let listed_public = public.contains(&(e.method.clone(), e.path));
        assert_eq!(
            e.access == Access::Public,
            listed_public,
            "{route}: only the routes listed here may be public"
        );
        let host = if e.access == Access::InstallationAdmin {
            MAIN
        } else {
            ACME
        };
        let call = |auth| api.call(e.method.clone(), host, &path, auth, None);
        let anonymous = call(Auth::None).await;
        if listed_public {
            assert!(
                !refused(anonymous.status),
                "{route} is public: {}",
                anonymous.json
            );
            continue;
        }
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{route} without a session"
        );
        let foreign = call(Auth::Cookie(&other_admin)).await;
        assert!(
            refused(foreign.status),
            "{route} with another tenant's session: {}",
            foreign.status
        );
        let as_editor = call(Auth::Cookie(&acme_editor)).await;
        match e.access {
            Access::Admin => {
                assert_eq!(as_editor.status, StatusCode::FORBIDDEN, "{route} as editor")
            }
            Access::InstallationAdmin => {
                assert!(refused(as_editor.status), "{route} with a tenant session");
                let bearer = call(Auth::Bearer(&acme_token)).await;
                assert!(
                    refused(bearer.status),
                    "{route} with a tenant admin's token as key"
                );
            }
            _ => assert!(
                !refused(as_editor.status),
                "{route}: an editor passes the guard, got {} {}",
                as_editor.status,
                as_editor.json
            ),
        }
    }
}

#[tokio::test]
async fn a_session_works_at_its_own_site_until_logout() {
    let api = Api::new();
    let cookie = api.login(ACME, "admin").await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        (me.json["tenant"].as_str(), me.json["role"].as_str()),
        (Some("acme"), Some("admin"))
    );
    let wrong = api
        .send(
            Method::POST,
            ACME,
            "/auth/login",
            Auth::None,
            json!({"username": "admin", "password": "wrong"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let out = api
        .call(
            Method::POST,
            ACME,
            "/auth/logout",
            Auth::Cookie(&cookie),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "logout ends the session"
    );
}

#[tokio::test]
async fn content_menus_and_quota_follow_each_edit() {
    let api = Api::new();
    let editor = api.login(ACME, "editor").await;
    let quota = |c: &str| {
        let c = c.to_owned();
        let api = &api;
        async move { api.get(ACME, "/quota", Auth::Cookie(&c)).await.json }
    };
    let before = quota(&editor).await["pages"]["used"].as_u64().unwrap();
    let page = json!({"slug": "about", "title": "About us", "panes": [{"markdown": "Hello"}]});
    let made = api
        .send(Method::POST, ACME, "/pages", Auth::Cookie(&editor), page)
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(
        quota(&editor).await["pages"]["used"].as_u64().unwrap(),
        before + 1
    );
    let got = api.get(ACME, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(got.json["title"], "About us");
    let elsewhere = api.get(OTHER, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "acme's session at other's host"
    );
    let renamed = api
        .send(
            Method::PUT,
            ACME,
            "/pages/about",
            Auth::Cookie(&editor),
            json!({"slug": "team", "title": "x"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    let menu = json!({"items": [{"label": "About", "page": "about"}]});
    let put = api
        .send(
            Method::PUT,
            ACME,
            "/menus/main",
            Auth::Cookie(&editor),
            menu,
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.json);
    let sly = json!({"items": [{"label": "x", "url": "\\\\evil.test/"}]});
    let bad = api
        .send(Method::PUT, ACME, "/menus/main", Auth::Cookie(&editor), sly)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);
    let gone = api
        .call(
            Method::DELETE,
            ACME,
            "/pages/about",
            Auth::Cookie(&editor),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let missing = api.get(ACME, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        quota(&editor).await["pages"]["used"].as_u64().unwrap(),
        before
    );
}

#[tokio::test]
async fn users_are_managed_by_admins_within_max_users() {
    let api = Api::new();
    let admin = api.login(ACME, "admin").await;
    let owner = json!({"username": "ann", "password": PASSWORD, "role": "owner"});
    let bad = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), owner)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json.to_string().contains("editor"),
        "names the roles: {}",
        bad.json
    );
    let (_, id) = api.inst().entry("acme").unwrap();
    let limit = api.inst().usage("acme").unwrap().users + 1;
    api.inst()
        .set_quota(id.as_str(), None, None, Some(limit), false)
        .unwrap();
    let ann = json!({"username": "ann", "password": PASSWORD, "role": "editor"});
    let made = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), ann)
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let bob = json!({"username": "bob", "password": PASSWORD});
    let full = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), bob)
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.json);
    assert!(full.json.to_string().contains("MAX_USERS"));
    let ann_cookie = api.login(ACME, "ann").await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&ann_cookie)).await;
    assert_eq!(me.json["role"], "editor");
}

#[tokio::test]
async fn tenant_admins_add_and_remove_custom_domains_one_tenant_each() {
    let api = Api::new();
    let admin = api.login(ACME, "admin").await;
    let shop = json!({"host": "Shop.Acme.test"});
    let added = api
        .send(Method::POST, ACME, "/domains", Auth::Cookie(&admin), shop)
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
    let d = &added.json["domains"][0];
    assert_eq!(d["host"], "shop.acme.test");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["records"]["txt_name"], "_t8k-verify.shop.acme.test");
    assert!(
        d["records"]["txt_value"]
            .as_str()
            .unwrap()
            .starts_with("t8k-")
    );
    assert_eq!(
        added.json["custom_domains"],
        json!([]),
        "pending domains do not route"
    );

    // The other tenant cannot have it; bad hosts are refused with the reason.
    let rival = api.login(OTHER, "admin").await;
    let taken = json!({"host": "shop.acme.test"});
    let taken = api
        .send(Method::POST, OTHER, "/domains", Auth::Cookie(&rival), taken)
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
    assert!(
        taken.json.to_string().contains("tenant 'acme'"),
        "{}",
        taken.json
    );
    for bad in ["10.1.2.3", "x.example.com", "*.acme.test"] {
        let r = api
            .send(
                Method::POST,
                OTHER,
                "/domains",
                Auth::Cookie(&rival),
                json!({"host": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.json);
    }

    // Caddy's on-demand TLS asks before each certificate: only hosts that route say yes.
    let ask = |host: &str| format!("/edge/ask?domain={host}");
    for (host, want) in [
        ("acme.example.com", StatusCode::OK),
        ("example.com", StatusCode::OK),
        ("shop.acme.test", StatusCode::NOT_FOUND),
        ("unknown.test", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            api.get(MAIN, &ask(host), Auth::None).await.status,
            want,
            "{host}"
        );
    }
    api.inst()
        .add_domain("acme", "www.acme.test", true)
        .unwrap();
    assert_eq!(
        api.get(MAIN, &ask("www.acme.test"), Auth::None)
            .await
            .status,
        StatusCode::OK
    );
    api.inst().set_active("acme", false).unwrap();
    let inactive = api
        .get(MAIN, &ask("www.acme.test"), Auth::None)
        .await
        .status;
    assert_eq!(inactive, StatusCode::NOT_FOUND);
    api.inst().set_active("acme", true).unwrap();
    assert_eq!(
        api.get(MAIN, "/edge/ask", Auth::None).await.status,
        StatusCode::BAD_REQUEST
    );

    let listed = api.get(ACME, "/domains", Auth::Cookie(&admin)).await;
    assert_eq!(listed.json["domains"].as_array().unwrap().len(), 2);
    let gone = api
        .send(
            Method::DELETE,
            ACME,
            "/domains/shop.acme.test",
            Auth::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.json);
    let left: Vec<&Value> = gone.json["domains"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "only www.acme.test is left: {}", gone.json);
    let freed = api
        .send(
            Method::POST,
            OTHER,
            "/domains",
            Auth::Cookie(&rival),
            json!({"host": "shop.acme.test"}),
        )
        .await;
    assert_eq!(
        freed.status,
        StatusCode::CREATED,
        "free for others at once: {}",
        freed.json
    );
}

#[tokio::test]
async fn the_operator_pages_through_tenants_in_id_order() {
    let api = Api::new();
    let key = api.inst().rotate_admin_key().unwrap();
    api.inst()
        .create_tenant("bakery", |id| NewTenant {
            id,
            site_name: "Bakery".into(),
            email: "owner@bakery.test".into(),
            admin_password: None,
            editor_password: None,
            theme: None,
            organisation: None,
        })
        .unwrap();
    let (mut seen, mut after) = (vec![], String::new());
    loop {
        let path = format!("/admin/tenants?limit=1{after}");
        let page = api.get(MAIN, &path, Auth::Bearer(&key)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        assert_eq!(page.json["count"], 1, "{}", page.json);
        seen.push(page.json["tenants"][0]["id"].as_str().unwrap().to_owned());
        match page.json["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["acme", "bakery", "other"],
        "each tenant once, in id order"
    );
    let all = api.get(MAIN, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(all.json["count"], 3);
    assert!(all.json["next"].is_null(), "one page holds them all");
    for bad in ["limit=0", "limit=1001", "limit=many"] {
        let refused = api
            .get(MAIN, &format!("/admin/tenants?{bad}"), Auth::Bearer(&key))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        let message = refused.json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("1 to 1000") || message.contains("?limit=N"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn the_operator_key_opens_the_admin_api_on_the_main_domain_only() {
    let api = Api::new();
    let key = api.inst().rotate_admin_key().unwrap();
    let list = api.get(MAIN, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json["count"], 2);
    let at_tenant = api.get(ACME, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(
        at_tenant.status,
        StatusCode::NOT_FOUND,
        "only on the main domain"
    );
    let cookie = api.login(ACME, "admin").await;
    let off = api
        .call(
            Method::POST,
            MAIN,
            "/admin/tenants/acme/deactivate",
            Auth::Bearer(&key),
            None,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.json);
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(
        me.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a deactivated site answers nothing"
    );
    api.call(
        Method::POST,
        MAIN,
        "/admin/tenants/acme/activate",
        Auth::Bearer(&key),
        None,
    )
    .await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn beacons_for_another_site_or_in_bad_shape_store_nothing() {
    let api = Api::new();
    let events = || {
        api.inst()
            .store()
            .list(&t8k_core::key::layout::events_dir(
                &t8k_core::TenantId::trusted("acme").unwrap(),
            ))
            .unwrap()
            .len()
    };
    let send = |body: Value| api.send(Method::POST, ACME, "/beacon", Auth::None, body);
    let foreign = send(json!({"event": "PAGEVIEWED", "url": "https://other.example.com/"})).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.json);
    let unknown =
        send(json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/", "x": 1})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(events(), 0, "nothing stored");
    let ok = send(json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/"})).await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.json);
    assert_eq!(events(), 1);
}

#[tokio::test]
async fn an_internal_error_shows_the_client_a_request_id_and_nothing_inside() {
    let api = Api::new();
    let env_json = api.dir.path().join("config/acme/env.json");
    std::fs::write(&env_json, "{ not json").unwrap();
    let body = json!({"username": "admin", "password": PASSWORD});
    let a = api
        .send(Method::POST, ACME, "/auth/login", Auth::None, body)
        .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", a.json);
    let id = a.headers["x-request-id"].to_str().unwrap();
    assert_eq!(
        a.json["error"]["request_id"], id,
        "the body quotes the id of the request"
    );
    let text = a.json.to_string();
    for inside in [
        "env.json",
        "config/",
        api.dir.path().to_str().unwrap(),
        "expected",
    ] {
        assert!(!text.contains(inside), "{inside:?} leaked: {text}");
    }
}
