//! The typed errors of t8k-core. Every message says what went wrong and how to fix it, because
//! the CLI and the functions show them to people as they are.

use crate::name::NameError;
use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Name(#[from] NameError),

    #[error(
        "no installation at {root}: run `t8k init --multi --domain example.com` first (or point --root / T8K_ROOT at an existing data root)"
    )]
    NotInstalled { root: String },

    #[error(
        "an installation already exists at {root} ({key}); use another --root, or manage this one with `t8k tenant ...`"
    )]
    AlreadyInstalled { root: String, key: String },

    #[error("tenant '{0}' is already taken; choose another name")]
    AlreadyTaken(String),

    #[error("tenant '{0}' does not exist; `t8k tenant list` shows the tenants")]
    NoSuchTenant(String),

    #[error("story fragment {0:?} does not exist")]
    NoSuchPage(String),

    #[error("there is no menu named {0:?}; GET /api/menus lists the menus")]
    NoSuchMenu(String),

    #[error("there is no media file {0}; GET /api/media lists the files")]
    NoSuchMedia(i64),

    #[error("tenant '{id}' is being {what} by another process; try again in a few seconds")]
    Busy { id: String, what: &'static str },

    #[error(
        "the installation is full: max_tenants is {max} and {used} tenants exist; raise it with MAX_TENANTS or `max_tenants` in config/t8k/tenants.json"
    )]
    MaxTenants { max: u64, used: u64 },

    #[error(
        "multi-tenant mode is off, so this installation holds exactly one tenant; enable it with ENABLE_MULTI_TENANT=true or `enable_multi_tenant: true` in config/t8k/tenants.json"
    )]
    SingleTenantMode,

    #[error(
        "{limit} limit reached for tenant '{tenant}': {detail}; raise it with `t8k tenant set-quota {tenant} ...`"
    )]
    Quota {
        tenant: String,
        limit: crate::quota::QuotaKind,
        detail: String,
    },

    #[error("invalid {what}: {message}")]
    Invalid { what: String, message: String },

    #[error("{file} is not valid: {message}")]
    Corrupt { file: String, message: String },

    #[error(
        "this confirmation link for '{0}' was already used or replaced by a newer sign-up; if the site exists, log in there, else sign up again"
    )]
    VerificationUsed(String),

    #[error(
        "this confirmation link for '{0}' has expired (links last 48 hours) and the name was released; sign up again"
    )]
    VerificationExpired(String),

    #[error("nothing to restore for tenant '{0}': no copy of it under trash/")]
    NothingInTrash(String),

    #[error("database error in {db}: {source}")]
    Db { db: String, source: rusqlite::Error },

    #[error("password hashing failed: {0}")]
    Password(String),

    #[error("{}", format_problems(.0))]
    Import(Vec<FileProblem>),

    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }

    pub fn db(db: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
        let db = db.into();
        move |source| Error::Db { db, source }
    }
}

/// A problem in one input file, at a 1-based line.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FileProblem {
    pub path: String,
    pub line: usize,
    pub message: String,
}

fn format_problems(problems: &[FileProblem]) -> String {
    let mut out = format!(
        "{} problem{} found, nothing was imported; fix {} and run the import again:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "it" } else { "them" }
    );
    for p in problems {
        out.push_str(&format!("\n  {}:{}: {}", p.path, p.line, p.message));
    }
    out
}
