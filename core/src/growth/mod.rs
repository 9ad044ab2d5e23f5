//! Growth and capacity: one usage snapshot per tenant per day (`t8k usage snapshot`, run daily
//! by cron or CI) in `stats/{tenant}/usage/{YYYY-MM}.json`, and the installation's totals of
//! that day in `stats/_growth/{YYYY-MM}.json`. A day once recorded is never recorded again,
//! so running the snapshot twice a day (or from two machines) changes nothing; each month's
//! document is changed by compare-and-swap. A tenant's snapshots live under its `stats/`
//! folder and go with it to the trash. [`fit`] turns the series into trends and projections.

pub mod fit;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::cas::{self, read_json};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::lifecycle::Installation;
use crate::name::TenantId;
use crate::store::Store;

/// One tenant's day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantDay {
    pub pages: u64,
    pub users: u64,
    /// What counts against STORAGE_QUOTA (database and media).
    pub storage_bytes: u64,
    pub analytics_bytes: u64,
    /// Bytes served in the month so far.
    pub bandwidth_month_bytes: u64,
    /// Unique visitors and page views of the 30 days up to this day.
    pub visitors_30d: u64,
    pub pageviews_30d: u64,
}

impl std::ops::AddAssign for TenantDay {
    fn add_assign(&mut self, t: TenantDay) {
        self.pages += t.pages;
        self.users += t.users;
        self.storage_bytes += t.storage_bytes;
        self.analytics_bytes += t.analytics_bytes;
        self.bandwidth_month_bytes += t.bandwidth_month_bytes;
        self.visitors_30d += t.visitors_30d;
        self.pageviews_30d += t.pageviews_30d;
    }
}

/// The installation's day: its capacity, and its tenants' days added up (stored as one flat
/// object: `tenants`, `max_tenants`, `pending_signups`, then the sums' fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstallationDay {
    pub tenants: u64,
    pub max_tenants: u64,
    pub pending_signups: u64,
    #[serde(flatten)]
    pub sum: TenantDay,
}

/// A month's document: day (`2026-11-30`) → that day's snapshot.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct MonthDoc<T> {
    pub days: BTreeMap<String, T>,
}

impl<T> Default for MonthDoc<T> {
    fn default() -> Self {
        MonthDoc {
            days: BTreeMap::new(),
        }
    }
}

/// What one `t8k usage snapshot` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Taken {
    /// `2026-11-30` (UTC).
    pub date: String,
    /// Tenants whose day was recorded now, and those that had it already.
    pub recorded: usize,
    pub already: usize,
    /// Tenants that could not be measured (named with why); the others are recorded.
    pub failed: Vec<String>,
    /// The installation's day (as recorded now, or as it was).
    pub installation: InstallationDay,
}

pub fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn month_text(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

fn tenant_key(id: &TenantId, d: Date) -> Result<Key> {
    layout::usage_dir(id).join(&format!("{}.json", month_text(d)))
}

fn growth_key(d: Date) -> Result<Key> {
    layout::growth_dir().join(&format!("{}.json", month_text(d)))
}

/// Records `d` into a month document unless it is there (then `day` is not even measured);
/// returns the day as stored and whether this call stored it.
fn record<T>(
    store: &dyn Store,
    key: &Key,
    d: Date,
    day: impl FnOnce() -> Result<T>,
) -> Result<(T, bool)>
where
    T: Serialize + serde::de::DeserializeOwned + Clone,
{
    let name = day_text(d);
    if let Some((doc, _)) = read_json::<MonthDoc<T>>(store, key)?
        && let Some(found) = doc.days.get(&name)
    {
        return Ok((found.clone(), false));
    }
    let value = day()?;
    let mut stored = None;
    cas::upsert_json(store, key, |m: &mut MonthDoc<T>| {
        if let Some(found) = m.days.get(&name) {
            stored = Some(found.clone());
            return Ok(None);
        }
        m.days.insert(name.clone(), value.clone());
        Ok(Some(()))
    })?;
    Ok(match stored {
        Some(found) => (found, false),
        None => (value, true),
    })
}

/// Measures one tenant's day (its usage, month's bandwidth, 30 days of analytics).
fn measure(inst: &Installation, id: &TenantId, now: OffsetDateTime) -> Result<TenantDay> {
    let cfg = crate::tenant_config::TenantConfig::load(inst.store(), id)?;
    let usage = inst.usage_of(id, &cfg)?;
    let traffic = crate::analytics::report::report(inst.store(), id, 30, now)?;
    let month = crate::bandwidth::month_of(now);
    let served = crate::bandwidth::read(inst.store(), id, &month)?.unwrap_or_default();
    Ok(TenantDay {
        pages: usage.pages,
        users: usage.users,
        storage_bytes: usage.storage_bytes,
        analytics_bytes: usage.storage.analytics_bytes,
        bandwidth_month_bytes: served.bytes,
        visitors_30d: traffic.visitors,
        pageviews_30d: traffic.pageviews,
    })
}

/// Records today's snapshot (UTC) of every tenant that has none yet, then the installation's.
/// The installation's day is written once, after every tenant: a run that failed for one
/// tenant leaves it unwritten, so the next run (which finds the others recorded) completes it.
pub fn snapshot(inst: &Installation, now: OffsetDateTime) -> Result<Taken> {
    let date = now.date();
    let mut total = InstallationDay {
        max_tenants: inst.settings()?.tenant_limit(),
        pending_signups: inst.pending_signups()?.len() as u64,
        ..Default::default()
    };
    let mut taken = Taken {
        date: day_text(date),
        ..Default::default()
    };
    inst.each_tenant(|e| {
        let id = e.tenant_id()?;
        match record(inst.store(), &tenant_key(&id, date)?, date, || {
            measure(inst, &id, now)
        }) {
            Ok((day, new)) => {
                total.tenants += 1;
                total.sum += day;
                *(if new {
                    &mut taken.recorded
                } else {
                    &mut taken.already
                }) += 1;
            }
            Err(why) => taken.failed.push(format!("{id}: {why}")),
        }
        Ok(())
    })?;
    taken.installation = total;
    if taken.failed.is_empty() {
        taken.installation = record(inst.store(), &growth_key(date)?, date, || Ok(total))?.0;
    }
    Ok(taken)
}

/// The days from `from` to `to` (inclusive) that have a snapshot, oldest first.
fn series<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key_of: impl Fn(Date) -> Result<Key>,
    from: Date,
    to: Date,
) -> Result<Vec<(Date, T)>> {
    let mut out = vec![];
    let mut month = from
        .replace_day(1)
        .map_err(|e| Error::invalid("date", e.to_string()))?;
    while month <= to {
        if let Some((doc, _)) = read_json::<MonthDoc<T>>(store, &key_of(month)?)? {
            for (name, day) in doc.days {
                let parsed = Date::parse(
                    &name,
                    time::macros::format_description!("[year]-[month]-[day]"),
                );
                if let Ok(d) = parsed
                    && d >= from
                    && d <= to
                {
                    out.push((d, day));
                }
            }
        }
        month = next_month(month);
    }
    Ok(out)
}

fn next_month(d: Date) -> Date {
    let (y, m) = match d.month() {
        time::Month::December => (d.year() + 1, time::Month::January),
        m => (d.year(), m.next()),
    };
    Date::from_calendar_date(y, m, 1).expect("the first of a month exists")
}

/// A tenant's snapshots from `from` to `to`.
pub fn tenant_series(
    store: &dyn Store,
    id: &TenantId,
    from: Date,
    to: Date,
) -> Result<Vec<(Date, TenantDay)>> {
    series(store, |d| tenant_key(id, d), from, to)
}

/// The installation's daily totals from `from` to `to`.
pub fn installation_series(
    store: &dyn Store,
    from: Date,
    to: Date,
) -> Result<Vec<(Date, InstallationDay)>> {
    series(store, growth_key, from, to)
}

/// How a figure moved over a span: from the snapshot at or before its start to the latest.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Change {
    pub from: u64,
    pub to: u64,
    /// Percent change; `None` from zero.
    pub percent: Option<f64>,
}

impl Change {
    pub fn between(from: u64, to: u64) -> Change {
        Change {
            from,
            to,
            percent: (from > 0).then(|| (to as f64 / from as f64 - 1.0) * 100.0),
        }
    }
}

/// The latest snapshot's figure against the one `days` before it (or the latest one before
/// that), with `figure` picking the value; `None` when the series does not reach back.
pub fn change_over<T>(
    series: &[(Date, T)],
    days: i64,
    figure: impl Fn(&T) -> u64,
) -> Option<Change> {
    let (last_day, last) = series.last()?;
    let start = *last_day - time::Duration::days(days);
    let (_, then) = series.iter().rev().find(|(d, _)| *d <= start)?;
    Some(Change::between(figure(then), figure(last)))
}

/// Points for a fit over the last [`fit::WINDOW_DAYS`] of `series`: x in days since the
/// window's first snapshot.
pub fn window<T>(series: &[(Date, T)], figure: impl Fn(&T) -> u64) -> Vec<(f64, f64)> {
    let Some((last, _)) = series.last() else {
        return vec![];
    };
    let start = *last - time::Duration::days(fit::WINDOW_DAYS - 1);
    let kept: Vec<_> = series.iter().filter(|(d, _)| *d >= start).collect();
    let Some((first, _)) = kept.first() else {
        return vec![];
    };
    kept.iter()
        .map(|(d, v)| ((*d - *first).whole_days() as f64, figure(v) as f64))
        .collect()
}
