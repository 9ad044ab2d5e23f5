//! What each deployed function may do in the data root, in one table: the AWS template's
//! per-function IAM roles are written from it (`t8k deploy aws`), and the policy test runs
//! every function's routes against a recording store and checks each request it makes is
//! granted here — and each grant here is used — so a role is exactly as wide as its code.
//!
//! Patterns are data-root keys where `*` stands for any run of characters (`/` included), as
//! in an IAM resource ARN.

use crate::router::Function;

/// One kind of S3 request, named after the IAM action that allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `GetObject` and `HeadObject` (and the source of a copy).
    Read,
    /// `PutObject` (conditional or not, and the target of a copy).
    Write,
    /// `DeleteObject`.
    Delete,
    /// `ListObjectsV2` under a prefix (ending in `/`).
    List,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Read, Op::Write, Op::Delete, Op::List];

    pub fn action(self) -> &'static str {
        match self {
            Op::Read => "s3:GetObject",
            Op::Write => "s3:PutObject",
            Op::Delete => "s3:DeleteObject",
            Op::List => "s3:ListBucket",
        }
    }
}

/// Something deployed as a Lambda function of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// An HTTP function (`t8k-auth`, …), behind the HTTP API.
    Http(Function),
    /// `t8k-build`: builds and publishes queued tenants.
    Build,
    /// `t8k` itself, running the CLI's scheduled commands (rollup, domain checks, …).
    Jobs,
}

impl Unit {
    pub const ALL: [Unit; 9] = [
        Unit::Http(Function::Auth),
        Unit::Http(Function::Register),
        Unit::Http(Function::Quota),
        Unit::Http(Function::Content),
        Unit::Http(Function::Users),
        Unit::Http(Function::Admin),
        Unit::Http(Function::Beacon),
        Unit::Build,
        Unit::Jobs,
    ];

    /// The binary's name, which is also its function's name in the template.
    pub fn binary(self) -> &'static str {
        match self {
            Unit::Http(f) => f.binary(),
            Unit::Build => "t8k-build",
            Unit::Jobs => "t8k",
        }
    }

    /// What it may do, as (operation, key patterns). Each function may touch any tenant's
    /// keys of a kind (IAM cannot tell which tenant a request is for; the code checks the
    /// `Host` and the session), but only the kinds its code uses.
    #[rustfmt::skip]
    pub fn grants(self) -> &'static [(Op, &'static [&'static str])] {
        use Function as F;
        use Op::*;
        match self {
            Unit::Http(F::Auth) => &[
                (Read, &[INSTALLATION, ENTRIES, HOSTS, ENV, SITE_DB, CHALLENGES]),
                // Sessions end by a bump in the user's row (or env.json for the built-ins),
                // and a write to site.db queues a build.
                (Write, &[ENV, SITE_DB, BUILDS]),
            ],
            Unit::Http(F::Register) => &[
                (Read, &[INSTALLATION, ENTRIES, HOSTS, SECRETS, SLOTS_NEXT, PENDING, ROUTES]),
                // A new tenant's keys are checked to be empty: nothing of a deleted namesake
                // may reach it.
                (Read, &[SITE_DB, BUILDS, LEASES, BUILD_META]),
                (Write, &[INSTALLATION, ENTRIES, HOSTS, SLOTS_NEXT, SLOTS, PENDING, OUTBOX]),
                (Write, &[ENV, SITE_DB, BUILDS]),
                // A place is given back when a creation fails; the places are listed when
                // the installation is nearly full.
                (Delete, &[PENDING, SLOTS]),
                (List, &[BUILD_DIRS, CONFIG_DIRS, DB_DIRS, EVENT_DIRS, MEDIA_DIRS, SITE_DIRS]),
                (List, &[STATS_DIRS, SLOTS_DIR]),
            ],
            Unit::Http(F::Quota) => &[
                (Read, &[INSTALLATION, ENTRIES, ENV, SITE_DB, BANDWIDTH]),
                (List, &[DB_DIRS, MEDIA_DIRS]),
            ],
            Unit::Http(F::Content) => &[
                (Read, &[INSTALLATION, ENTRIES, ENV, SITE_DB, ANALYTICS_DB, MEDIA, IMAGE_INDEX]),
                (Read, &[BUILDS, LIVE]),
                (Write, &[SITE_DB, MEDIA, BUILDS]),
                (Delete, &[MEDIA]),
                (List, &[DB_DIRS, MEDIA_DIRS]),
            ],
            Unit::Http(F::Users) => &[
                (Read, &[INSTALLATION, ENTRIES, HOSTS, SECRETS, ENV, SITE_DB, ROUTES, CERTS]),
                (Read, &[BACKUP_STATUS]),
                (Write, &[INSTALLATION, ENTRIES, HOSTS, SITE_DB, BACKUP_STATUS]),
                (Delete, &[HOSTS, CERTS]),
                (List, &[NOTICES]),
            ],
            Unit::Http(F::Admin) => &[
                (Read, &[INSTALLATION, ENTRIES, HOSTS, SECRETS, ENV, SITE_DB, ANALYTICS_DB]),
                (Read, &[NOTICE, BUILDS, ROUTES, LIVE, STATS, IMAGE_INDEX]),
                (Write, &[INSTALLATION, ENTRIES, SECRETS, ENV, NOTICE, OUTBOX, BUILDS]),
                (List, &[CONFIG_DIRS, PENDING_DIR, ENTRIES_DIR, DB_DIRS, MEDIA_DIRS, NOTICES]),
                (List, &[QUEUE_DIR, ROLLOUTS, DEPLOYS]),
            ],
            Unit::Http(F::Beacon) => &[
                (Read, &[INSTALLATION, ENTRIES, SALTS]),
                // The day's salt is made by the first beacon of the day.
                (Write, &[SALTS, EVENTS]),
            ],
            Unit::Build => &[
                (Read, &[INSTALLATION, ENTRIES, ENV, SITE_DB, MEDIA, IMAGE_INDEX, NOTICE]),
                (Read, &[BUILDS, LEASES, ROUTES, LIVE, THEMES]),
                // Bundles go to `sites/` of the data root (the bucket CloudFront serves).
                (Write, &[LEASES, ROUTES, SITES, IMAGES]),
                (Delete, &[BUILDS]),
                (List, &[ENTRIES_DIR, NOTICES, QUEUE_DIR, SHARED_DIR]),
            ],
            // The operator's scheduled commands (rollup, domain checks, backups, usage,
            // routes): the same reach as `t8k` on the one-box install's timers.
            Unit::Jobs => &[
                (Read, &["*"]),
                (Write, &["*"]),
                (Delete, &["*"]),
                (List, &["*"]),
            ],
        }
    }

    /// True when this unit's grants allow `op` on `key`.
    pub fn allows(self, op: Op, key: &str) -> bool {
        self.grants()
            .iter()
            .filter(|(o, _)| *o == op)
            .any(|(_, patterns)| patterns.iter().any(|p| matches(p, key)))
    }
}

// Key patterns of the data root (see `t8k_core::key::layout`).
const INSTALLATION: &str = "config/t8k/tenants.json";
const ENTRIES: &str = "config/t8k/tenants/*";
const ENTRIES_DIR: &str = "config/t8k/tenants/";
const HOSTS: &str = "config/t8k/hosts/*";
const SECRETS: &str = "config/t8k/secrets.json";
const SALTS: &str = "config/t8k/analytics-salts.json";
const SLOTS_NEXT: &str = "config/t8k/slots-next.json";
const SLOTS: &str = "config/t8k/slots/*";
const SLOTS_DIR: &str = "config/t8k/slots/";
const PENDING: &str = "config/t8k/pending/*";
const PENDING_DIR: &str = "config/t8k/pending/";
const ENV: &str = "config/*/env.json";
const CONFIG_DIRS: &str = "config/*/";
const SITE_DB: &str = "db/*/site.db";
const ANALYTICS_DB: &str = "db/*/analytics.db";
const DB_DIRS: &str = "db/*/";
const MEDIA: &str = "media/*";
const MEDIA_DIRS: &str = "media/*/";
const IMAGE_INDEX: &str = "images/index/*";
const EVENTS: &str = "events/*";
const EVENT_DIRS: &str = "events/*/";
const STATS: &str = "stats/*";
const STATS_DIRS: &str = "stats/*/";
const BANDWIDTH: &str = "stats/*/bandwidth/*";
const BACKUP_STATUS: &str = "stats/*/backup.json";
const BUILDS: &str = "queue/builds/*";
const QUEUE_DIR: &str = "queue/builds/";
const LEASES: &str = "queue/leases/*";
const BUILD_META: &str = "build/*";
const BUILD_DIRS: &str = "build/*/";
const SITE_DIRS: &str = "sites/*/";
const LIVE: &str = "sites/*/live.json";
const DEPLOYS: &str = "sites/*/_deploys/";
const ROUTES: &str = "routes.json";
const SITES: &str = "sites/*";
const SHARED_DIR: &str = "sites/_shared/";
const IMAGES: &str = "images/*";
const THEMES: &str = "themes/*";
const CERTS: &str = "certs/*";
const CHALLENGES: &str = "acme/challenges/*";
const NOTICE: &str = "notices/*";
const NOTICES: &str = "notices/";
const ROLLOUTS: &str = "rollouts/";
const OUTBOX: &str = "outbox/*";

/// IAM's wildcard match: `*` is any run of characters, `?` any one.
pub fn matches(pattern: &str, key: &str) -> bool {
    let (p, k) = (pattern.as_bytes(), key.as_bytes());
    let (mut pi, mut ki) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ki < k.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == k[ki]) {
            pi += 1;
            ki += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ki));
            pi += 1;
        } else if let Some((sp, sk)) = star {
            pi = sp + 1;
            ki = sk + 1;
            star = Some((sp, sk + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(matches("events/*", "events/acme/2026/x.jsonl"));
        assert!(matches("db/*/site.db", "db/acme/site.db"));
        assert!(matches("db/*/site.db", "db/a/b/site.db"), "* crosses /");
        assert!(!matches("db/*/site.db", "db/acme/analytics.db"));
        assert!(!matches("events/*", "event/x"));
        assert!(matches("config/t8k/tenants/", "config/t8k/tenants/"));
        assert!(!matches("config/t8k/tenants/", "config/t8k/tenants/acme"));
        assert!(matches("a?c", "abc") && !matches("a?c", "ac"));
    }
}
