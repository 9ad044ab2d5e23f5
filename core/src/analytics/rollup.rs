//! `t8k analytics rollup`: merges a tenant's raw events into `db/{tenant}/analytics.db` —
//! hourly counts per page and verb, visitors per day, referrers and entry pages per day.
//!
//! Idempotent and crash-safe: the keys of the event objects merged are recorded in the same
//! transaction as the counts, so a rerun skips them (never counting twice), and objects are
//! deleted only after that transaction commits (a crash between the two leaves objects that
//! the next run recognises as merged and deletes).
//!
//! Visitor ids change every day by design (their salts do), so a visitor is unique within a
//! day; weekly and monthly figures are sums of daily visitors (visitor-days).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use super::Event;
use crate::db::{DbFile, with_write_file};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::Store;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hourly (
    hour  TEXT NOT NULL,              -- 2026-11-28T14 (UTC)
    path  TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hour, path, event)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS visitors (
    day     TEXT NOT NULL,
    visitor TEXT NOT NULL,
    PRIMARY KEY (day, visitor)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS referrers (
    day      TEXT NOT NULL,
    referrer TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (day, referrer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    day   TEXT NOT NULL,
    path  TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merged (
    key TEXT PRIMARY KEY              -- event objects already counted
) WITHOUT ROWID;
";

pub struct AnalyticsDb {
    conn: Connection,
}

impl DbFile for AnalyticsDb {
    fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl AnalyticsDb {
    pub fn open_path(path: &Path) -> Result<AnalyticsDb> {
        let label = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(Error::db(&label))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(Error::db(&label))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(Error::db(&label))?;
        Ok(AnalyticsDb { conn })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// What one rollup of one tenant did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Merged {
    pub tenant: String,
    /// Event objects merged now.
    pub objects: usize,
    pub events: usize,
    /// Lines that were not events (left counted as skipped, never guessed at).
    pub skipped_lines: usize,
    /// Objects merged by an earlier run and deleted now.
    pub cleaned: usize,
}

fn hour_of(ts_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ts_ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}T{:02}", super::day_of(t), t.hour())
}

/// Adds one object's events to the database (inside the caller's transaction).
fn merge_events(tx: &Connection, events: &[Event]) -> rusqlite::Result<()> {
    for e in events {
        let hour = hour_of(e.ts);
        let day = &hour[..10];
        tx.execute(
            "INSERT INTO hourly (hour, path, event, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (hour, path, event) DO UPDATE SET count = count + 1",
            params![hour, e.path, e.event],
        )?;
        let new_visitor = tx.execute(
            "INSERT OR IGNORE INTO visitors (day, visitor) VALUES (?1, ?2)",
            params![day, e.visitor],
        )? == 1;
        if new_visitor && e.event == "PAGEVIEWED" {
            tx.execute(
                "INSERT INTO entries (day, path, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (day, path) DO UPDATE SET count = count + 1",
                params![day, e.path],
            )?;
        }
        if let Some(r) = e.referrer.as_deref().filter(|_| e.event == "PAGEVIEWED") {
            tx.execute(
                "INSERT INTO referrers (day, referrer, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (day, referrer) DO UPDATE SET count = count + 1",
                params![day, r],
            )?;
        }
    }
    Ok(())
}

fn parse(bytes: &[u8]) -> (Vec<Event>, usize) {
    let mut events = vec![];
    let mut bad = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Event>(line) {
            Ok(e) => events.push(e),
            Err(_) => bad += 1,
        }
    }
    (events, bad)
}

/// Merges every raw event object of `tenant` into its analytics database.
pub fn rollup(store: &dyn Store, tenant: &TenantId) -> Result<Merged> {
    let mut keys: Vec<Key> = store
        .list(&layout::events_dir(tenant))?
        .into_iter()
        .map(|e| e.key)
        .filter(|k| k.as_str().ends_with(".jsonl"))
        .collect();
    keys.sort();
    let mut loaded = vec![];
    for k in &keys {
        if let Some(obj) = store.get(k)? {
            loaded.push((k.clone(), obj.bytes));
        }
    }
    let db_key = layout::analytics_db(tenant);
    let mut out = Merged {
        tenant: tenant.to_string(),
        ..Default::default()
    };
    let merged_keys = with_write_file(store, &db_key, AnalyticsDb::open_path, |db| {
        out = Merged {
            tenant: tenant.to_string(),
            ..Default::default()
        };
        let tx = db.conn.transaction().map_err(Error::db(db_key.as_str()))?;
        // Forget merged keys whose objects are gone: only the crash window needs them.
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS listed (key TEXT PRIMARY KEY); DELETE FROM listed;",
        )
        .map_err(Error::db(db_key.as_str()))?;
        for k in &keys {
            tx.execute("INSERT INTO listed (key) VALUES (?1)", [k.as_str()])
                .map_err(Error::db(db_key.as_str()))?;
        }
        tx.execute(
            "DELETE FROM merged WHERE key NOT IN (SELECT key FROM listed)",
            [],
        )
        .map_err(Error::db(db_key.as_str()))?;
        let mut done = vec![];
        for (k, bytes) in &loaded {
            let seen = tx
                .query_row("SELECT 1 FROM merged WHERE key = ?1", [k.as_str()], |_| {
                    Ok(())
                })
                .optional()
                .map_err(Error::db(db_key.as_str()))?
                .is_some();
            if seen {
                out.cleaned += 1;
            } else {
                let (events, bad) = parse(bytes);
                merge_events(&tx, &events).map_err(Error::db(db_key.as_str()))?;
                tx.execute("INSERT INTO merged (key) VALUES (?1)", [k.as_str()])
                    .map_err(Error::db(db_key.as_str()))?;
                out.objects += 1;
                out.events += events.len();
                out.skipped_lines += bad;
            }
            done.push(k.clone());
        }
        tx.commit().map_err(Error::db(db_key.as_str()))?;
        Ok(done)
    })?;
    // Only now, with the counts committed, do the raw objects go.
    for k in merged_keys {
        store.delete(&k)?;
    }
    Ok(out)
}
