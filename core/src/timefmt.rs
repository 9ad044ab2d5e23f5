//! Timestamps as the registry and databases store them: RFC 3339 in UTC, whole seconds.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC timestamps always format")
}

/// Unix seconds as RFC 3339 (UTC); out-of-range values clamp to the epoch.
pub fn unix_rfc3339(secs: i64) -> String {
    rfc3339(OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

pub fn now_rfc3339() -> String {
    rfc3339(now())
}

/// A compact UTC stamp for key names (`20261128T013652Z`): sortable and free of colons.
pub fn compact(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(&f).expect("UTC timestamps always format")
}
