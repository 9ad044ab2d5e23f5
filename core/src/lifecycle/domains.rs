//! A tenant's custom domains. Adding one claims its host key in the registry (the domain is
//! put in the tenant's entry first, then the key is written create-only, so of several
//! tenants racing for one domain exactly one holds it; the others take it back out and are told
//! who holds it) and leaves it `pending`. Verifying looks in DNS for
//!
//! - **ownership**: a TXT record `_t8k-verify.{host}` holding a token derived from the
//!   installation's secret and the (tenant, host) pair, so it cannot be guessed or reused for
//!   another tenant — `pending` until it is there, then `verified`;
//! - **routing**: the host is an alias (CNAME, followed through a chain) of the installation's
//!   `edge_target` (default the main domain), or has the target's addresses — then `active`, the
//!   only state that routes (`custom_domains`).
//!
//! A look-up that gives no answer (timeout, SERVFAIL) changes nothing: try again later. The
//! operator may vouch for a domain (`--trust`): active at once, without DNS.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::Installation;
use crate::certs;
use crate::dns::Dns;
use crate::error::{Error, Result};
use crate::registry::{DomainState, DomainStatus, TenantEntry, entries, host_keys};
use crate::timefmt;

/// Custom domains a tenant may hold unless `MAX_CUSTOM_DOMAINS` says otherwise.
pub const DEFAULT_MAX_CUSTOM_DOMAINS: usize = 5;

/// Aliases followed before giving up on a CNAME chain.
const MAX_ALIASES: usize = 8;

/// How long an active domain's records may be missing before it is detached (takeover
/// protection: a domain left pointing here must not stay claimable forever).
pub const DETACH_AFTER_SECS: i64 = 72 * 3600;

/// How long a domain may stay pending.
pub const PENDING_FOR_SECS: i64 = 7 * 24 * 3600;

/// What one check did.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub state: DomainState,
    /// Removed from the tenant: its records were gone past the grace period, or it was
    /// pending too long.
    pub detached: bool,
}

/// One domain of [`Installation::check_domains`]: the check, or why DNS gave no answer.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub tenant: String,
    pub host: String,
    #[serde(flatten, serialize_with = "outcome")]
    pub outcome: std::result::Result<Checked, String>,
}

fn outcome<S: serde::Serializer>(
    o: &std::result::Result<Checked, String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match o {
        Ok(c) => c.serialize(s),
        Err(why) => serde_json::json!({ "unsure": why }).serialize(s),
    }
}

/// Whether the RFC 3339 time `since` is more than `secs` before `now` (an unreadable time
/// counts as old).
fn older_than(since: &str, now: time::OffsetDateTime, secs: i64) -> bool {
    time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339)
        .map_or(true, |t| (now - t).whole_seconds() > secs)
}

/// The DNS records a tenant creates for a domain, ready to copy.
#[derive(Clone, Debug, Serialize)]
pub struct DnsRecords {
    /// `_t8k-verify.{host}` TXT `{token}`: proves the tenant owns the domain.
    pub txt_name: String,
    pub txt_value: String,
    /// `{host}` CNAME `{target}` (or the target's A/AAAA records at an apex).
    pub cname_target: String,
}

impl Installation {
    /// Adds `host` to tenant `id`, `pending` (or, with `trust`, `active` at once: the operator
    /// vouches for it). Adding a domain it already has changes nothing.
    pub fn add_domain(&self, id: &str, host: &str, trust: bool) -> Result<TenantEntry> {
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
        // The operator vouches for ownership and routing; with `auto_ssl` the domain still
        // waits for its certificate.
        let waits_for_certificate = reg.auto_ssl && !has_certificate(self, &host);
        let added = entries::update(self.store(), &tid, |e| {
            if e.claimed_hosts().any(|h| h == host) {
                return Ok(None);
            }
            if e.domains.len() + e.custom_domains.len() >= max {
                return Err(Error::invalid(
                    "custom domains",
                    format!("tenant '{id}' has {max}, the most MAX_CUSTOM_DOMAINS allows"),
                ));
            }
            let awaiting = trust && waits_for_certificate;
            let status = match (trust, awaiting) {
                (false, _) => DomainStatus::Pending,
                (true, true) => DomainStatus::Verified,
                (true, false) => {
                    e.custom_domains.push(host.clone());
                    DomainStatus::Active
                }
            };
            e.domains.push(DomainState {
                host: host.clone(),
                status,
                added: timefmt::now_rfc3339(),
                checked: None,
                problem: awaiting.then(|| WAITING_FOR_CERTIFICATE.to_owned()),
                failing_since: None,
                trusted: trust,
                awaiting_certificate: awaiting,
                hsts: false,
            });
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

    /// The records of every custom domain of `entry`, in its order (the secret and the target
    /// are read once, however many domains it has).
    pub fn domain_records(&self, entry: &TenantEntry) -> Result<Vec<DnsRecords>> {
        let tid = entry.tenant_id()?;
        let make = self.record_maker(&self.registry()?.0)?;
        Ok(entry.domains.iter().map(|d| make(&tid, &d.host)).collect())
    }

    /// Makes the records of a (tenant, host) pair: the TXT token is an HMAC of the pair under
    /// the installation's signing secret.
    fn record_maker(
        &self,
        reg: &crate::registry::Registry,
    ) -> Result<impl Fn(&crate::TenantId, &str) -> DnsRecords + use<>> {
        let secret = self.secrets()?.signing_secret;
        let target = reg
            .edge_target
            .clone()
            .unwrap_or_else(|| reg.domain.clone());
        Ok(move |tid: &crate::TenantId, host: &str| {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
            mac.update(format!("t8k-verify\0{tid}\0{host}").as_bytes());
            DnsRecords {
                txt_name: format!("_t8k-verify.{host}"),
                txt_value: format!("t8k-{}", &hex::encode(mac.finalize().into_bytes())[..32]),
                cname_target: target.clone(),
            }
        })
    }

    /// Looks `host` up in DNS and moves it along `pending → verified → active`. An active
    /// domain whose records went away stays active for [`DETACH_AFTER_SECS`], then is detached
    /// (removed, its host freed); one pending for [`PENDING_FOR_SECS`] expires the same way. A
    /// look-up without an answer is an error and changes nothing.
    pub fn verify_domain(&self, id: &str, host: &str, dns: &Dns) -> Result<Checked> {
        let (entry, tid) = self.entry(id)?;
        let host = ascii_domain(host)?;
        if !entry.domains.iter().any(|d| d.host == host) {
            return Err(Error::invalid(
                "domain",
                format!("{host} is not a domain of tenant '{id}'; `t8k domain add` it first"),
            ));
        }
        let reg = self.registry()?.0;
        let records = self.record_maker(&reg)?(&tid, &host);
        let owned = dns.txt(&records.txt_name)?.contains(&records.txt_value);
        let routed = owned && points_at(dns, &host, &records.cname_target)?;
        let gated = routed && reg.auto_ssl && !has_certificate(self, &host);
        let (status, problem) = match (owned, routed) {
            (false, _) => (
                DomainStatus::Pending,
                format!("no TXT record {} = {}", records.txt_name, records.txt_value),
            ),
            (true, false) => (
                DomainStatus::Verified,
                format!(
                    "{host} is not a CNAME of {0} and does not have {0}'s addresses",
                    records.cname_target
                ),
            ),
            (true, true) => (DomainStatus::Active, String::new()),
        };
        let now = timefmt::now();
        let checked = timefmt::now_rfc3339();
        let (mut detach, mut moved) = (false, false);
        let state = entries::update(self.store(), &tid, |e| {
            let Some(d) = e.domains.iter_mut().find(|d| d.host == host) else {
                return Err(Error::invalid(
                    "domain",
                    format!("{host} was removed meanwhile"),
                ));
            };
            let before = (d.status, d.awaiting_certificate);
            d.checked = Some(checked.clone());
            d.problem = (!problem.is_empty()).then(|| problem.clone());
            d.awaiting_certificate = false;
            detach = false;
            match (d.status, status) {
                // Proved and pointed here, but not served without its certificate (a live
                // domain keeps serving while its renewal is under way).
                (DomainStatus::Pending | DomainStatus::Verified, DomainStatus::Active) if gated => {
                    d.status = DomainStatus::Verified;
                    d.problem = Some(WAITING_FOR_CERTIFICATE.to_owned());
                    d.awaiting_certificate = true;
                    d.failing_since = None;
                }
                // A live domain whose records went away stays up through a grace period.
                (DomainStatus::Active, DomainStatus::Pending | DomainStatus::Verified) => {
                    let since = d.failing_since.get_or_insert_with(|| checked.clone());
                    detach = older_than(since, now, DETACH_AFTER_SECS);
                }
                (_, DomainStatus::Pending) => {
                    d.status = status;
                    detach = older_than(&d.added, now, PENDING_FOR_SECS);
                }
                _ => {
                    d.status = status;
                    d.failing_since = None;
                }
            }
            let state = d.clone();
            moved = before != (state.status, state.awaiting_certificate);
            e.custom_domains.retain(|h| *h != host);
            if state.status == DomainStatus::Active {
                e.custom_domains.push(host.clone());
            }
            Ok(Some(state))
        })?
        .expect("a check always writes");
        if detach {
            self.drop_domain(&tid, &host)?;
            host_keys::release(self.store(), &host, &tid)?;
            certs::remove(self.store(), &host)?;
        }
        // The tenant view and the routes follow a change of state; a check that only
        // confirms one (most of a cron run) writes the entry alone.
        if detach || moved {
            self.entry_changed(&tid)?;
        }
        Ok(Checked {
            state,
            detached: detach,
        })
    }

    /// Checks every domain in DNS (of one tenant, or all): what `t8k domain check` runs from
    /// cron. `workers` threads look domains up at once, each with its own resolver from
    /// `resolver` (a domain's own steps stay in order). Domains the operator vouched for are
    /// not looked up; a look-up without an answer leaves its domain as it was and is reported.
    pub fn check_domains(
        &self,
        only: Option<&str>,
        workers: usize,
        resolver: impl Fn() -> Result<Dns> + Sync,
    ) -> Result<Vec<CheckReport>> {
        let mut todo = vec![];
        let mut visit = |e: TenantEntry| -> Result<()> {
            let hosts = e.domains.iter().filter(|d| !d.trusted);
            todo.extend(hosts.map(|d| (e.id.clone(), d.host.clone())));
            Ok(())
        };
        match only {
            Some(id) => visit(self.entry(id)?.0)?,
            None => self.each_tenant(&mut visit)?,
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || -> Result<Vec<(usize, CheckReport)>> {
            let dns = resolver()?;
            let mut done = vec![];
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((tenant, host)) = todo.get(i) else {
                    return Ok(done);
                };
                let outcome = match self.verify_domain(tenant, host, &dns) {
                    Ok(c) => Ok(c),
                    Err(Error::Dns(err)) => Err(err.to_string()),
                    Err(err) => return Err(err),
                };
                let (tenant, host) = (tenant.clone(), host.clone());
                done.push((
                    i,
                    CheckReport {
                        tenant,
                        host,
                        outcome,
                    },
                ));
            }
        };
        let workers = workers.clamp(1, todo.len().max(1));
        let mut out: Vec<(usize, CheckReport)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
            let mut all = vec![];
            for h in handles {
                all.extend(h.join().expect("a domain check panicked")?);
            }
            Ok::<_, Error>(all)
        })?;
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }

    /// Removes `host` from tenant `id` and frees it for others.
    pub fn remove_domain(&self, id: &str, host: &str) -> Result<TenantEntry> {
        let (entry, tid) = self.entry(id)?;
        let host = ascii_domain(host)?;
        if !entry.claimed_hosts().skip(1).any(|h| h == host) {
            return Err(Error::invalid(
                "domain",
                format!("{host} is not a custom domain of tenant '{id}'"),
            ));
        }
        self.drop_domain(&tid, &host)?;
        host_keys::release(self.store(), &host, &tid)?;
        certs::remove(self.store(), &host)?;
        self.entry_changed(&tid)?;
        Ok(self.entry(id)?.0)
    }

    /// Has a custom domain ask browsers for HTTPS only (HSTS) or stop asking. The edges send
    /// the header once the domain is active and served over HTTPS.
    pub fn set_hsts(&self, id: &str, host: &str, on: bool) -> Result<TenantEntry> {
        let (entry, tid) = self.entry(id)?;
        let host = ascii_domain(host)?;
        if !entry.domains.iter().any(|d| d.host == host) {
            return Err(Error::invalid(
                "domain",
                format!(
                    "{host} is not a custom domain of tenant '{id}'; `t8k domain list {id}` shows them"
                ),
            ));
        }
        let changed = entries::update(self.store(), &tid, |e| {
            let Some(d) = e
                .domains
                .iter_mut()
                .find(|d| d.host == host && d.hsts != on)
            else {
                return Ok(None);
            };
            d.hsts = on;
            Ok(Some(()))
        })?;
        if changed.is_some() {
            self.entry_changed(&tid)?;
        }
        Ok(self.entry(id)?.0)
    }

    /// Makes `host` of tenant `id` active now that its certificate is stored, if it was only
    /// waiting for one. Returns whether it changed.
    pub fn certificate_obtained(&self, id: &str, host: &str) -> Result<bool> {
        let (_, tid) = self.entry(id)?;
        let changed = entries::update(self.store(), &tid, |e| {
            let Some(d) = e
                .domains
                .iter_mut()
                .find(|d| d.host == host && d.awaiting_certificate)
            else {
                return Ok(None);
            };
            d.status = DomainStatus::Active;
            d.awaiting_certificate = false;
            d.problem = None;
            e.custom_domains.retain(|h| h != host);
            e.custom_domains.push(host.to_owned());
            Ok(Some(()))
        })?
        .is_some();
        if changed {
            self.entry_changed(&tid)?;
        }
        Ok(changed)
    }

    fn drop_domain(&self, tid: &crate::TenantId, host: &str) -> Result<()> {
        entries::update(self.store(), tid, |e| {
            let before = e.custom_domains.len() + e.domains.len();
            e.custom_domains.retain(|d| d != host);
            e.domains.retain(|d| d.host != host);
            Ok((e.custom_domains.len() + e.domains.len() != before).then_some(()))
        })?;
        Ok(())
    }
}

/// Why a domain that DNS proves is not served yet with `auto_ssl` on.
pub const WAITING_FOR_CERTIFICATE: &str =
    "points here; waiting for its certificate (`t8k certs renew` obtains it)";

/// Whether a certificate for `host` is stored and within its validity.
fn has_certificate(inst: &Installation, host: &str) -> bool {
    certs::state(inst.store(), host).is_ok_and(|s| s.is_valid(timefmt::now()))
}

/// Whether `host` routes to `target`: an alias of it (through a chain of CNAMEs), or with
/// the same addresses.
fn points_at(dns: &Dns, host: &str, target: &str) -> Result<bool> {
    let mut name = host.to_owned();
    for _ in 0..MAX_ALIASES {
        match dns.cname(&name)? {
            Some(next) if next == target => return Ok(true),
            Some(next) => name = next,
            None => break,
        }
    }
    let mine = dns.addresses(host)?;
    Ok(!mine.is_empty() && mine == dns.addresses(target)?)
}

/// A domain name in its ASCII form: an internationalised name (`bäckerei.example`) through
/// IDNA (UTS 46) to punycode (`xn--bckerei-5wa.example`), then checked as a DNS name. A label
/// that mixes scripts — in the name as typed or behind its punycode — is refused: `аpple`
/// with a Cyrillic `а` is a look-alike of `apple`, the way tenant names refuse them.
fn ascii_domain(host: &str) -> Result<String> {
    let host = host.trim().trim_end_matches('.');
    let (unicode, decoded) = idna::domain_to_unicode(host);
    let bad = |m: String| Err(Error::invalid("domain", format!("{host:?} {m}")));
    if decoded.is_err() {
        return bad("is not a valid international domain name".into());
    }
    for label in unicode.split('.') {
        let scripts = scripts_of(label);
        if scripts.len() > 1 {
            let names: Vec<&str> = scripts.iter().map(|s| s.full_name()).collect();
            return bad(format!(
                "mixes scripts ({}) in {label:?}: a look-alike of another name; use one script a label",
                names.join(" and ")
            ));
        }
    }
    let Ok(ascii) = idna::domain_to_ascii(host) else {
        return bad("is not a valid international domain name".into());
    };
    crate::lifecycle::check_domain(&ascii)
}

/// The scripts of a label's letters (digits, hyphens and marks belong to none).
fn scripts_of(label: &str) -> Vec<unicode_script::Script> {
    use unicode_script::{Script, UnicodeScript};
    let mut out: Vec<Script> = vec![];
    for c in label.chars() {
        let s = c.script();
        if !matches!(s, Script::Common | Script::Inherited | Script::Unknown) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A custom domain: a DNS name (lowercase, ASCII), not an IP address, not the installation's
/// domain or a name under it.
fn check_custom_domain(host: &str, main: &str) -> Result<String> {
    let h = ascii_domain(host)?;
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
        assert_eq!(
            check_custom_domain("Bäckerei.Example", "example.com").unwrap(),
            "xn--bckerei-5wa.example"
        );
        // A Cyrillic "а" among Latin letters, typed or in punycode.
        for look_alike in ["\u{430}pple.test", "xn--pple-43d.test"] {
            let err = check_custom_domain(look_alike, "example.com").unwrap_err();
            assert!(
                err.to_string().contains("mixes scripts"),
                "{look_alike}: {err}"
            );
        }
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
