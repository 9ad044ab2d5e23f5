//! Accounts of a tenant: the built-in `admin` and `editor` (their hashes live in env.json, as
//! TractStack keeps them) and named accounts in the tenant's database. `MAX_USERS` counts all
//! enabled-or-not accounts that exist; [`verify`] is the one code path that checks a password
//! for either kind.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::name::TenantId;
use crate::password;
use crate::quota::{self, Limits};
use crate::store::Store;
use crate::tenant_config::TenantConfig;
use crate::timefmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }

    /// Whether this role may do what `needed` may: an admin may do everything an editor may.
    pub fn includes(self, needed: Role) -> bool {
        self == Role::Admin || self == needed
    }

    fn parse(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::Editor
        }
    }
}

/// An account as shown to operators; never carries the hash.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub builtin: bool,
    pub enabled: bool,
    pub email: String,
    pub last_login: Option<String>,
    pub token_version: i64,
}

const BUILTINS: [(&str, Role); 2] = [("admin", Role::Admin), ("editor", Role::Editor)];

fn builtin_hash(cfg: &TenantConfig, role: Role) -> &str {
    match role {
        Role::Admin => &cfg.admin_password_hash,
        Role::Editor => &cfg.editor_password_hash,
    }
}

/// Counts accounts against MAX_USERS: each built-in account that has a password, plus every
/// named account.
pub fn count(cfg: &TenantConfig, db: &SiteDb) -> Result<u64> {
    Ok(enabled_builtins(cfg) + db.user_count()?)
}

fn enabled_builtins(cfg: &TenantConfig) -> u64 {
    BUILTINS
        .iter()
        .filter(|(_, r)| !builtin_hash(cfg, *r).is_empty())
        .count() as u64
}

/// [`count`] as an open write transaction sees it (the lock MAX_USERS is checked under).
fn count_in(tx: &rusqlite::Transaction, cfg: &TenantConfig, id: &TenantId) -> Result<u64> {
    let named: u64 = tx
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .map_err(Error::db(id.as_str()))?;
    Ok(enabled_builtins(cfg) + named)
}

pub fn list(store: &dyn Store, id: &TenantId) -> Result<Vec<Account>> {
    let cfg = TenantConfig::load(store, id)?;
    let db = SiteDb::open(store, id)?;
    let mut out: Vec<Account> = BUILTINS
        .iter()
        .map(|(name, role)| Account {
            username: (*name).to_owned(),
            role: *role,
            builtin: true,
            enabled: !builtin_hash(&cfg, *role).is_empty(),
            email: if *role == Role::Admin {
                cfg.admin_email.clone()
            } else {
                String::new()
            },
            last_login: None,
            token_version: 0,
        })
        .collect();
    let mut stmt = db
        .conn
        .prepare("SELECT username, role, disabled, email, last_login, token_version FROM users ORDER BY username")
        .map_err(db.err())?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Account {
                username: r.get(0)?,
                role: Role::parse(&r.get::<_, String>(1)?),
                builtin: false,
                enabled: !r.get::<_, bool>(2)?,
                email: r.get(3)?,
                last_login: r.get(4)?,
                token_version: r.get(5)?,
            })
        })
        .map_err(db.err())?;
    for row in rows {
        out.push(row.map_err(db.err())?);
    }
    Ok(out)
}

fn check_username(name: &str) -> Result<String> {
    let n = name.trim().to_ascii_lowercase();
    let ok_chars = n
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !(2..=32).contains(&n.len()) || !ok_chars {
        return Err(Error::invalid(
            "username",
            format!("{name:?} must be 2–32 of a–z, 0–9, '-', '_', '.'"),
        ));
    }
    if BUILTINS.iter().any(|(b, _)| *b == n) {
        return Err(Error::invalid(
            "username",
            format!("{n:?} is the name of a built-in account; choose another"),
        ));
    }
    Ok(n)
}

/// Adds a named account, refused past MAX_USERS.
pub fn add(
    store: &dyn Store,
    id: &TenantId,
    username: &str,
    role: Role,
    email: &str,
    password_text: &str,
) -> Result<()> {
    let username = check_username(username)?;
    let hash = password::hash(password_text)?;
    crate::db::with_write(store, id, |db: &mut SiteDb| {
        let err = db.err();
        let tx = db
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(Error::db(id.as_str()))?;
        // Read inside the write transaction: enabling a built-in account takes the same lock
        // (see `set_password`), so the two can never both take the last place.
        let cfg = TenantConfig::load(store, id)?;
        let limits = Limits::of(&cfg)?;
        quota::check_users(id, &limits, count_in(&tx, &cfg, id)? + 1)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM users WHERE username = ?1",
                [&username],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db(id.as_str()))?;
        if exists.is_some() {
            return Err(Error::invalid(
                "username",
                format!("{username:?} already exists in tenant '{id}'"),
            ));
        }
        tx.execute(
            "INSERT INTO users (username, email, role, password_hash, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, email.trim(), role.as_str(), hash, timefmt::now_rfc3339()],
        )
        .map_err(Error::db(id.as_str()))?;
        tx.commit().map_err(err)
    })
}

/// Sets (or first enables) an account's password. Enabling a disabled built-in account counts
/// as adding a user. Bumps the token version so existing sessions end.
pub fn set_password(
    store: &dyn Store,
    id: &TenantId,
    username: &str,
    password_text: &str,
) -> Result<()> {
    let name = username.trim().to_ascii_lowercase();
    let hash = password::hash(password_text)?;
    if let Some((_, role)) = BUILTINS.iter().find(|(b, _)| *b == name) {
        // Counted and enabled while holding the database's write transaction, the lock
        // `add_user` counts under: MAX_USERS holds when both race for the last place.
        return crate::db::with_write(store, id, |db: &mut SiteDb| {
            let tx = db
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(Error::db(id.as_str()))?;
            let cfg = TenantConfig::load(store, id)?;
            if builtin_hash(&cfg, *role).is_empty() {
                quota::check_users(id, &Limits::of(&cfg)?, count_in(&tx, &cfg, id)? + 1)?;
            }
            TenantConfig::update(store, id, |cfg| {
                match role {
                    Role::Admin => cfg.admin_password_hash = hash.clone(),
                    Role::Editor => cfg.editor_password_hash = hash.clone(),
                }
                Ok(Some(()))
            })?;
            tx.commit().map_err(Error::db(id.as_str()))
        });
    }
    let n = crate::db::with_write(store, id, |db: &mut SiteDb| {
        db.conn
            .execute("UPDATE users SET password_hash = ?2, token_version = token_version + 1 WHERE username = ?1", params![name, hash])
            .map_err(db.err())
    })?;
    if n == 0 {
        return Err(Error::NoSuchUser {
            tenant: id.to_string(),
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Enables or disables a named account (built-in accounts are disabled by clearing their
/// password in env.json).
pub fn set_disabled(
    store: &dyn Store,
    id: &TenantId,
    username: &str,
    disabled: bool,
) -> Result<()> {
    let name = check_username(username)?;
    let n = crate::db::with_write(store, id, |db: &mut SiteDb| {
        db.conn
            .execute(
                "UPDATE users SET disabled = ?2, token_version = token_version + 1 WHERE username = ?1",
                params![name, disabled],
            )
            .map_err(db.err())
    })?;
    if n == 0 {
        return Err(Error::invalid(
            "username",
            format!("no account {name:?} in tenant '{id}'"),
        ));
    }
    Ok(())
}

/// Checks a user name and password for either kind of account. Returns the account on
/// success. Unknown and disabled accounts cost the same time as a wrong password.
pub fn verify(
    store: &dyn Store,
    id: &TenantId,
    username: &str,
    password_text: &str,
) -> Result<Option<Account>> {
    let name = username.trim().to_ascii_lowercase();
    let cfg = TenantConfig::load(store, id)?;
    let db = SiteDb::open(store, id)?;
    let found: Option<(String, Role, bool)> = match BUILTINS.iter().find(|(b, _)| *b == name) {
        Some((_, role)) => Some((builtin_hash(&cfg, *role).to_owned(), *role, true)),
        None => db
            .conn
            .query_row(
                "SELECT password_hash, role, disabled FROM users WHERE username = ?1",
                [&name],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Role::parse(&r.get::<_, String>(1)?),
                        !r.get::<_, bool>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db.err())?,
    };
    let Some((hash, _, enabled)) = found.filter(|(h, _, enabled)| *enabled && !h.is_empty()) else {
        password::verify_dummy(password_text);
        return Ok(None);
    };
    if !enabled || !password::verify(&hash, password_text) {
        return Ok(None);
    }
    if !BUILTINS.iter().any(|(b, _)| *b == name) {
        drop(db);
        let now = timefmt::now_rfc3339();
        crate::db::with_write(store, id, |db: &mut SiteDb| {
            db.conn
                .execute(
                    "UPDATE users SET last_login = ?2 WHERE username = ?1",
                    params![name, now],
                )
                .map_err(db.err())
        })?;
    }
    Ok(list(store, id)?.into_iter().find(|a| a.username == name))
}

/// The env.json field holding a built-in account's token version.
fn builtin_version_field(role: Role) -> &'static str {
    match role {
        Role::Admin => "ADMIN_TOKEN_VERSION",
        Role::Editor => "EDITOR_TOKEN_VERSION",
    }
}

/// An enabled account's role and current token version, for checking session tokens.
pub fn session_state(
    store: &dyn Store,
    id: &TenantId,
    username: &str,
) -> Result<Option<(Role, i64)>> {
    if is_builtin(username) {
        let cfg = TenantConfig::load(store, id)?;
        return Ok(builtin_state(&cfg, username).flatten());
    }
    named_state(&SiteDb::open(store, id)?, username)
}

fn is_builtin(username: &str) -> bool {
    let name = username.trim().to_ascii_lowercase();
    BUILTINS.iter().any(|(b, _)| *b == name)
}

/// For a built-in account (`admin`, `editor`): `Some` of its session state from env.json
/// (`Some(None)` when it has no password, so no sessions). `None` for a named account.
pub fn builtin_state(cfg: &TenantConfig, username: &str) -> Option<Option<(Role, i64)>> {
    let name = username.trim();
    let (_, role) = BUILTINS
        .iter()
        .find(|(b, _)| b.eq_ignore_ascii_case(name))?;
    if builtin_hash(cfg, *role).is_empty() {
        return Some(None);
    }
    let v = cfg
        .extra
        .get(builtin_version_field(*role))
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    Some(Some((*role, v)))
}

/// A named account's role and token version, if it exists and is enabled.
pub fn named_state(db: &SiteDb, username: &str) -> Result<Option<(Role, i64)>> {
    let name = username.trim().to_ascii_lowercase();
    db.conn
        .query_row(
            "SELECT role, token_version FROM users WHERE username = ?1 AND disabled = 0",
            [&name],
            |r| Ok((Role::parse(&r.get::<_, String>(0)?), r.get::<_, i64>(1)?)),
        )
        .optional()
        .map_err(db.err())
}

/// Ends every session of an account (logout, password change): bumps its token version.
pub fn revoke_sessions(store: &dyn Store, id: &TenantId, username: &str) -> Result<()> {
    let name = username.trim().to_ascii_lowercase();
    if let Some((_, role)) = BUILTINS.iter().find(|(b, _)| *b == name) {
        let field = builtin_version_field(*role);
        TenantConfig::update(store, id, |cfg| {
            let v = cfg.extra.get(field).and_then(|v| v.as_i64()).unwrap_or(0);
            cfg.extra.insert(field.into(), (v + 1).into());
            Ok(Some(()))
        })?;
        return Ok(());
    }
    crate::db::with_write(store, id, |db: &mut SiteDb| {
        db.conn
            .execute(
                "UPDATE users SET token_version = token_version + 1 WHERE username = ?1",
                [&name],
            )
            .map_err(db.err())
    })?;
    Ok(())
}
