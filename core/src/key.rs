//! Validated data-root keys. A key is the same string on disk (a relative path) and in a bucket
//! (an object key), so a `Key` can never hold anything that would escape the root or mean
//! something different on the two: no `..`, no empty or dot-led segments, no backslashes, no
//! NUL or control characters.

use std::fmt;

use crate::error::Error;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(String);

impl Key {
    /// Parses a `/`-separated key, rejecting anything that is not a plain relative path.
    pub fn new(key: &str) -> Result<Key, Error> {
        let key = key.trim_end_matches('/');
        if key.is_empty() {
            return Err(Error::invalid("key", "an empty key names nothing"));
        }
        for segment in key.split('/') {
            check_segment(segment)?;
        }
        Ok(Key(key.to_owned()))
    }

    /// Appends one or more segments (`a/b` is allowed), each validated.
    pub fn join(&self, rest: &str) -> Result<Key, Error> {
        Key::new(&format!("{}/{}", self.0, rest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The part of `self` below `prefix`, if `self` lies under it.
    pub fn strip_prefix(&self, prefix: &Key) -> Option<&str> {
        self.0.strip_prefix(prefix.as_str())?.strip_prefix('/')
    }
}

fn check_segment(segment: &str) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::invalid("key", format!("segment {segment:?} {why}")));
    if segment.is_empty() {
        return bad("is empty (double or leading slash)");
    }
    if segment.starts_with('.') {
        return bad("starts with a dot (hidden files, `.` and `..` are not keys)");
    }
    if segment
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == ':')
    {
        return bad("contains a control character, backslash or colon");
    }
    Ok(())
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fixed keys of the data-root layout (see DESIGN.md). Tenant keys take a validated
/// [`crate::TenantId`], so no key is ever built from unvalidated input.
pub mod layout {
    use super::Key;
    use crate::name::TenantId;

    fn key(s: String) -> Key {
        Key::new(&s).expect("layout keys are built from validated parts")
    }

    pub fn registry() -> Key {
        key("config/t8k/tenants.json".into())
    }
    pub fn tenant_config_dir(id: &TenantId) -> Key {
        key(format!("config/{id}"))
    }
    pub fn env_json(id: &TenantId) -> Key {
        key(format!("config/{id}/env.json"))
    }
    pub fn db_dir(id: &TenantId) -> Key {
        key(format!("db/{id}"))
    }
    pub fn site_db(id: &TenantId) -> Key {
        key(format!("db/{id}/site.db"))
    }
    pub fn analytics_db(id: &TenantId) -> Key {
        key(format!("db/{id}/analytics.db"))
    }
    pub fn media_dir(id: &TenantId) -> Key {
        key(format!("media/{id}"))
    }
    /// The installation's own secrets (signing key for verification links, admin API key hash).
    pub fn installation_secrets() -> Key {
        key("config/t8k/secrets.json".into())
    }
    /// A sign-up awaiting email verification: the new tenant's details, password hashed.
    pub fn pending_signup(id: &TenantId) -> Key {
        key(format!("config/t8k/pending/{id}.json"))
    }
    /// Mail written instead of sent when no SMTP server is configured.
    pub fn outbox() -> Key {
        key("outbox".into())
    }
    /// Bytes served per month (`t8k serve` counts them).
    pub fn bandwidth_dir(id: &TenantId) -> Key {
        key(format!("stats/{id}/bandwidth"))
    }
    pub fn stats_dir(id: &TenantId) -> Key {
        key(format!("stats/{id}"))
    }
    /// Today's and yesterday's analytics salts.
    pub fn analytics_salts() -> Key {
        key("config/t8k/analytics-salts.json".into())
    }
    /// A tenant's raw analytics events (`{day}/{time}-{random}.jsonl`).
    pub fn events_dir(id: &TenantId) -> Key {
        key(format!("events/{id}"))
    }
    pub fn trash() -> Key {
        key("trash".into())
    }
    /// The per-tenant folders that delete moves to the trash and restore moves back.
    pub fn tenant_dirs(id: &TenantId) -> [Key; 4] {
        [
            tenant_config_dir(id),
            db_dir(id),
            media_dir(id),
            stats_dir(id),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        assert_eq!(
            Key::new("config/t8k/tenants.json").unwrap().as_str(),
            "config/t8k/tenants.json"
        );
        assert_eq!(Key::new("media/acme/").unwrap().as_str(), "media/acme");
    }

    #[test]
    fn rejects_escapes_and_oddities() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "a/./b",
            "a\\b",
            "a/\0",
            "c:/x",
            "a/.hidden",
        ] {
            assert!(Key::new(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn join_validates_the_added_part() {
        let base = Key::new("media/acme").unwrap();
        assert!(base.join("../other").is_err());
        assert_eq!(
            base.join("ab/cd.png").unwrap().as_str(),
            "media/acme/ab/cd.png"
        );
        assert_eq!(
            base.join("ab/cd.png").unwrap().strip_prefix(&base),
            Some("ab/cd.png")
        );
    }
}
