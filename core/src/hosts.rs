//! The host table: which site each host name is, computed in one place from the registry's
//! entries. `routes.json` (and every edge configuration made from it) is made from this table;
//! `t8k serve` and the functions resolve one host at a time with [`resolve_with`], which
//! applies the same rules to one entry, so a host that routes in one place routes the same
//! everywhere.
//!
//! Every complete tenant answers at its registry domain, `{id}.{domain}`, its custom domains and
//! `{id}.localhost` (local preview); the main site at `{domain}`, `www.{domain}` and
//! `localhost`. Hosts are lowercased, without port or trailing dot.

use crate::bandwidth::limit::OverLimit;
use crate::name::TenantId;
use crate::registry::TenantEntry;

/// The site a host is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// The installation's own site (landing page, sign-up).
    Main,
    Tenant {
        id: TenantId,
        active: bool,
        /// Its month's bandwidth limit reached (the edges throttle or refuse its pages).
        over: Option<OverLimit>,
    },
}

/// Where a host comes from: a public name an edge serves, or a local preview name
/// (`localhost`, `*.localhost`) only `t8k serve` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Public,
    Preview,
}

impl Reach {
    /// Whether `host` (normalised) is a preview name or one an edge serves.
    pub fn of(host: &str) -> Reach {
        if is_local(host) {
            Reach::Preview
        } else {
            Reach::Public
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct HostMap {
    domain: String,
    exact: foldhash::HashMap<String, Site>,
    /// Custom domains that ask for HSTS.
    hsts: foldhash::HashSet<String>,
}

/// The name in a `Host` value, without port and trailing dot, if it is a plausible host name
/// (no allocation: this runs on every request).
pub fn host_name(host: &str) -> Option<&str> {
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

/// The hosts of one complete tenant: its domain, custom domains, `{id}.{domain}` and
/// `{id}.localhost` (normalised), with its site.
pub fn tenant_hosts(domain: &str, t: &TenantEntry) -> Option<(Site, Vec<String>)> {
    if !t.is_complete() {
        return None;
    }
    let id = t.tenant_id().ok()?;
    let own = [format!("{id}.localhost"), format!("{id}.{domain}")];
    let hosts = own
        .into_iter()
        .chain(t.own_hosts().map(str::to_owned))
        .filter_map(|h| normalise(&h))
        .collect();
    Some((
        Site::Tenant {
            id,
            active: t.active,
            over: t.over_limit.clone(),
        },
        hosts,
    ))
}

/// The main site's hosts: the domain, `www.` and `localhost` (tenants are previewed as
/// `{id}.localhost`). A tenant that lists one of them (a single-tenant installation's tenant
/// on the main domain) takes it.
pub fn main_hosts(domain: &str) -> [String; 3] {
    let d = domain.to_ascii_lowercase();
    ["localhost".into(), format!("www.{d}"), d]
}

/// Which site `host` is for, given a way to find the tenant entry that claims a host (a host
/// key) or has an id (`{id}.localhost`, `{id}.{domain}`): the rules of [`HostMap`] for one
/// host, for callers that cannot hold every entry.
pub fn resolve_with(
    domain: &str,
    host: &str,
    entry_for_host: impl FnOnce(&str) -> Option<TenantEntry>,
) -> Option<Site> {
    let name = normalise(host)?;
    if let Some(e) = entry_for_host(&name)
        && let Some((site, hosts)) = tenant_hosts(domain, &e)
        && hosts.contains(&name)
    {
        return Some(site);
    }
    main_hosts(domain).contains(&name).then_some(Site::Main)
}

impl HostMap {
    pub fn new<'a>(domain: &str, entries: impl IntoIterator<Item = &'a TenantEntry>) -> HostMap {
        let domain = domain.to_ascii_lowercase();
        let mut exact = foldhash::HashMap::default();
        let mut hsts = foldhash::HashSet::default();
        for t in entries {
            if let Some((site, hosts)) = tenant_hosts(&domain, t) {
                for h in hosts {
                    exact.insert(h, site.clone());
                }
                hsts.extend(t.hsts_hosts().filter_map(normalise));
            }
        }
        for h in main_hosts(&domain) {
            if let Some(h) = normalise(&h) {
                exact.entry(h).or_insert(Site::Main);
            }
        }
        HostMap {
            domain,
            exact,
            hsts,
        }
    }

    /// The site `host` (a `Host` value: any case, a port, a trailing dot) is for. Runs on
    /// every request, so a host already in lowercase is looked up without a copy.
    pub fn resolve(&self, host: &str) -> Option<&Site> {
        let name = host_name(host)?;
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.exact.get(&name.to_ascii_lowercase())
        } else {
            self.exact.get(name)
        }
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether `host` (normalised) asks for HSTS.
    pub fn hsts(&self, host: &str) -> bool {
        self.hsts.contains(host)
    }

    /// Every host with its site and reach, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Site, Reach)> {
        self.exact
            .iter()
            .map(|(h, s)| (h.as_str(), s, Reach::of(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> HostMap {
        let reg: crate::registry::Registry = serde_json::from_value(serde_json::json!({
            "max_tenants": 10, "default_quota": "1GB", "enable_custom_domains": true,
            "require_email_verification": false, "auto_ssl": false, "domain": "Example.com",
            "tenants": [
                {"id": "acme", "domain": "acme.example.com", "custom_domains": ["WWW.acme.test."], "created": "x", "active": true},
                {"id": "gone", "domain": "gone.example.com", "created": "x", "active": false, "status": "inactive"},
                {"id": "half", "domain": "half.example.com", "created": "x", "active": false, "status": "creating"}
            ]
        }))
        .unwrap();
        HostMap::new(&reg.domain, &reg.tenants)
    }

    #[test]
    fn resolves_every_form_of_host() {
        let map = registry();
        let acme = Some(Site::Tenant {
            id: TenantId::trusted("acme").unwrap(),
            active: true,
            over: None,
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
                active: false,
                over: None,
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

    #[test]
    fn public_hosts_are_normalised_and_previews_marked() {
        let map = registry();
        let mut public: Vec<_> = map
            .iter()
            .filter(|(_, _, r)| *r == Reach::Public)
            .map(|(h, _, _)| h)
            .collect();
        public.sort();
        assert_eq!(
            public,
            [
                "acme.example.com",
                "example.com",
                "gone.example.com",
                "www.acme.test",
                "www.example.com"
            ]
        );
    }
}
