//! The Lambda binaries under the Lambda runtime API. The runtime API is AWS's, so this test
//! implements it (the documented `invocation/next`, `/response` and `/error` endpoints) on a
//! loopback port — a stand-in for the service that cannot run here — and feeds each binary
//! API Gateway v2 / Function URL events. The same requests also go over plain HTTP to the
//! router `t8k serve` mounts, and the answers must match.

mod runtime_api;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use runtime_api::{RuntimeApi, installation};
use serde_json::{Value, json};
use t8k_core::lifecycle::NewTenant;

const PASSWORD: &str = "correct horse battery";

/// An API Gateway HTTP API (payload 2.0) / Function URL event.
fn event(
    method: &str,
    host: &str,
    path: &str,
    ip: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
) -> Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut headers = json!({"host": host, "user-agent": "t8k-test"});
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookie.map(|c| vec![c]).unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000", "apiId": "t8k", "domainName": host, "domainPrefix": "t8k",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "t8k-test"},
            "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "28/Nov/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// Status, body and cookies of a Lambda response.
fn lambda_answer((kind, v): (String, Value)) -> (u16, Value, Vec<String>) {
    assert_eq!(kind, "response", "the function failed: {v}");
    let body = v["body"].as_str().unwrap_or("");
    let parsed = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
    let cookies = v["cookies"]
        .as_array()
        .map(|a| a.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (v["statusCode"].as_u64().unwrap() as u16, parsed, cookies)
}

/// The same request over plain HTTP to the router `t8k serve` mounts.
fn over_http(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value, Vec<String>) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, text) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let cookies = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .map(str::to_owned)
        .collect();
    (
        status,
        serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())),
        cookies,
    )
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let inst = runtime_api::platform(dir.path());
    inst.create_tenant("acme", |id| NewTenant {
        id,
        site_name: "Acme".into(),
        email: "a@acme.test".into(),
        admin_password: Some(PASSWORD.into()),
        editor_password: None,
        theme: None,
        organisation: None,
    })
    .unwrap();
    dir
}

/// The router over plain HTTP, in this process.
fn http_server(dir: &std::path::Path, rt: &tokio::runtime::Runtime) -> u16 {
    let state = Arc::new(t8k_functions::AppState::new(installation(dir)).unwrap());
    let app = t8k_functions::app(state);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    port
}

#[test]
fn sign_up_binary_answers_like_the_http_router() {
    let dir = setup();
    let mut lambda = RuntimeApi::start();
    lambda.exec(env!("CARGO_BIN_EXE_t8k-register"), dir.path(), &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = http_server(dir.path(), &rt);
    let form = |name: &str| json!({"subdomain": name, "name": "Ada", "email": format!("{name}@example.org"), "password": PASSWORD});

    let (status, body, _) = lambda_answer(lambda.invoke(event(
        "POST",
        "example.com",
        "/api/register",
        "198.51.100.7",
        None,
        Some(&form("by-lambda")),
    )));
    let (h_status, h_body, _) = over_http(
        port,
        "POST",
        "example.com",
        "/api/register",
        None,
        Some(&form("by-http")),
    );
    assert_eq!((status, h_status), (201, 201), "{body} / {h_body}");
    assert_eq!(body["tenant"], "by-lambda");
    assert_eq!(body["url"], "https://by-lambda.example.com/");
    assert_eq!(h_body["url"], "https://by-http.example.com/");
    let ids: Vec<_> = installation(dir.path())
        .list()
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["acme", "by-http", "by-lambda"], "in id order");

    // Refusals are the same, word for word.
    for (path, b) in [
        ("/api/register", Some(form("by-http"))),
        ("/api/register", Some(json!({"subdomain": "x"}))),
        ("/api/register/check?name=www", None),
        ("/api/register/check?name=fresh", None),
        ("/api/nothing-here", None),
    ] {
        let method = if b.is_some() { "POST" } else { "GET" };
        let l = lambda_answer(lambda.invoke(event(
            method,
            "example.com",
            path,
            "198.51.100.7",
            None,
            b.as_ref(),
        )));
        let h = over_http(port, method, "example.com", path, None, b.as_ref());
        assert_eq!((l.0, &l.1), (h.0, &h.1), "{method} {path}");
    }
    // Sign-up is not answered on a tenant's host, on Lambda either.
    let l = lambda_answer(lambda.invoke(event(
        "POST",
        "acme.example.com",
        "/api/register",
        "198.51.100.7",
        None,
        Some(&form("sneaky")),
    )));
    assert_eq!(l.0, 404);
}

#[test]
fn login_binary_issues_sessions_bound_to_the_tenant_and_limits_by_source_ip() {
    let dir = setup();
    installation(dir.path())
        .create_tenant("other", |id| NewTenant {
            id,
            site_name: "Other".into(),
            email: "o@other.test".into(),
            admin_password: Some(PASSWORD.into()),
            editor_password: None,
            theme: None,
            organisation: None,
        })
        .unwrap();
    let mut lambda = RuntimeApi::start();
    lambda.exec(env!("CARGO_BIN_EXE_t8k-auth"), dir.path(), &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = http_server(dir.path(), &rt);
    let creds = json!({"username": "admin", "password": PASSWORD});

    let (status, body, cookies) = lambda_answer(lambda.invoke(event(
        "POST",
        "acme.example.com",
        "/api/auth/login",
        "198.51.100.7",
        None,
        Some(&creds),
    )));
    let (h_status, h_body, h_cookies) = over_http(
        port,
        "POST",
        "acme.example.com",
        "/api/auth/login",
        None,
        Some(&creds),
    );
    assert_eq!((status, &body), (h_status, &h_body));
    assert_eq!(status, 200);
    let session = cookies[0].split(';').next().unwrap().to_owned();
    assert!(session.starts_with("__Host-t8k_session="), "{session}");
    assert!(
        cookies[0].contains("HttpOnly")
            && cookies[0].contains("Secure")
            && cookies[0].contains("SameSite=Strict")
    );
    assert!(h_cookies[0].starts_with("__Host-t8k_session="));

    let me = lambda_answer(lambda.invoke(event(
        "GET",
        "acme.example.com",
        "/api/auth/me",
        "198.51.100.7",
        Some(&session),
        None,
    )));
    let h_me = over_http(
        port,
        "GET",
        "acme.example.com",
        "/api/auth/me",
        Some(&session),
        None,
    );
    assert_eq!(
        (me.0, &me.1),
        (h_me.0, &h_me.1),
        "a Lambda session works over HTTP too"
    );
    assert_eq!(me.1["tenant"], "acme");
    // Behind CloudFront, API Gateway's Host is its own; the site's is in X-Forwarded-Host.
    let api_host = "a1b2c3.execute-api.eu-west-1.amazonaws.com";
    let mut forwarded = event(
        "GET",
        api_host,
        "/api/auth/me",
        "198.51.100.7",
        Some(&session),
        None,
    );
    forwarded["headers"]["x-forwarded-host"] = json!("acme.example.com");
    let via_cdn = lambda_answer(lambda.invoke(forwarded));
    assert_eq!(
        (via_cdn.0, &via_cdn.1["tenant"]),
        (200, &json!("acme")),
        "{}",
        via_cdn.1
    );
    let direct = event(
        "GET",
        api_host,
        "/api/auth/me",
        "198.51.100.7",
        Some(&session),
        None,
    );
    let direct = lambda_answer(lambda.invoke(direct));
    assert_ne!(
        direct.0, 200,
        "API Gateway's own host is no tenant's: {}",
        direct.1
    );
    let elsewhere = lambda_answer(lambda.invoke(event(
        "GET",
        "other.example.com",
        "/api/auth/me",
        "198.51.100.7",
        Some(&session),
        None,
    )));
    assert_eq!(elsewhere.0, 401, "acme's session at another tenant");

    // Five failures from one source address, then 429 for it; another address still gets 401.
    let wrong = |user: &str| json!({"username": user, "password": "not the password"});
    for i in 0..5 {
        let r = lambda_answer(lambda.invoke(event(
            "POST",
            "acme.example.com",
            "/api/auth/login",
            "203.0.113.5",
            None,
            Some(&wrong(&format!("u{i}"))),
        )));
        assert_eq!(r.0, 401);
    }
    let r = lambda_answer(lambda.invoke(event(
        "POST",
        "acme.example.com",
        "/api/auth/login",
        "203.0.113.5",
        None,
        Some(&wrong("u9")),
    )));
    assert_eq!(r.0, 429, "{}", r.1);
    let r = lambda_answer(lambda.invoke(event(
        "POST",
        "acme.example.com",
        "/api/auth/login",
        "203.0.113.6",
        None,
        Some(&wrong("u9")),
    )));
    assert_eq!(r.0, 401);
}
