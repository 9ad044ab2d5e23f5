//! Which site a request is for, from its `Host` header: `{tenant}.localhost`,
//! `{tenant}.{domain}`, a custom domain listed in the registry, or the main domain. Built once
//! from the registry into a lookup table; a host that matches nothing resolves to nothing.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

use t8k_core::TenantId;
use t8k_core::registry::Registry;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// The installation's own site (landing page, sign-up).
    Main,
    Tenant {
        id: TenantId,
        active: bool,
    },
}

#[derive(Clone, Debug, Default)]
pub struct HostMap {
    domain: String,
    exact: HashMap<String, Site>,
}

/// The name in a `Host` value, without port and trailing dot, if it is a plausible host name
/// (no allocation: this runs on every request).
fn host_name(host: &str) -> Option<&str> {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.');
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(host)
}

/// Lowercases, drops a port and a trailing dot. Returns `None` for anything that is not a
/// plausible host name, so no odd input reaches a lookup.
pub fn normalise(host: &str) -> Option<String> {
    host_name(host).map(str::to_ascii_lowercase)
}

/// `localhost` and `*.localhost`: local preview over plain http, where browsers drop Secure
/// cookies and links must keep the port.
pub fn is_local(host: &str) -> bool {
    let h = host.split(':').next().unwrap_or("");
    h == "localhost" || h.ends_with(".localhost")
}

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
/// ([`crate::origin::check`]). One layer, not two: this runs on every request.
pub async fn checks(mut req: Request, next: Next) -> Response {
    let missing = match target_host(req.headers(), req.uri()) {
        Err(why) => return ApiError::bad_request(why).into_response(),
        Ok(_) if req.headers().contains_key(header::HOST) => None,
        Ok(h) => Some(HeaderValue::from_str(h).map_err(|e| e.to_string())),
    };
    match missing {
        Some(Ok(h)) => {
            req.headers_mut().insert(header::HOST, h);
        }
        Some(Err(why)) => return ApiError::bad_request(why).into_response(),
        None => {}
    }
    if !req.method().is_safe()
        && let Err(e) = crate::origin::check(req.headers())
    {
        return e.into_response();
    }
    next.run(req).await
}

impl HostMap {
    pub fn new(reg: &Registry) -> HostMap {
        let domain = reg.domain.to_ascii_lowercase();
        let mut exact = HashMap::new();
        for t in reg.tenants.iter().filter(|t| t.is_complete()) {
            let Ok(id) = t.tenant_id() else { continue };
            let site = Site::Tenant {
                id: id.clone(),
                active: t.active,
            };
            for h in [
                t.domain.clone(),
                format!("{id}.localhost"),
                format!("{id}.{domain}"),
            ]
            .into_iter()
            .chain(t.custom_domains.iter().cloned())
            {
                if let Some(h) = normalise(&h) {
                    exact.insert(h, site.clone());
                }
            }
        }
        // The main domain; `localhost` too when tenants are previewed as `{id}.localhost`.
        for h in [domain.clone(), "localhost".into(), format!("www.{domain}")] {
            exact.entry(h).or_insert(Site::Main);
        }
        HostMap { domain, exact }
    }

    pub fn resolve(&self, host: &str) -> Option<&Site> {
        self.exact.get(&normalise(host)?)
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }
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

    fn registry() -> Registry {
        serde_json::from_value(serde_json::json!({
            "max_tenants": 10, "default_quota": "1GB", "enable_custom_domains": true,
            "require_email_verification": false, "auto_ssl": false, "domain": "example.com",
            "tenants": [
                {"id": "acme", "domain": "acme.example.com", "custom_domains": ["www.acme.test"], "created": "x", "active": true},
                {"id": "gone", "domain": "gone.example.com", "created": "x", "active": false, "status": "inactive"},
                {"id": "half", "domain": "half.example.com", "created": "x", "active": false, "status": "creating"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn resolves_every_form_of_host() {
        let map = HostMap::new(&registry());
        let acme = Some(Site::Tenant {
            id: TenantId::trusted("acme").unwrap(),
            active: true,
        });
        for h in [
            "acme.example.com",
            "ACME.example.com:8080",
            "acme.localhost:8080",
            "www.acme.test",
            "acme.example.com.",
        ] {
            assert_eq!(map.resolve(h).cloned(), acme, "{h}");
        }
        assert_eq!(
            map.resolve("gone.localhost"),
            Some(&Site::Tenant {
                id: TenantId::trusted("gone").unwrap(),
                active: false
            })
        );
        assert_eq!(map.resolve("example.com"), Some(&Site::Main));
        assert_eq!(map.resolve("localhost:8080"), Some(&Site::Main));
        for h in [
            "half.localhost",
            "other.example.com",
            "evil.com",
            "",
            "acme.localhost/../x",
            "a b",
        ] {
            assert_eq!(map.resolve(h), None, "{h}");
        }
    }
}
