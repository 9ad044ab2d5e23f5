//! Page dates as written in front matter (`2024-05-01`, RFC 3339, or a local date-time), read
//! for display and for feeds.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

pub fn parse(s: &str) -> Option<OffsetDateTime> {
    if let Ok(d) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(d);
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Some(d.midnight().assume_utc());
    }
    PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// `1 May 2024`
pub fn display(s: &str) -> String {
    parse(s)
        .and_then(|d| {
            d.format(format_description!(
                "[day padding:none] [month repr:long] [year]"
            ))
            .ok()
        })
        .unwrap_or_else(|| s.to_owned())
}

/// RFC 3339 in UTC, as Atom wants.
pub fn rfc3339(s: &str) -> Option<String> {
    parse(s).and_then(|d| d.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(display("2024-05-01"), "1 May 2024");
        assert_eq!(rfc3339("2024-05-01").unwrap(), "2024-05-01T00:00:00Z");
        assert_eq!(
            rfc3339("2024-05-01T10:00:00+02:00").unwrap(),
            "2024-05-01T08:00:00Z"
        );
        assert_eq!(
            rfc3339("2024-05-01T10:00:00").unwrap(),
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(display("whenever"), "whenever");
    }
}
