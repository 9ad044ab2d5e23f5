//! A tenant's analytics figures, read from `db/{tenant}/analytics.db` (what the rollup wrote):
//! daily and hourly series, top pages with their GLOSSED and READ rates, referrers and entry
//! pages. A tenant whose events were never rolled up gets empty figures, not an error.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::store::Store;

use super::vitals::{Figure, Metric, figures};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub tenant: String,
    /// The last `days` days, oldest first (days without traffic included, as zeros).
    pub daily: Vec<Day>,
    /// The last 48 hours, oldest first.
    pub hourly: Vec<Hour>,
    pub pages: Vec<PageFigures>,
    pub referrers: Vec<Count>,
    pub entries: Vec<Count>,
    /// Over the whole period: visitor-days (ids change daily) and page views.
    pub visitors: u64,
    pub pageviews: u64,
    /// Core Web Vitals over the period: each metric's p75 and band ([`super::vitals`]).
    pub vitals: BTreeMap<Metric, Figure>,
    /// The same per page, the pages with the most samples first (at most 20).
    pub vitals_pages: Vec<PageVitals>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PageVitals {
    pub path: String,
    pub vitals: BTreeMap<Metric, Figure>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Day {
    pub day: String,
    pub visitors: u64,
    pub pageviews: u64,
    /// That day's Core Web Vitals p75 (none measured: empty).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vitals: BTreeMap<Metric, Figure>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Hour {
    pub hour: String,
    pub pageviews: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PageFigures {
    pub path: String,
    pub views: u64,
    pub glossed: u64,
    pub read: u64,
    /// GLOSSED and READ per page view, 0–1 (0 for a page never viewed).
    pub glossed_rate: f64,
    pub read_rate: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

fn open(store: &dyn Store, id: &TenantId) -> Result<Option<Connection>> {
    let key = layout::analytics_db(id);
    let path = match store.local_path(&key) {
        Some(p) => Some(p).filter(|p| p.is_file()),
        None => crate::db::remote::fetch(store, &key)?.map(|(p, _)| p),
    };
    let Some(path) = path else { return Ok(None) };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(&path, flags)
        .map(Some)
        .map_err(Error::db(key.as_str()))
}

/// The figures of the last `days` days (1–366) up to `now`.
pub fn report(
    store: &dyn Store,
    id: &TenantId,
    days: u32,
    now: time::OffsetDateTime,
) -> Result<Report> {
    let days = days.clamp(1, 366);
    let first_day = super::day_of(now - time::Duration::days(i64::from(days) - 1));
    let first_hour = super::hour_of(now - time::Duration::hours(47));
    let mut r = Report {
        tenant: id.to_string(),
        ..Default::default()
    };
    for d in 0..days {
        let t = now - time::Duration::days(i64::from(days - 1 - d));
        r.daily.push(Day {
            day: super::day_of(t),
            ..Default::default()
        });
    }
    for h in 0..48 {
        let t = now - time::Duration::hours(47 - h);
        r.hourly.push(Hour {
            hour: super::hour_of(t),
            pageviews: 0,
        });
    }
    let Some(conn) = open(store, id)? else {
        return Ok(r);
    };
    let label = layout::analytics_db(id).to_string();
    let mut read = || -> rusqlite::Result<()> {
        let views = by_label(
            &conn,
            "SELECT substr(hour, 1, 10) AS day, sum(count) FROM hourly
             WHERE event = 'PAGEVIEWED' AND hour >= ?1 GROUP BY day",
            &first_day,
        )?;
        let visitors = by_label(
            &conn,
            "SELECT day, count(*) FROM visitors WHERE day >= ?1 GROUP BY day",
            &first_day,
        )?;
        for d in &mut r.daily {
            d.pageviews = views.get(&d.day).copied().unwrap_or(0);
            d.visitors = visitors.get(&d.day).copied().unwrap_or(0);
        }
        let hourly = by_label(
            &conn,
            "SELECT hour, sum(count) FROM hourly WHERE event = 'PAGEVIEWED' AND hour >= ?1 GROUP BY hour",
            &first_hour,
        )?;
        for h in &mut r.hourly {
            h.pageviews = hourly.get(&h.hour).copied().unwrap_or(0);
        }
        let mut q = conn.prepare(
            "SELECT path,
                    sum(CASE WHEN event = 'PAGEVIEWED' THEN count ELSE 0 END) AS views,
                    sum(CASE WHEN event = 'GLOSSED' THEN count ELSE 0 END),
                    sum(CASE WHEN event = 'READ' THEN count ELSE 0 END)
             FROM hourly WHERE hour >= ?1 GROUP BY path ORDER BY views DESC, path LIMIT 20",
        )?;
        for row in q.query_map([&first_day], |x| {
            Ok((
                x.get::<_, String>(0)?,
                x.get::<_, u64>(1)?,
                x.get::<_, u64>(2)?,
                x.get::<_, u64>(3)?,
            ))
        })? {
            let (path, views, glossed, read) = row?;
            let rate = |n: u64| {
                if views == 0 {
                    0.0
                } else {
                    n as f64 / views as f64
                }
            };
            r.pages.push(PageFigures {
                path,
                views,
                glossed,
                read,
                glossed_rate: rate(glossed),
                read_rate: rate(read),
            });
        }
        read_vitals(&conn, &first_day, &mut r)?;
        for (table, column, out) in [
            ("referrers", "referrer", &mut r.referrers),
            ("entries", "path", &mut r.entries),
        ] {
            let sql = format!(
                "SELECT {column}, sum(count) AS n FROM {table} WHERE day >= ?1 GROUP BY {column} ORDER BY n DESC, {column} LIMIT 10"
            );
            let mut q = conn.prepare(&sql)?;
            for row in q.query_map([&first_day], |x| {
                Ok(Count {
                    name: x.get(0)?,
                    count: x.get(1)?,
                })
            })? {
                out.push(row?);
            }
        }
        Ok(())
    };
    read().map_err(Error::db(label))?;
    r.visitors = r.daily.iter().map(|d| d.visitors).sum();
    r.pageviews = r.daily.iter().map(|d| d.pageviews).sum();
    Ok(r)
}

/// The period's vitals, for the tenant, per day and per page (a database from before vitals
/// were kept has no table: no figures).
fn read_vitals(conn: &Connection, since: &str, r: &mut Report) -> rusqlite::Result<()> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'vitals'",
        [],
        |x| x.get(0),
    )?;
    if !exists {
        return Ok(());
    }
    let mut q =
        conn.prepare("SELECT day, path, metric, value, count FROM vitals WHERE day >= ?1")?;
    type Rows = Vec<(Metric, f64, u64)>;
    let (mut by_page, mut by_day) = (
        BTreeMap::<String, Rows>::new(),
        BTreeMap::<String, Rows>::new(),
    );
    for row in q.query_map([since], |x| {
        Ok((
            x.get::<_, String>(0)?,
            x.get::<_, String>(1)?,
            x.get::<_, String>(2)?,
            x.get::<_, f64>(3)?,
            x.get::<_, u64>(4)?,
        ))
    })? {
        let (day, path, metric, value, n) = row?;
        if let Some(m) = Metric::parse(&metric) {
            by_page.entry(path).or_default().push((m, value, n));
            by_day.entry(day).or_default().push((m, value, n));
        }
    }
    r.vitals = figures(by_page.values().flatten().copied());
    for d in &mut r.daily {
        if let Some(rows) = by_day.remove(&d.day) {
            d.vitals = figures(rows);
        }
    }
    let mut pages: Vec<PageVitals> = by_page
        .into_iter()
        .map(|(path, rows)| PageVitals {
            path,
            vitals: figures(rows),
        })
        .collect();
    let samples = |p: &PageVitals| p.vitals.values().map(|f| f.samples).max().unwrap_or(0);
    pages.sort_by(|a, b| samples(b).cmp(&samples(a)).then(a.path.cmp(&b.path)));
    pages.truncate(20);
    r.vitals_pages = pages;
    Ok(())
}

/// A `label → figure` query (days or hours), for filling a series that has every label.
fn by_label(conn: &Connection, sql: &str, since: &str) -> rusqlite::Result<HashMap<String, u64>> {
    conn.prepare(sql)?
        .query_map([since], |x| Ok((x.get(0)?, x.get(1)?)))?
        .collect()
}
