//! The installation's own secrets, `config/t8k/secrets.json`: the key that signs sign-up
//! verification links, and the SHA-256 of the installation admin API key (a credential
//! separate from every tenant's users). Created on first use, create-only, so concurrent
//! first users agree on one secret.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cas::{self, read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::layout;
use crate::lifecycle::Installation;
use crate::store::{Condition, StoreError};
use crate::tenant_config::new_secret;

/// Admin API keys start with this, so a leaked one is recognisable in logs and scanners.
pub const ADMIN_KEY_PREFIX: &str = "t8k_admin_";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Secrets {
    pub signing_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_key_sha256: Option<String>,
    /// Bumped by an operator's logout: browser sessions of the installation admin signed
    /// with an older value are refused.
    #[serde(default)]
    pub operator_epoch: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Secrets {
    /// True when `key` is the admin API key these secrets hold the hash of.
    pub fn admin_key_matches(&self, key: &str) -> bool {
        self.admin_key_sha256
            .as_deref()
            .is_some_and(|want| key.starts_with(ADMIN_KEY_PREFIX) && same(&sha256_hex(key), want))
    }
}

/// SHA-256 as lowercase hex: how t8k stores a credential it must recognise but never keep
/// (admin keys, sign-up nonces) and names content by its bytes.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Compares two strings in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Installation {
    /// The secrets if the installation has any yet, creating nothing (for checks that a
    /// refused request must not turn into a write).
    pub fn existing_secrets(&self) -> Result<Option<Secrets>> {
        Ok(read_json::<Secrets>(self.store(), &layout::installation_secrets())?.map(|(s, _)| s))
    }

    /// The secrets, created (once, whoever comes first) if the installation has none yet.
    pub fn secrets(&self) -> Result<Secrets> {
        let key = layout::installation_secrets();
        if let Some((s, _)) = read_json::<Secrets>(self.store(), &key)? {
            return Ok(s);
        }
        self.registry()?;
        let fresh = Secrets {
            signing_secret: new_secret(),
            admin_key_sha256: None,
            operator_epoch: 0,
            extra: Map::new(),
        };
        match self
            .store()
            .put(&key, &to_json_bytes(&fresh), Condition::IfAbsent)
        {
            Ok(_) => Ok(fresh),
            Err(StoreError::PreconditionFailed { .. }) => read_json(self.store(), &key)?
                .map(|(s, _)| s)
                .ok_or_else(|| Error::Corrupt {
                    file: key.to_string(),
                    message: "vanished while being created".into(),
                }),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes a new admin API key, replacing any earlier one, and returns it (shown once: only
    /// its hash is kept).
    pub fn rotate_admin_key(&self) -> Result<String> {
        self.secrets()?;
        let key = format!("{ADMIN_KEY_PREFIX}{}", new_secret());
        let hash = sha256_hex(&key);
        cas::update_json(
            self.store(),
            &layout::installation_secrets(),
            || self.not_installed(),
            |s: &mut Secrets| {
                s.admin_key_sha256 = Some(hash.clone());
                Ok(Some(()))
            },
        )?;
        Ok(key)
    }

    /// Ends every browser session of the installation admin (see [`Secrets::operator_epoch`]).
    pub fn end_operator_sessions(&self) -> Result<()> {
        self.secrets()?;
        cas::update_json(
            self.store(),
            &layout::installation_secrets(),
            || self.not_installed(),
            |s: &mut Secrets| {
                s.operator_epoch += 1;
                Ok(Some(()))
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_is_exact() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
