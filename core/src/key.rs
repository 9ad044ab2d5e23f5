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

/// A plain name of 1–`max` ASCII letters, digits, `-` and `_` (a theme, a rollout id): one key
/// segment, the same in a folder and a bucket.
pub fn is_plain(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
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

/// The fixed keys of the data-root layout (the README's "Data root layout"). Tenant keys take
/// a validated [`crate::TenantId`], so no key is ever built from unvalidated input.
pub mod layout {
    use super::Key;
    use crate::name::TenantId;

    fn key(s: String) -> Key {
        Key::new(&s).expect("layout keys are built from validated parts")
    }

    pub fn registry() -> Key {
        key("config/t8k/tenants.json".into())
    }
    /// The folder of per-tenant registry entries: `{id}` (JSON), without a suffix so that
    /// keys sort as ids do and a listing pages in id order.
    pub fn tenant_entries() -> Key {
        key("config/t8k/tenants".into())
    }
    pub fn tenant_entry(id: &TenantId) -> Key {
        key(format!("config/t8k/tenants/{id}"))
    }
    /// The places of `max_tenants` (`{n}.json`).
    pub fn slots() -> Key {
        key("config/t8k/slots".into())
    }
    pub fn slot(n: u64) -> Key {
        key(format!("config/t8k/slots/{n}.json"))
    }
    /// A hint: the first place never handed out.
    pub fn slots_high_water() -> Key {
        key("config/t8k/slots-next.json".into())
    }
    /// Host → tenant keys (`{host}.json`); the host is checked by `registry::host_keys`.
    pub fn host_keys() -> Key {
        key("config/t8k/hosts".into())
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
    /// Sign-ups awaiting email verification.
    pub fn pending_dir() -> Key {
        key("config/t8k/pending".into())
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
    /// A tenant's daily usage snapshots (`{YYYY-MM}.json`, `t8k usage snapshot`).
    pub fn usage_dir(id: &TenantId) -> Key {
        key(format!("stats/{id}/usage"))
    }
    /// The installation's daily totals (`{YYYY-MM}.json`, `t8k usage snapshot`).
    pub fn growth_dir() -> Key {
        key("stats/_growth".into())
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
    /// A build request (`t8k build --queued` serves it).
    pub fn build_request(id: &TenantId) -> Key {
        key(format!("queue/builds/{id}"))
    }
    /// Who builds the tenant now (`t8k worker`, the Lambda builder).
    pub fn build_lease(id: &TenantId) -> Key {
        key(format!("queue/leases/{id}"))
    }
    /// Published deploys, their manifests and the live pointer (when the data root is also
    /// the bundle store, the default).
    pub fn sites_dir(id: &TenantId) -> Key {
        key(format!("sites/{id}"))
    }
    /// The edge map: host → {tenant, deploy}.
    pub fn routes() -> Key {
        key("routes.json".into())
    }

    /// One family of keys that belongs to a tenant: a folder of objects or a single object,
    /// and the name it gets inside the tenant's trash folder.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Family {
        pub key: Key,
        pub folder: bool,
        pub trash_name: &'static str,
    }

    /// **Everything keyed by a tenant's id**, in one list: delete moves all of it to the
    /// trash, restore brings all of it back, so nothing of a deleted tenant survives into a new
    /// tenant of the same name. A feature that stores something per tenant adds its family
    /// here and to [`owner_of`] (a test walks a fully used data root and fails on any key
    /// that [`owner_of`] does not classify).
    pub fn tenant_families(id: &TenantId) -> Vec<Family> {
        let f = |key: Key, folder, trash_name| Family {
            key,
            folder,
            trash_name,
        };
        vec![
            f(tenant_config_dir(id), true, "config"),
            f(db_dir(id), true, "db"),
            f(media_dir(id), true, "media"),
            f(stats_dir(id), true, "stats"),
            f(events_dir(id), true, "events"),
            f(sites_dir(id), true, "sites"),
            f(build_request(id), false, "queue-build"),
            f(build_lease(id), false, "queue-lease"),
            f(pending_signup(id), false, "pending-signup.json"),
            f(key(format!("build/{id}")), true, "build"),
            f(key(format!("build/{id}.build.json")), false, "build.json"),
            f(
                key(format!("build/{id}.history.jsonl")),
                false,
                "build-history.jsonl",
            ),
            f(key(format!("build/{id}.pages")), false, "build.pages"),
        ]
    }

    /// Who a key of the data root belongs to.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Owner {
        /// Keyed by this tenant's id: one of [`tenant_families`].
        Tenant(String),
        /// Shared by the installation (registry, secrets, outbox, trash, edge map …).
        Installation,
    }

    /// Classifies a key of the data root, or `None` for a key family no code has declared —
    /// which a test treats as a bug: a new per-tenant family must join [`tenant_families`].
    pub fn owner_of(key: &Key) -> Option<Owner> {
        let parts: Vec<&str> = key.as_str().split('/').collect();
        let tenant = |id: &str| Some(Owner::Tenant(id.to_owned()));
        match parts.as_slice() {
            ["config", "t8k", "pending", file] => tenant(file.strip_suffix(".json")?),
            ["config", "t8k", ..] => Some(Owner::Installation),
            ["config" | "db" | "media" | "stats" | "events", id, _, ..] => tenant(id),
            ["queue", "builds" | "leases", id] => tenant(id),
            // Underscore-led names are never tenant ids: `_main` (the installation's own site),
            // `_shared` (assets every tenant uses). Everything else under sites/ and build/ is
            // a tenant's.
            ["sites" | "build", shared, ..] if shared.starts_with('_') => Some(Owner::Installation),
            ["sites", id, _, ..] => tenant(id),
            ["build", name, ..] => tenant(
                name.strip_suffix(".build.json")
                    .or_else(|| name.strip_suffix(".history.jsonl"))
                    .or_else(|| name.strip_suffix(".pages"))
                    .unwrap_or(name),
            ),
            // Image variants are shared by every tenant with the same original.
            // Published theme versions, rollouts and maintenance notices are the platform's.
            ["routes.json"]
            | [
                "trash" | "outbox" | "t8k-probe" | "images" | "themes" | "rollouts" | "notices",
                ..,
            ] => Some(Owner::Installation),
            _ => None,
        }
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
    fn every_tenant_family_is_classified_as_that_tenants() {
        let id = crate::TenantId::trusted("acme").unwrap();
        for f in layout::tenant_families(&id) {
            let inner = if f.folder {
                f.key.join("x/y.bin").unwrap()
            } else {
                f.key.clone()
            };
            assert_eq!(
                layout::owner_of(&inner),
                Some(layout::Owner::Tenant("acme".into())),
                "{inner}"
            );
        }
        for shared in [
            "config/t8k/tenants.json",
            "config/t8k/secrets.json",
            "routes.json",
            "build/_main/index.html",
            "build/_main.build.json",
            "sites/_main/live.json",
            "sites/_shared/assets/ab.css",
            "trash/acme-1/db/site.db",
            "outbox/x.eml",
        ] {
            let k = Key::new(shared).unwrap();
            assert_eq!(
                layout::owner_of(&k),
                Some(layout::Owner::Installation),
                "{shared}"
            );
        }
        assert_eq!(
            layout::owner_of(&Key::new("newfeature/acme/x").unwrap()),
            None
        );
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
