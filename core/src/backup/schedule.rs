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
    /// A tenant admin asked for a snapshot (`POST /api/backups`): the next `--due` takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
}

fn status_key(id: &TenantId) -> Result<Key> {
    layout::stats_dir(id).join("backup.json")
}

pub fn status(store: &dyn Store, id: &TenantId) -> Result<Status> {
    Ok(read_json(store, &status_key(id)?)?
        .map(|(s, _)| s)
        .unwrap_or_default())
}

/// Asks for a snapshot at the next `t8k backup --due` (a tenant admin's restore point).
pub fn request(store: &dyn Store, id: &TenantId) -> Result<Status> {
    let mut s = status(store, id)?;
    s.requested = Some(crate::timefmt::now_rfc3339());
    store.put(&status_key(id)?, &to_json_bytes(&s), Condition::None)?;
    Ok(s)
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
    let s = status(store, id)?;
    // A restore point asked for is due whatever the schedule says.
    if s.requested.is_none() {
        let Some(interval) = schedule.interval() else {
            return Ok(Err("schedule off"));
        };
        let last = s.time.as_deref().and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        if last.is_some_and(|t| now - t < interval) {
            return Ok(Err("backed up recently"));
        }
    }
    let fp = super::snapshot::fingerprint(store, id)?;
    if s.fingerprint.as_deref() == Some(fp.as_str()) {
        if s.requested.is_some() {
            // The last snapshot already is the restore point asked for.
            let done = Status {
                requested: None,
                ..s
            };
            store.put(&status_key(id)?, &to_json_bytes(&done), Condition::None)?;
        }
        return Ok(Err("unchanged since its last snapshot"));
    }
    Ok(Ok(fp))
}

/// The installation's default schedule, when it has a backup repository (`None` without one):
/// the one `t8k backup init --schedule` set, else daily.
pub fn installation_default(reg: &crate::registry::Registry) -> Result<Option<Schedule>> {
    reg.backup
        .as_ref()
        .map(|b| Schedule::parse(b.schedule.as_deref().unwrap_or("daily")))
        .transpose()
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

/// What is wrong with a tenant's backups, for `t8k report`: failed attempts, and no snapshot
/// for 48 hours although its schedule wants them and its files changed since the last one.
pub fn health(
    store: &dyn Store,
    id: &TenantId,
    default: Schedule,
    now: time::OffsetDateTime,
) -> Result<Vec<String>> {
    let s = status(store, id)?;
    let mut problems = vec![];
    if s.failures > 0 {
        problems.push(format!(
            "last backup failed {} time(s): {}",
            s.failures,
            s.last_error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or("no message")
        ));
    }
    let schedule = schedule_of(
        &crate::tenant_config::TenantConfig::load(store, id)?,
        default,
    )?;
    let last = s.time.as_deref().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    let stale = last.is_none_or(|t| now - t > time::Duration::hours(48));
    if schedule != Schedule::Off
        && stale
        && s.fingerprint != Some(super::snapshot::fingerprint(store, id)?)
    {
        problems.push(match last {
            Some(_) => "no backup in 48 h".to_owned(),
            None => "never backed up".to_owned(),
        });
    }
    Ok(problems)
}
