//! Password hashing: Argon2id with m = 19 MiB, t = 2, p = 1 (the OWASP baseline), stored as
//! PHC strings. Clear-text passwords only ever pass through these functions.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the password policy, then hashes.
pub fn hash(password: &str) -> Result<String> {
    check_policy(password)?;
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| Error::Password(e.to_string()))?;
    let salt = SaltString::encode_b64(&raw).map_err(|e| Error::Password(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

pub fn check_policy(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(Error::invalid(
            "password",
            format!("it has {n} characters; use at least {MIN_LEN}"),
        ));
    }
    if password.len() > MAX_LEN {
        return Err(Error::invalid(
            "password",
            format!("it is longer than {MAX_LEN} bytes"),
        ));
    }
    Ok(())
}

/// Verifies `password` against a PHC string. An empty or unparsable hash never matches.
pub fn verify(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the same time as a real verification, for accounts that do not exist, so that
/// response times do not reveal which user names are valid.
pub fn verify_dummy(password: &str) {
    use std::sync::OnceLock;
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc =
        DUMMY.get_or_init(|| hash("dummy-password-for-timing").expect("constant password hashes"));
    let _ = verify(phc, password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "wrong horse"));
        assert!(!verify("", "anything"));
        assert_ne!(h, hash("correct horse").unwrap(), "salts differ");
    }

    #[test]
    fn policy() {
        assert!(hash("short").is_err());
        assert!(hash(&"x".repeat(MAX_LEN + 1)).is_err());
    }
}
