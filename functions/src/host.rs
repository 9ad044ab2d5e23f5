//! Which site a request is for, from its `Host` header: `{tenant}.localhost`,
//! `{tenant}.{domain}`, a custom domain listed in the registry, or the main domain. Built once
//! from the registry into a lookup table; a host that matches nothing resolves to nothing.

use std::collections::HashMap;

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

/// Lowercases, drops a port and a trailing dot. Returns `None` for anything that is not a
/// plausible host name, so no odd input reaches a lookup.
pub fn normalise(host: &str) -> Option<String> {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(host)
}

/// `localhost` and `*.localhost`: local preview over plain http, where browsers drop Secure
/// cookies and links must keep the port.
pub fn is_local(host: &str) -> bool {
    let h = host.split(':').next().unwrap_or("");
    h == "localhost" || h.ends_with(".localhost")
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
