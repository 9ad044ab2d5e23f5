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

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;

use crate::db::{DbFile, with_write_file};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::Store;

use super::vitals::{Metric, OrderedValue};

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
            .and_then(|()| conn.execute_batch(super::vitals::SCHEMA))
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

/// The fields the rollup reads, borrowed from the object's bytes (no copy per event).
#[derive(serde::Deserialize)]
struct Seen<'a> {
    ts: i64,
    #[serde(borrow)]
    event: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    path: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    visitor: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    referrer: Option<std::borrow::Cow<'a, str>>,
    /// A `VITALS` event's measurements (other events' props are not read).
    #[serde(default)]
    props: Option<serde_json::Value>,
}

/// Hours since the epoch (UTC) of a millisecond timestamp.
fn hour_number(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(3_600_000)
}

/// `2026-11-28T14` for an hour number.
fn hour_label(hour: i64) -> String {
    super::hour_of(
        time::OffsetDateTime::from_unix_timestamp(hour * 3600)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

/// Strings seen in a chunk, numbered once, so counts are keyed by small integers.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s.to_owned(), id);
        self.names.push(s.to_owned());
        id
    }
}

/// Counts gathered in memory from a chunk of event objects, written with one statement per
/// distinct row (not per event).
#[derive(Default)]
struct Tally {
    names: Names,
    /// (hour number, path, verb) → count.
    hourly: HashMap<(i64, u32, u32), u64>,
    /// (day number, name) → count.
    referrers: HashMap<(i64, u32), u64>,
    entries: HashMap<(i64, u32), u64>,
    /// Visitor-days first seen in this chunk: (day number, visitor).
    visitors: HashSet<(i64, u32)>,
    /// (day number, path, metric, grid value) → samples.
    vitals: HashMap<(i64, u32, Metric, OrderedValue), u64>,
}

impl Tally {
    /// Adds one object's events; `known` says whether a visitor-day was seen by earlier runs.
    fn add(
        &mut self,
        events: &[Seen],
        known: &mut impl FnMut(i64, &str) -> rusqlite::Result<bool>,
    ) -> rusqlite::Result<()> {
        for e in events {
            let hour = hour_number(e.ts);
            let day = hour.div_euclid(24);
            let path = self.names.id(&e.path);
            let verb = self.names.id(&e.event);
            *self.hourly.entry((hour, path, verb)).or_default() += 1;
            let visitor = self.names.id(&e.visitor);
            let new_visitor = !self.visitors.contains(&(day, visitor)) && !known(day, &e.visitor)?;
            if new_visitor {
                self.visitors.insert((day, visitor));
                if e.event == "PAGEVIEWED" {
                    *self.entries.entry((day, path)).or_default() += 1;
                }
            }
            if let Some(r) = e.referrer.as_deref().filter(|_| e.event == "PAGEVIEWED") {
                let r = self.names.id(r);
                *self.referrers.entry((day, r)).or_default() += 1;
            }
            if e.event == "VITALS" {
                self.add_vitals(day, path, e.props.as_ref());
            }
        }
        Ok(())
    }

    /// A page view's measurements, each rounded up to its metric's grid; a value that is
    /// not a number in the metric's range is left out.
    fn add_vitals(&mut self, day: i64, path: u32, props: Option<&serde_json::Value>) {
        let Some(props) = props.and_then(|p| p.as_object()) else {
            return;
        };
        for (name, v) in props {
            let (Some(m), Some(v)) = (Metric::parse(name), v.as_f64()) else {
                continue;
            };
            if v.is_finite() && (0.0..=m.max()).contains(&v) {
                let key = (day, path, m, OrderedValue(m.grid(v)));
                *self.vitals.entry(key).or_default() += 1;
            }
        }
    }

    fn write(&self, tx: &Connection) -> rusqlite::Result<()> {
        let name = |id: u32| self.names.names[id as usize].as_str();
        let day = |d: i64| hour_label(d * 24)[..10].to_owned();
        let mut q = tx.prepare_cached(
            "INSERT INTO hourly (hour, path, event, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (hour, path, event) DO UPDATE SET count = count + excluded.count",
        )?;
        for ((hour, path, event), n) in &self.hourly {
            q.execute(params![hour_label(*hour), name(*path), name(*event), n])?;
        }
        let mut q =
            tx.prepare_cached("INSERT OR IGNORE INTO visitors (day, visitor) VALUES (?1, ?2)")?;
        for (d, visitor) in &self.visitors {
            q.execute(params![day(*d), name(*visitor)])?;
        }
        for (table, column, map) in [
            ("entries", "path", &self.entries),
            ("referrers", "referrer", &self.referrers),
        ] {
            let mut q = tx.prepare_cached(&format!(
                "INSERT INTO {table} (day, {column}, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day, {column}) DO UPDATE SET count = count + excluded.count"
            ))?;
            for ((d, n), count) in map {
                q.execute(params![day(*d), name(*n), count])?;
            }
        }
        let mut q = tx.prepare_cached(
            "INSERT INTO vitals (day, path, metric, value, count) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (day, path, metric, value) DO UPDATE SET count = count + excluded.count",
        )?;
        for ((d, path, m, v), n) in &self.vitals {
            q.execute(params![day(*d), name(*path), m.name(), v.0, n])?;
        }
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> (Vec<Seen<'_>>, usize) {
    let mut events = vec![];
    let mut bad = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Seen>(line) {
            Ok(e) => events.push(e),
            Err(_) => bad += 1,
        }
    }
    (events, bad)
}

/// Event objects merged per transaction: bounds memory and the work a crash can lose.
const CHUNK: usize = 200;

/// Merges every raw event object of `tenant` into its analytics database, a chunk of objects
/// per transaction.
pub fn rollup(store: &dyn Store, tenant: &TenantId) -> Result<Merged> {
    let mut keys: Vec<Key> = store
        .list(&layout::events_dir(tenant))?
        .into_iter()
        .map(|e| e.key)
        .filter(|k| k.as_str().ends_with(".jsonl"))
        .collect();
    keys.sort();
    let db_key = layout::analytics_db(tenant);
    forget_gone(store, &db_key, &keys)?;
    let mut out = Merged {
        tenant: tenant.to_string(),
        ..Default::default()
    };
    for chunk in keys.chunks(CHUNK) {
        let mut loaded = vec![];
        for k in chunk {
            if let Some(obj) = store.get(k)? {
                loaded.push((k.clone(), obj.bytes));
            }
        }
        let (m, done) = with_write_file(store, &db_key, AnalyticsDb::open_path, |db| {
            merge_chunk(db, &db_key, &loaded)
        })?;
        // Only now, with the counts committed, do the raw objects go.
        for k in done {
            store.delete(&k)?;
        }
        out.objects += m.objects;
        out.events += m.events;
        out.skipped_lines += m.skipped_lines;
        out.cleaned += m.cleaned;
    }
    Ok(out)
}

/// Forgets merged keys whose objects are gone: only the crash window needs them.
fn forget_gone(store: &dyn Store, db_key: &Key, keys: &[Key]) -> Result<()> {
    with_write_file(store, db_key, AnalyticsDb::open_path, |db| {
        let e = Error::db(db_key.as_str());
        let tx = db.conn.transaction().map_err(Error::db(db_key.as_str()))?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS listed (key TEXT PRIMARY KEY); DELETE FROM listed;",
        )
        .map_err(Error::db(db_key.as_str()))?;
        {
            let mut q = tx
                .prepare("INSERT INTO listed (key) VALUES (?1)")
                .map_err(Error::db(db_key.as_str()))?;
            for k in keys {
                q.execute([k.as_str()])
                    .map_err(Error::db(db_key.as_str()))?;
            }
        }
        tx.execute(
            "DELETE FROM merged WHERE key NOT IN (SELECT key FROM listed)",
            [],
        )
        .and_then(|_| tx.commit())
        .map_err(e)
    })
}

/// One transaction: the chunk's new objects counted and recorded as merged.
fn merge_chunk(
    db: &mut AnalyticsDb,
    db_key: &Key,
    loaded: &[(Key, Vec<u8>)],
) -> Result<(Merged, Vec<Key>)> {
    let dberr = || Error::db(db_key.as_str());
    let tx = db.conn.transaction().map_err(dberr())?;
    let mut m = Merged::default();
    let mut tally = Tally::default();
    let mut done = vec![];
    {
        let mut seen = tx
            .prepare("SELECT 1 FROM merged WHERE key = ?1")
            .map_err(dberr())?;
        let mut mark = tx
            .prepare("INSERT INTO merged (key) VALUES (?1)")
            .map_err(dberr())?;
        let mut of_day = tx
            .prepare("SELECT visitor FROM visitors WHERE day = ?1")
            .map_err(dberr())?;
        // Visitors of earlier runs, one query per day (not one per visitor).
        let mut days: HashMap<i64, HashSet<String>> = HashMap::new();
        let mut known = |day: i64, v: &str| -> rusqlite::Result<bool> {
            let set = match days.entry(day) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let label = hour_label(day * 24)[..10].to_owned();
                    let set = of_day
                        .query_map([label], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<HashSet<_>>>()?;
                    slot.insert(set)
                }
            };
            Ok(set.contains(v))
        };
        for (k, bytes) in loaded {
            if seen.exists([k.as_str()]).map_err(dberr())? {
                m.cleaned += 1;
            } else {
                let (mut events, bad) = parse(bytes);
                events.sort_by_key(|e| e.ts);
                tally.add(&events, &mut known).map_err(dberr())?;
                mark.execute([k.as_str()]).map_err(dberr())?;
                m.objects += 1;
                m.events += events.len();
                m.skipped_lines += bad;
            }
            done.push(k.clone());
        }
    }
    tally.write(&tx).map_err(dberr())?;
    tx.commit().map_err(dberr())?;
    Ok((m, done))
}
