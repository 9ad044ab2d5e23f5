//! Which tenants `t8k backup --due` backs up: those whose schedule (`BACKUP_SCHEDULE` in
//! env.json — `hourly`, `daily`, `weekly` or `off` — else the installation's default, else
//! daily) says a snapshot is due *and* whose files changed since their last one (the
//! [`fingerprint`](super::snapshot::fingerprint): a listing and version checks, no reads, no
//! upload). Each tenant's last backup, and failures since, are kept in the data root at
//! `stats/{tenant}/backup.json` for `t8k report` and the admin API.

use serde::{Deserialize, Serialize};

use crate::cas::{read_json, to_json_bytes};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::{Condition, Store};
use crate::{Error, Result};

/// `stats/{tenant}/backup.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Status {
    /// The last snapshot taken: its id, time and the fingerprint it had.
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Failed attempts since that snapshot, and the last one's error.
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub last_error: Option<String>,
}

fn status_key(id: &TenantId) -> Result<Key> {
    layout::stats_dir(id).join("backup.json")
}

pub fn status(store: &dyn Store, id: &TenantId) -> Result<Status> {
    Ok(read_json(store, &status_key(id)?)?
        .map(|(s, _)| s)
        .unwrap_or_default())
}

/// Records a snapshot (or, with `Err`, a failure) as the tenant's last backup.
pub fn record(
    store: &dyn Store,
    id: &TenantId,
    outcome: std::result::Result<(&str, &str, &str), String>,
) -> Result<()> {
    let mut s = status(store, id)?;
    match outcome {
        Ok((snapshot, time, fingerprint)) => {
            s = Status {
                snapshot: Some(snapshot.into()),
                time: Some(time.into()),
                fingerprint: Some(fingerprint.into()),
                ..Status::default()
            };
        }
        Err(e) => {
            s.failures += 1;
            s.last_error = Some(e);
        }
    }
    store.put(&status_key(id)?, &to_json_bytes(&s), Condition::None)?;
    Ok(())
}

/// A tenant's backup schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    Hourly,
    Daily,
    Weekly,
    Off,
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hourly" => Ok(Schedule::Hourly),
            "daily" | "" => Ok(Schedule::Daily),
            "weekly" => Ok(Schedule::Weekly),
            "off" => Ok(Schedule::Off),
            other => Err(Error::invalid(
                "BACKUP_SCHEDULE",
                format!("{other:?}: use hourly, daily, weekly or off"),
            )),
        }
    }

    /// The longest a snapshot may age before the next is due (a few minutes early, so an
    /// hourly cron that runs a little late still takes one each time).
    pub fn interval(self) -> Option<time::Duration> {
        let slack = time::Duration::minutes(5);
        match self {
            Schedule::Hourly => Some(time::Duration::hours(1) - slack),
            Schedule::Daily => Some(time::Duration::days(1) - slack),
            Schedule::Weekly => Some(time::Duration::weeks(1) - slack),
            Schedule::Off => None,
        }
    }
}

/// Whether the tenant is due, and why not when not.
pub fn due(
    store: &dyn Store,
    id: &TenantId,
    schedule: Schedule,
    now: time::OffsetDateTime,
) -> Result<std::result::Result<String, &'static str>> {
    let Some(interval) = schedule.interval() else {
        return Ok(Err("schedule off"));
    };
    let s = status(store, id)?;
    let last = s.time.as_deref().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    if last.is_some_and(|t| now - t < interval) {
        return Ok(Err("backed up recently"));
    }
    let fp = super::snapshot::fingerprint(store, id)?;
    if s.fingerprint.as_deref() == Some(fp.as_str()) {
        return Ok(Err("unchanged since its last snapshot"));
    }
    Ok(Ok(fp))
}

/// The tenant's schedule: env.json's `BACKUP_SCHEDULE`, else `default`.
pub fn schedule_of(
    cfg: &crate::tenant_config::TenantConfig,
    default: Schedule,
) -> Result<Schedule> {
    match cfg.extra.get("BACKUP_SCHEDULE").and_then(|v| v.as_str()) {
        Some(s) => Schedule::parse(s),
        None => Ok(default),
    }
}

/// How old a tenant's last snapshot is, for health reports: `None` when none is needed (off).
pub fn age(s: &Status, now: time::OffsetDateTime) -> Option<time::Duration> {
    let t = time::OffsetDateTime::parse(
        s.time.as_deref()?,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    Some(now - t)
}
