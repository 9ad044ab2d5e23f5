//! The typed errors of t8k-core. Each message states what went wrong, neutrally: core does not
//! know whether a person reads it in a terminal or an API client, so the remedy (a command to
//! run, a route to call) is worded by each front end — the CLI's hints (`src/hint.rs`) and the
//! functions' error mapping (`functions/src/error.rs`).

use crate::name::NameError;
use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Name(#[from] NameError),

    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),

    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),

    #[error("no installation at {root}")]
    NotInstalled { root: String },

    #[error("an installation already exists at {root} ({key})")]
    AlreadyInstalled { root: String, key: String },

    #[error("tenant '{0}' is already taken; choose another name")]
    AlreadyTaken(String),

    #[error("tenant '{0}' does not exist")]
    NoSuchTenant(String),

    #[error("{host} is already a host of tenant '{tenant}'")]
    HostTaken { host: String, tenant: String },

    #[error("story fragment {0:?} does not exist")]
    NoSuchPage(String),

    #[error(
        "story fragment {0:?} changed since it was opened (someone else saved it, or another tab); reload it and make your change again"
    )]
    EditConflict(String),

    #[error("there is no menu named {0:?}")]
    NoSuchMenu(String),

    #[error("there is no media file {0}")]
    NoSuchMedia(i64),

    #[error("tenant '{id}' is being {what} by another process; try again in a few seconds")]
    Busy { id: String, what: &'static str },

    #[error("the installation is full: max_tenants is {max} and {used} tenants exist")]
    MaxTenants { max: u64, used: u64 },

    #[error("multi-tenant mode is off, so this installation holds exactly one tenant")]
    SingleTenantMode,

    #[error("{limit} limit reached for tenant '{tenant}': {detail}")]
    Quota {
        tenant: String,
        limit: crate::quota::QuotaKind,
        detail: String,
    },

    #[error("{limit} {wanted} is below current usage of {used} for tenant '{tenant}'")]
    BelowUsage {
        tenant: String,
        limit: crate::quota::QuotaKind,
        used: String,
        wanted: String,
    },

    #[error("no account {name:?} in tenant '{tenant}'")]
    NoSuchUser { tenant: String, name: String },

    #[error("invalid {what}: {message}")]
    Invalid { what: String, message: String },

    #[error("{file} is not valid: {message}")]
    Corrupt { file: String, message: String },

    #[error("this confirmation link for '{0}' was already used or replaced by a newer sign-up")]
    VerificationUsed(String),

    #[error("this confirmation link for '{0}' has expired and the name was released")]
    VerificationExpired(String),

    #[error("{0} is not empty")]
    FolderNotEmpty(String),

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

/// An error and every cause under it, `: `-separated (for logs, and where the causes carry
/// the useful part, like a template's line and column).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
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
