//! Signed tokens: `base64url(payload JSON) . base64url(HMAC-SHA256(tenant secret, payload))`.
//! The payload names the tenant, so a token minted for one tenant is refused at another even
//! before the signature is checked against that tenant's own secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use t8k_core::users::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// What the token is for ("session").
    pub kind: String,
    pub tenant: String,
    pub user: String,
    pub role: Role,
    /// Unix seconds.
    pub exp: i64,
    /// The account's token version when issued; bumping it revokes the token.
    pub ver: i64,
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

pub fn sign(secret: &str, claims: &Claims) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let mut m = mac(secret);
    m.update(payload.as_bytes());
    format!("{payload}.{}", B64.encode(m.finalize().into_bytes()))
}

/// The tenant a token claims, without verifying it (to pick the secret, and to refuse tokens
/// of other tenants early).
pub fn claimed_tenant(token: &str) -> Option<String> {
    let (payload, _) = token.split_once('.')?;
    let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    Some(claims.tenant)
}

/// Verifies signature and expiry; the caller checks tenant and version.
pub fn verify(secret: &str, token: &str, now: i64) -> Option<Claims> {
    if token.len() > 4096 {
        return None;
    }
    let (payload, sig) = token.split_once('.')?;
    let mut m = mac(secret);
    m.update(payload.as_bytes());
    m.verify_slice(&B64.decode(sig).ok()?).ok()?;
    let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    (claims.exp > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            kind: "session".into(),
            tenant: "acme".into(),
            user: "admin".into(),
            role: Role::Admin,
            exp: 2000,
            ver: 0,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let t = sign("s3cret", &claims());
        assert_eq!(verify("s3cret", &t, 1000), Some(claims()));
        assert_eq!(claimed_tenant(&t).as_deref(), Some("acme"));
        assert_eq!(verify("other", &t, 1000), None, "another tenant's secret");
        assert_eq!(verify("s3cret", &t, 2000), None, "expired");
        let (p, s) = t.split_once('.').unwrap();
        let forged = format!(
            "{}.{s}",
            B64.encode(
                serde_json::to_vec(&Claims {
                    role: Role::Admin,
                    user: "mallory".into(),
                    ..claims()
                })
                .unwrap()
            )
        );
        assert_eq!(verify("s3cret", &forged, 1000), None);
        assert_eq!(verify("s3cret", &format!("{p}."), 1000), None);
        assert_eq!(verify("s3cret", "garbage", 1000), None);
    }
}
