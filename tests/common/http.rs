//! A raw HTTP/1.1 client, so tests control exact paths and Host headers.

use super::*;

/// A response read off the wire.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one raw HTTP/1.1 request to 127.0.0.1:`port` — raw so that tests control the exact
/// path bytes (`%2e%2e`, backslashes) and the Host header.
pub fn http(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> HttpResponse {
    http_with_body(port, method, host, path, extra, b"")
}

pub fn get(port: u16, host: &str, path: &str) -> HttpResponse {
    http(port, "GET", host, path, &[])
}

/// Like [`http`], with a request body; `Content-Length` is the body's unless `extra` sets one.
/// Like a browser, a request that changes something (not GET or HEAD) with a `Cookie` carries
/// the page's `Origin` (`http://{host}`) unless `extra` gives one; an empty `Origin` in `extra`
/// sends none.
pub fn http_with_body(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    let has = |name: &str| extra.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !matches!(method, "GET" | "HEAD") && has("cookie") && !has("origin") {
        req.push_str(&format!("Origin: http://{host}\r\n"));
    }
    for (k, v) in extra {
        if k.eq_ignore_ascii_case("origin") && v.is_empty() {
            continue;
        }
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() && !has("content-length") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    // Read until the body is complete by Content-Length (some servers, chromedriver among
    // them, keep the connection open despite `Connection: close`), else until EOF.
    let mut raw = vec![];
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| raw.len() >= head_end + 4 + n) {
                break;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// A request with a JSON body (`Content-Type: application/json`) and the `extra` headers.
pub fn send_json(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    http_with_body(port, method, host, path, &headers, body.as_bytes())
}

/// The `name=value` of the session cookie a login response set.
pub fn session_cookie(r: &HttpResponse) -> String {
    r.header("set-cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Logs `user` in at `host` through `POST /api/auth/login`; returns the `name=value` of the
/// session cookie.
pub fn login_cookie(port: u16, host: &str, user: &str, password: &str) -> String {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let r = send_json(port, "POST", host, "/api/auth/login", &[], &body);
    assert_eq!(r.status, 200, "login at {host}: {}", r.text());
    session_cookie(&r)
}
