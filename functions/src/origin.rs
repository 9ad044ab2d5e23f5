//! Cross-site write protection. Tenants' sites are `{tenant}.{domain}`: siblings are
//! *same-site* to each other, so `SameSite=Strict` cookies still ride along when a page on one
//! tenant's site posts to another's API. Every state-changing request must therefore come from
//! the request's own origin:
//!
//! - an `Origin` header must name exactly the host the request is for (scheme `http` or
//!   `https`, no path); `Origin: null` and any other origin are refused;
//! - without `Origin`, `Sec-Fetch-Site` (sent by every current browser) must be `same-origin`
//!   or `none` (typed by the user);
//! - with neither, the request cannot be from a modern browser's page: it is allowed only if
//!   it carries no session cookie (a script using a bearer token or the admin key, a login).

use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;
use crate::state::host_of;

fn refused(message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "cross_origin", message)
}

/// The host part (with port) of an `Origin` value, if it is a plain `http(s)://host[:port]`.
fn origin_authority(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    (!rest.is_empty() && !rest.contains(['/', '@', '?', '#', '\\'])).then_some(rest)
}

/// Drops a default port so that `https://a.test:443` and `a.test` compare equal.
fn without_default_port(authority: &str) -> &str {
    authority
        .strip_suffix(":443")
        .or_else(|| authority.strip_suffix(":80"))
        .unwrap_or(authority)
}

/// Checks that a state-changing request comes from the page origin of the host it is sent to.
pub fn check(headers: &HeaderMap) -> Result<(), ApiError> {
    let host = without_default_port(host_of(headers)).trim_end_matches('.');
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let same = origin_authority(origin).is_some_and(|a| {
            without_default_port(a)
                .trim_end_matches('.')
                .eq_ignore_ascii_case(host)
        });
        if !same {
            return Err(refused(format!(
                "this request comes from {origin:?}, not from the site it changes ({host}); \
                 send it from a page of {host} itself"
            )));
        }
        return Ok(());
    }
    match headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or(""))
    {
        Some("same-origin" | "none") => Ok(()),
        Some(other) => Err(refused(format!(
            "this request comes from another site (Sec-Fetch-Site: {other}); send it from a page of {host} itself"
        ))),
        None if crate::auth::session_cookie(headers)
            .or_else(|| crate::operator::cookie(headers))
            .is_some() =>
        {
            Err(refused(format!(
                "a request that changes something with a session cookie must say where it comes \
             from: add `Origin: https://{host}` (browsers do), or send the session token as \
             `Authorization: Bearer …` instead of a cookie"
            )))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn own_origin_passes_siblings_and_foreigners_do_not() {
        let host = ("host", "acme.example.com");
        let cookie = ("cookie", "__Host-t8k_session=x");
        for ok in [
            "https://acme.example.com",
            "https://ACME.example.com:443",
            "http://acme.example.com",
        ] {
            assert!(
                check(&headers(&[host, cookie, ("origin", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "https://other.example.com",
            "https://evil.test",
            "null",
            "https://acme.example.com.evil.test",
            "https://acme.example.com/path",
            "https://user@acme.example.com",
            "",
        ] {
            let e = check(&headers(&[host, cookie, ("origin", bad)])).unwrap_err();
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{bad}");
        }
    }

    #[test]
    fn without_origin_fetch_metadata_or_a_cookieless_credential_decides() {
        let host = ("host", "acme.localhost:8080");
        let cookie = ("cookie", "t8k_session=x");
        assert!(check(&headers(&[host, cookie, ("sec-fetch-site", "same-origin")])).is_ok());
        assert!(check(&headers(&[host, cookie, ("sec-fetch-site", "same-site")])).is_err());
        assert!(check(&headers(&[host, cookie, ("sec-fetch-site", "cross-site")])).is_err());
        assert!(
            check(&headers(&[host, cookie])).is_err(),
            "cookie, no origin"
        );
        assert!(check(&headers(&[host, ("authorization", "Bearer x")])).is_ok());
        assert!(check(&headers(&[host])).is_ok(), "no credential at all");
    }
}
