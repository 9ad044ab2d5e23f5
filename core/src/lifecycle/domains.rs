//! A tenant's custom domains, claimed through the registry's host keys: the domain is added to
//! the tenant's entry, then its host key is written create-only, so of several tenants racing
//! for one domain exactly one holds it; the others take it back out of their entries and are
//! told who holds it. (Ownership checks by DNS come with the domains issue; this is the
//! operator's path.)

use super::Installation;
use crate::error::{Error, Result};
use crate::registry::{TenantEntry, entries, host_keys};

/// Custom domains a tenant may hold unless `MAX_CUSTOM_DOMAINS` says otherwise.
pub const DEFAULT_MAX_CUSTOM_DOMAINS: usize = 5;

impl Installation {
    /// Adds `host` to tenant `id`; returns the tenant's entry. Adding a domain it already has
    /// changes nothing.
    pub fn add_domain(&self, id: &str, host: &str) -> Result<TenantEntry> {
        let (_, tid) = self.entry(id)?;
        let (reg, _) = self.registry()?;
        if !reg.enable_custom_domains {
            return Err(Error::invalid(
                "custom domains",
                "enable_custom_domains is false in config/t8k/tenants.json",
            ));
        }
        let host = check_custom_domain(host, &reg.domain)?;
        let max = self.env.max_custom_domains;
        let added = entries::update(self.store(), &tid, |e| {
            if e.custom_domains.contains(&host) {
                return Ok(None);
            }
            if e.custom_domains.len() >= max {
                return Err(Error::invalid(
                    "custom domains",
                    format!("tenant '{id}' has {max}, the most MAX_CUSTOM_DOMAINS allows"),
                ));
            }
            e.custom_domains.push(host.clone());
            Ok(Some(()))
        })?;
        if let Err(e) = host_keys::claim(self.store(), &host, &tid) {
            if added.is_some() {
                self.drop_domain(&tid, &host)?;
            }
            return Err(e);
        }
        self.entry_changed(&tid)?;
        Ok(self.entry(id)?.0)
    }

    /// Removes `host` from tenant `id` and frees it for others.
    pub fn remove_domain(&self, id: &str, host: &str) -> Result<TenantEntry> {
        let (entry, tid) = self.entry(id)?;
        let host = crate::lifecycle::check_domain(host)?;
        if !entry.custom_domains.contains(&host) {
            return Err(Error::invalid(
                "domain",
                format!("{host} is not a custom domain of tenant '{id}'"),
            ));
        }
        self.drop_domain(&tid, &host)?;
        host_keys::release(self.store(), &host, &tid)?;
        self.entry_changed(&tid)?;
        Ok(self.entry(id)?.0)
    }

    fn drop_domain(&self, tid: &crate::TenantId, host: &str) -> Result<()> {
        entries::update(self.store(), tid, |e| {
            let before = e.custom_domains.len();
            e.custom_domains.retain(|d| d != host);
            Ok((e.custom_domains.len() != before).then_some(()))
        })?;
        Ok(())
    }
}

/// A custom domain: a DNS name (lowercase, ASCII), not an IP address, not the installation's
/// domain or a name under it.
fn check_custom_domain(host: &str, main: &str) -> Result<String> {
    let h = crate::lifecycle::check_domain(host)?;
    let bad = |m: String| Err(Error::invalid("domain", m));
    if h.rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad(format!("{h} is an IP address; give a domain name"));
    }
    if !h.contains('.') {
        return bad(format!(
            "{h} is a single label; give a full domain like www.example.org"
        ));
    }
    let main = main.to_ascii_lowercase();
    if h == main || h.ends_with(&format!(".{main}")) {
        return bad(format!(
            "{h} is the installation's own domain or under it; tenants get {{id}}.{main} already"
        ));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::check_custom_domain;

    #[test]
    fn custom_domains_are_dns_names_outside_the_main_domain() {
        assert_eq!(
            check_custom_domain("WWW.Acme.test.", "example.com").unwrap(),
            "www.acme.test"
        );
        for bad in [
            "127.0.0.1",
            "example.com",
            "x.example.com",
            "localhost",
            "a b.test",
            "*.acme.test",
        ] {
            assert!(check_custom_domain(bad, "example.com").is_err(), "{bad}");
        }
    }
}
