//! The build trigger: when a build is queued, the functions call a webhook so that the build
//! starts at once instead of at the next cron tick — a CI provider's dispatch endpoint (GitHub
//! `repository_dispatch`) or any receiver of a signed JSON POST. This module holds what both
//! ends agree on: the settings (`BUILD_WEBHOOK_*`), the signature, and the record of the last
//! call per tenant (`stats/{tenant}/trigger.json`) that `t8k report` shows when it failed. The
//! sender is `t8k_functions::trigger`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::key::Key;
use crate::name::TenantId;
use crate::store::{Condition, Store};

/// The header that carries a generic call's signature: `sha256=` and the hex HMAC-SHA256 of
/// the body under the shared secret (the scheme GitHub's own webhooks use).
pub const SIGNATURE_HEADER: &str = "x-t8k-signature-256";

/// How the webhook is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `POST {"tenants": [...], "reasons": [...], "sent": time}` signed with the secret.
    Json,
    /// GitHub's `repository_dispatch`: the secret is a token with `contents: write`, the event
    /// type `t8k-build`, the tenants in `client_payload`.
    Github,
}

/// `BUILD_WEBHOOK_URL`, `BUILD_WEBHOOK_SECRET`, `BUILD_WEBHOOK_FORMAT` (json | github, default
/// github for an `api.github.com` address, else json), `BUILD_WEBHOOK_DEBOUNCE_SECS` (default
/// 5: a burst of saves within it is one call, sent when it ends).
#[derive(Clone)]
pub struct Webhook {
    pub url: url::Url,
    pub secret: String,
    pub format: Format,
    pub debounce: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url.as_str())
            .field("format", &self.format)
            .field("debounce", &self.debounce)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// The webhook the variables describe (`get` reads one, trimmed, `None` when unset).
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Option<Webhook>> {
        let Some(raw) = get("BUILD_WEBHOOK_URL") else {
            return Ok(None);
        };
        let url = url::Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                Error::invalid(
                    "BUILD_WEBHOOK_URL",
                    format!("{raw:?} is not an http(s) address, like https://api.github.com/repos/OWNER/REPO/dispatches"),
                )
            })?;
        let secret = get("BUILD_WEBHOOK_SECRET").ok_or_else(|| {
            Error::invalid(
                "BUILD_WEBHOOK_SECRET",
                "is not set: give the webhook its signing secret (a GitHub token for github)",
            )
        })?;
        let format = match get("BUILD_WEBHOOK_FORMAT") {
            Some("json") => Format::Json,
            Some("github") => Format::Github,
            None if url.host_str() == Some("api.github.com") => Format::Github,
            None => Format::Json,
            Some(v) => {
                return Err(Error::invalid(
                    "BUILD_WEBHOOK_FORMAT",
                    format!("{v:?} is neither json nor github"),
                ));
            }
        };
        let debounce = match get("BUILD_WEBHOOK_DEBOUNCE_SECS") {
            None => Duration::from_secs(5),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|s| (0.0..=3600.0).contains(s))
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    Error::invalid(
                        "BUILD_WEBHOOK_DEBOUNCE_SECS",
                        format!("{v:?} is not a number of seconds from 0 to 3600, like 5"),
                    )
                })?,
        };
        Ok(Some(Webhook {
            url,
            secret: secret.to_owned(),
            format,
            debounce,
        }))
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is `body`'s signature under `secret` (compared in constant time).
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The last call made for a tenant's build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the last attempt ended (RFC 3339).
    pub at: String,
    pub ok: bool,
    pub attempts: u32,
    /// The receiver's last status, if it answered.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
}

fn record_key(id: &TenantId) -> Key {
    Key::new(&format!("stats/{id}/trigger.json")).expect("tenant ids are key segments")
}

pub fn write_record(store: &dyn Store, id: &TenantId, r: &Record) -> Result<()> {
    let bytes = crate::cas::to_json_bytes(r);
    store.put(&record_key(id), &bytes, Condition::None)?;
    Ok(())
}

pub fn read_record(store: &dyn Store, id: &TenantId) -> Result<Option<Record>> {
    Ok(crate::cas::read_json(store, &record_key(id))?.map(|(r, _)| r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &'static str)]) -> Result<Option<Webhook>> {
        let map: std::collections::HashMap<&str, &'static str> = pairs.iter().copied().collect();
        Webhook::parse(|k| map.get(k).copied())
    }

    #[test]
    fn settings_name_the_bad_variable() {
        assert!(parse(&[]).unwrap().is_none());
        let gh = parse(&[
            (
                "BUILD_WEBHOOK_URL",
                "https://api.github.com/repos/o/r/dispatches",
            ),
            ("BUILD_WEBHOOK_SECRET", "tok"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(gh.format, Format::Github);
        assert!(
            !format!("{gh:?}").contains("tok"),
            "the secret is not logged"
        );
        let e = parse(&[("BUILD_WEBHOOK_URL", "ftp://x")]).unwrap_err();
        assert!(e.to_string().contains("BUILD_WEBHOOK_URL"), "{e}");
        let e = parse(&[("BUILD_WEBHOOK_URL", "http://127.0.0.1:9/")]).unwrap_err();
        assert!(e.to_string().contains("BUILD_WEBHOOK_SECRET"), "{e}");
    }

    #[test]
    fn signatures_verify_only_the_signed_body() {
        let sig = signature("s3cret", b"{\"tenants\":[\"acme\"]}");
        assert!(verify("s3cret", b"{\"tenants\":[\"acme\"]}", &sig));
        assert!(!verify("s3cret", b"{\"tenants\":[\"other\"]}", &sig));
        assert!(!verify("other", b"{\"tenants\":[\"acme\"]}", &sig));
    }
}
