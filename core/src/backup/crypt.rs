//! Encryption with age (age-encryption.org/v1): an encrypted repository has its own X25519
//! identity, stored sealed with the operator's passphrase (age's scrypt recipient) in
//! `keys/identity.age`; every object and manifest is encrypted to that identity's recipient.
//! So the passphrase's slow key derivation runs once per command, not once per object, and a
//! repository can be read without t8k: `age -d keys/identity.age > id.txt` (the passphrase),
//! then `age -d -i id.txt objects/ab/ab…` gives a chunk back.

use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};

use super::BackupError;

/// A passphrase, never printed (read from a file or `T8K_BACKUP_PASSPHRASE`, never from
/// the command line).
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(text: &str) -> Secret {
        Secret(SecretString::from(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// scrypt's cost for the passphrase (2^16: about a quarter of a second here, paid by every
/// command that opens the repository; age's own default, 2^18, costs a second).
const WORK_FACTOR: u8 = 16;

/// The repository's identity, unsealed.
pub struct Crypt {
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
}

fn failed(e: impl std::fmt::Display) -> crate::Error {
    BackupError::Crypto(e.to_string()).into()
}

impl Crypt {
    /// A new identity, and its text sealed with `passphrase` (for `keys/identity.age`).
    pub fn generate(passphrase: &Secret) -> crate::Result<(Crypt, Vec<u8>)> {
        let identity = age::x25519::Identity::generate();
        let text = identity.to_string();
        let mut lock = age::scrypt::Recipient::new(passphrase.0.clone());
        lock.set_work_factor(WORK_FACTOR);
        let sealed = age::encrypt(&lock, text.expose_secret().as_bytes()).map_err(failed)?;
        let recipient = identity.to_public();
        Ok((
            Crypt {
                identity,
                recipient,
            },
            sealed,
        ))
    }

    /// The identity from `keys/identity.age`; a wrong passphrase says so.
    pub fn unseal(sealed: &[u8], passphrase: &Secret) -> crate::Result<Crypt> {
        let key = age::scrypt::Identity::new(passphrase.0.clone());
        let text = age::decrypt(&key, sealed).map_err(|_| BackupError::WrongPassphrase)?;
        let text = String::from_utf8(text).map_err(failed)?;
        let identity = age::x25519::Identity::from_str(text.trim()).map_err(failed)?;
        let recipient = identity.to_public();
        Ok(Crypt {
            identity,
            recipient,
        })
    }

    /// The public key objects are encrypted to (`age1…`).
    pub fn recipient(&self) -> String {
        self.recipient.to_string()
    }

    pub fn encrypt(&self, plain: &[u8]) -> crate::Result<Vec<u8>> {
        age::encrypt(&self.recipient, plain).map_err(failed)
    }

    pub fn decrypt(&self, sealed: &[u8]) -> crate::Result<Vec<u8>> {
        age::decrypt(&self.identity, sealed).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_with_one_passphrase_opens_with_it_only() {
        let (crypt, sealed) = Crypt::generate(&Secret::new("right horse\n")).unwrap();
        let data = crypt.encrypt(b"a page").unwrap();
        assert_ne!(data, b"a page");
        let again = Crypt::unseal(&sealed, &Secret::new("right horse")).unwrap();
        assert_eq!(again.decrypt(&data).unwrap(), b"a page");
        let wrong = Crypt::unseal(&sealed, &Secret::new("wrong horse"))
            .err()
            .unwrap();
        assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
    }
}
