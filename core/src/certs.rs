//! TLS certificates in the data root, so that any edge node reads the same ones:
//!
//! - `certs/{name}/cert.pem` (the chain), `key.pem` (its private key; owner-only on a local
//!   root) and `state.json` (validity, and the failures of the last attempts), where `{name}`
//!   is a custom domain or `_wildcard.{domain}` for the tenants' subdomains (an underscore is
//!   never part of a host name, so the two cannot meet);
//! - `acme/accounts/{id}.json`: the ACME account of each directory (production and staging
//!   are separate accounts);
//! - `acme/challenges/{token}`: HTTP-01 answers, served by whichever node the CA reaches.
//!
//! Renewal is due once a third of a certificate's lifetime is left (Let's Encrypt's advice);
//! a failed attempt waits before the next one, longer after each failure.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Condition, Store};
use crate::timefmt;

/// The first wait after a failed attempt; it doubles with each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF_SECS: i64 = 600;
const MAX_BACKOFF_SECS: i64 = 24 * 3600;

/// What `state.json` records about one certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertState {
    /// The names the certificate covers.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// When this certificate was obtained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    /// Failed attempts since the last success.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// No new attempt before this time (after a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Whether a certificate needs the CA now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Due {
    /// None obtained yet.
    Missing,
    /// A third of its lifetime or less is left (or it expired).
    Renew,
    /// Good for a while.
    Valid,
    /// The last attempt failed; waiting until `retry_after`.
    Backoff,
}

impl CertState {
    /// What to do about this certificate at `now`.
    pub fn due(&self, now: OffsetDateTime) -> Due {
        if self
            .retry_after
            .as_deref()
            .and_then(parse)
            .is_some_and(|t| now < t)
        {
            return Due::Backoff;
        }
        let (Some(from), Some(to)) = (
            self.not_before.as_deref().and_then(parse),
            self.not_after.as_deref().and_then(parse),
        ) else {
            return Due::Missing;
        };
        if now >= from + (to - from) * 2 / 3 {
            Due::Renew
        } else {
            Due::Valid
        }
    }

    /// Whether the certificate is within its validity at `now`.
    pub fn is_valid(&self, now: OffsetDateTime) -> bool {
        matches!(
            (
                self.not_before.as_deref().and_then(parse),
                self.not_after.as_deref().and_then(parse)
            ),
            (Some(from), Some(to)) if from <= now && now < to
        )
    }
}

fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The name under `certs/` of the certificate for the subdomains of `domain`.
pub fn wildcard_name(domain: &str) -> String {
    format!("_wildcard.{}", domain.to_ascii_lowercase())
}

/// `certs/{name}`, for a name that is a host (checked) or a [`wildcard_name`].
fn dir(name: &str) -> Result<Key> {
    let (prefix, host) = match name.strip_prefix("_wildcard.") {
        Some(domain) => ("_wildcard.", domain),
        None => ("", name),
    };
    Key::new(&format!(
        "certs/{prefix}{}",
        crate::lifecycle::check_domain(host)?
    ))
}

/// A certificate with its key, as stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// The state of certificate `name` (default when there has never been an attempt).
pub fn state(store: &dyn Store, name: &str) -> Result<CertState> {
    Ok(read_json(store, &dir(name)?.join("state.json")?)?
        .map(|(s, _)| s)
        .unwrap_or_default())
}

/// The certificate `name` and its key, if one was obtained.
pub fn load(store: &dyn Store, name: &str) -> Result<Option<Stored>> {
    let d = dir(name)?;
    let (Some(chain), Some(key)) = (
        store.get(&d.join("cert.pem")?)?,
        store.get(&d.join("key.pem")?)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(Stored {
        chain_pem: chain.bytes,
        key_pem: key.bytes,
    }))
}

/// The version of `certs/{name}/cert.pem`, to notice a renewal without reading it.
pub fn version(store: &dyn Store, name: &str) -> Result<Option<String>> {
    Ok(store
        .head(&dir(name)?.join("cert.pem")?)?
        .map(|v| v.0.clone()))
}

/// Stores a newly obtained certificate: the key first, then the chain, then the state, so a
/// reader that finds the chain finds its key (a crash in between leaves the old pair's chain
/// with a new key for one renewal at most, and the next attempt rewrites both).
pub fn save(store: &dyn Store, name: &str, chain_pem: &str, key_pem: &str) -> Result<CertState> {
    let (not_before, not_after) = validity(chain_pem)?;
    let d = dir(name)?;
    store.put(&d.join("key.pem")?, key_pem.as_bytes(), Condition::None)?;
    store.put(&d.join("cert.pem")?, chain_pem.as_bytes(), Condition::None)?;
    let state = CertState {
        names: names_of(chain_pem)?,
        not_before: Some(timefmt::rfc3339(not_before)),
        not_after: Some(timefmt::rfc3339(not_after)),
        issued: Some(timefmt::now_rfc3339()),
        ..CertState::default()
    };
    store.put(
        &d.join("state.json")?,
        &to_json_bytes(&state),
        Condition::None,
    )?;
    Ok(state)
}

/// Records a failed attempt and when the next may be made; the certificate (if any) is kept.
pub fn record_failure(store: &dyn Store, name: &str, error: &str) -> Result<CertState> {
    let mut s = state(store, name)?;
    s.failures += 1;
    let wait = (FIRST_BACKOFF_SECS << (s.failures - 1).min(16)).min(MAX_BACKOFF_SECS);
    s.last_error = Some(error.to_owned());
    s.retry_after = Some(timefmt::rfc3339(
        timefmt::now() + time::Duration::seconds(wait),
    ));
    store.put(
        &dir(name)?.join("state.json")?,
        &to_json_bytes(&s),
        Condition::None,
    )?;
    Ok(s)
}

/// Removes certificate `name` (its domain left the installation).
pub fn remove(store: &dyn Store, name: &str) -> Result<()> {
    let d = dir(name)?;
    for f in ["cert.pem", "key.pem", "state.json"] {
        store.delete(&d.join(f)?)?;
    }
    Ok(())
}

/// Every certificate name (one per `certs/{name}/state.json`), in name order.
pub fn names(store: &dyn Store) -> Result<Vec<String>> {
    let root = Key::new("certs")?;
    let mut out: Vec<String> = store
        .list_keys(&root)?
        .iter()
        .filter_map(|k| k.strip_prefix(&root)?.strip_suffix("/state.json"))
        .map(str::to_owned)
        .collect();
    out.sort();
    Ok(out)
}

/// Every certificate name with its state, in name order.
pub fn list(store: &dyn Store) -> Result<Vec<(String, CertState)>> {
    names(store)?
        .into_iter()
        .map(|name| {
            let s = state(store, &name)?;
            Ok((name, s))
        })
        .collect()
}

/// The validity window of the first (leaf) certificate of a PEM chain.
pub fn validity(chain_pem: &str) -> Result<(OffsetDateTime, OffsetDateTime)> {
    with_leaf(chain_pem, |cert| {
        let v = cert.validity();
        let at = |t: x509_parser::time::ASN1Time| {
            OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|e| bad_pem(e.to_string()))
        };
        Ok((at(v.not_before)?, at(v.not_after)?))
    })
}

/// The DNS names a PEM chain's leaf certificate covers.
pub fn names_of(chain_pem: &str) -> Result<Vec<String>> {
    with_leaf(chain_pem, |cert| {
        let names = cert
            .subject_alternative_name()
            .map_err(|e| bad_pem(e.to_string()))?
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(names)
    })
}

fn with_leaf<T>(
    chain_pem: &str,
    f: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> Result<T>,
) -> Result<T> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem.as_bytes())
        .map_err(|e| bad_pem(format!("no PEM certificate ({e})")))?;
    let cert = pem.parse_x509().map_err(|e| bad_pem(e.to_string()))?;
    f(&cert)
}

fn bad_pem(why: String) -> Error {
    Error::invalid(
        "certificate",
        format!("cannot read the issued chain: {why}"),
    )
}

/// `acme/challenges/{token}`, for a token the CA gave (base64url, RFC 8555 §8.3).
fn challenge_key(token: &str) -> Result<Key> {
    let ok = !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(Error::invalid(
            "ACME challenge token",
            "a token is 1–256 base64url characters (A–Z, a–z, 0–9, - and _)",
        ));
    }
    Key::new(&format!("acme/challenges/{token}"))
}

/// Publishes the key authorization the CA will fetch for `token`.
pub fn put_challenge(store: &dyn Store, token: &str, key_authorization: &str) -> Result<()> {
    store.put(
        &challenge_key(token)?,
        key_authorization.as_bytes(),
        Condition::None,
    )?;
    Ok(())
}

/// The key authorization for `token`, if a challenge is open (an invalid token is none).
pub fn challenge(store: &dyn Store, token: &str) -> Result<Option<Vec<u8>>> {
    let Ok(key) = challenge_key(token) else {
        return Ok(None);
    };
    Ok(store.get(&key)?.map(|o| o.bytes))
}

pub fn remove_challenge(store: &dyn Store, token: &str) -> Result<()> {
    store.delete(&challenge_key(token)?)?;
    Ok(())
}

/// `acme/accounts/{id}.json`: the account for one ACME directory (`id` from its URL).
pub fn account_key(directory_url: &str) -> Key {
    let id = &crate::secrets::sha256_hex(directory_url)[..16];
    Key::new(&format!("acme/accounts/{id}.json")).expect("a hex name is a key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn at(s: &str) -> OffsetDateTime {
        parse(s).unwrap()
    }

    #[test]
    fn renewal_is_due_at_a_third_of_the_lifetime_left_and_waits_after_a_failure() {
        let mut s = CertState {
            not_before: Some("2026-01-01T00:00:00Z".into()),
            not_after: Some("2026-03-31T00:00:00Z".into()), // 89 days
            ..CertState::default()
        };
        assert_eq!(s.due(at("2026-02-15T00:00:00Z")), Due::Valid);
        assert_eq!(s.due(at("2026-03-02T00:00:00Z")), Due::Renew);
        assert!(s.is_valid(at("2026-03-02T00:00:00Z")));
        assert!(!s.is_valid(at("2026-04-01T00:00:00Z")));
        s.retry_after = Some("2026-03-02T01:00:00Z".into());
        assert_eq!(s.due(at("2026-03-02T00:00:00Z")), Due::Backoff);
        assert_eq!(
            s.due(at("2026-03-02T00:00:00Z") + Duration::hours(2)),
            Due::Renew
        );
        assert_eq!(
            CertState::default().due(at("2026-03-02T00:00:00Z")),
            Due::Missing
        );
    }

    #[test]
    fn failures_back_off_longer_each_time_up_to_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::local::LocalStore::new(dir.path());
        let wait = |s: &CertState| {
            (parse(s.retry_after.as_deref().unwrap()).unwrap() - timefmt::now()).whole_seconds()
        };
        let first = record_failure(&store, "shop.test", "connection refused").unwrap();
        let second = record_failure(&store, "shop.test", "connection refused").unwrap();
        assert_eq!(second.failures, 2);
        assert!((590..=600).contains(&wait(&first)), "{first:?}");
        assert!((1190..=1200).contains(&wait(&second)), "{second:?}");
        for _ in 0..20 {
            record_failure(&store, "shop.test", "x").unwrap();
        }
        assert!(wait(&state(&store, "shop.test").unwrap()) <= MAX_BACKOFF_SECS);
    }

    #[test]
    fn names_and_tokens_never_escape_their_folders() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::local::LocalStore::new(dir.path());
        for bad in ["../x", "a/b", "", "tok en", "x.y"] {
            assert!(put_challenge(&store, bad, "k").is_err(), "{bad:?}");
            assert_eq!(challenge(&store, bad).unwrap(), None);
        }
        for bad in ["../x", "a/b", "_wildcard", "shop..test"] {
            assert!(state(&store, bad).is_err(), "{bad:?}");
        }
        put_challenge(&store, "Abc-_09", "Abc-_09.thumb").unwrap();
        assert_eq!(
            challenge(&store, "Abc-_09").unwrap().as_deref(),
            Some(&b"Abc-_09.thumb"[..])
        );
    }
}
