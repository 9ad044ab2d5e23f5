//! The one host a request names, and the checks every function request passes before its
//! handler. Which site a host is for is core's host table ([`t8k_core::hosts`]).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Uri, header};

use crate::error::ApiError;

use t8k_core::hosts::host_name;

/// The one host a request is for, by RFC 9112 §3.2, for `t8k serve` and the functions alike:
/// more than one `Host` header is refused; an absolute-form target (`GET http://a.test/ …`)
/// names the host, and a `Host` header that disagrees with it is refused; a request naming no
/// host, or something that is not a host name, is refused. `Err` is the reason, for a 400.
pub fn target_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Result<&'a str, String> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err("the request has more than one Host header; send exactly one".into());
    }
    let host = host
        .map(|h| {
            h.to_str()
                .map_err(|_| "the Host header is not plain text".to_owned())
        })
        .transpose()?;
    let target = uri.authority().map(|a| a.as_str());
    if target.is_some_and(|a| a.contains('@')) {
        return Err("the request target carries user information; name only the host".into());
    }
    let host = match (host, target) {
        (Some(h), Some(a)) if !h.trim().eq_ignore_ascii_case(a) => {
            return Err(format!(
                "the request line names {a:?} but the Host header names {h:?}; they must agree"
            ));
        }
        (_, Some(a)) => a,
        (Some(h), None) => h.trim(),
        (None, None) => return Err("the request names no host; send a Host header".into()),
    };
    if host_name(host).is_none() {
        return Err(format!(
            "{host:?} is not a host name; send the site's name, like acme.example.com"
        ));
    }
    Ok(host)
}

/// What every function request passes before its handler: [`target_host`] (a 400 for an
/// ambiguous request; an absolute-form target without `Host` gets the header, so every handler
/// reading `Host` agrees), then, for methods that change something, the same-origin check
/// ([`crate::origin::check`]). Run by [`crate::trace::Traced`], inside the
/// request's span.
pub fn checks(req: &mut Request) -> Result<(), ApiError> {
    let missing = match target_host(req.headers(), req.uri()) {
        Err(why) => return Err(ApiError::bad_request(why)),
        Ok(_) if req.headers().contains_key(header::HOST) => None,
        Ok(h) => Some(HeaderValue::from_str(h).map_err(|e| e.to_string())),
    };
    match missing {
        Some(Ok(h)) => {
            req.headers_mut().insert(header::HOST, h);
        }
        Some(Err(why)) => return Err(ApiError::bad_request(why)),
        None => {}
    }
    if !req.method().is_safe() {
        crate::origin::check(req.headers())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, hosts: &[&str]) -> Result<String, String> {
        let mut h = HeaderMap::new();
        for v in hosts {
            h.append(header::HOST, HeaderValue::from_str(v).unwrap());
        }
        target_host(&h, &target.parse().unwrap()).map(str::to_owned)
    }

    #[test]
    fn one_request_names_one_host() {
        assert_eq!(request("/", &["acme.test"]).unwrap(), "acme.test");
        assert_eq!(
            request("http://acme.test/x", &[]).unwrap(),
            "acme.test",
            "absolute form without Host"
        );
        assert_eq!(
            request("http://ACME.test/x", &["acme.test"]).unwrap(),
            "ACME.test"
        );
        assert!(request("/", &["acme.test", "other.test"]).is_err());
        assert!(request("/", &["acme.test", "acme.test"]).is_err());
        assert!(request("http://acme.test/", &["other.test"]).is_err());
        assert!(request("http://x@acme.test/", &[]).is_err());
        assert!(request("/", &[]).is_err());
        assert!(request("/", &[""]).is_err());
        assert!(request("/", &["acme.test@evil.test"]).is_err());
    }
}
