//! One line of an edge's access log → who was served how many bytes on which day (UTC).
//!
//! - **nginx**: the JSON lines `t8k edge nginx` configures (`log_format t8k_json`: `time` is
//!   `$time_iso8601`, `host`, `status`, `bytes` is `$body_bytes_sent`), or the `combined`
//!   format with `$host` in front (`$host $remote_addr - $remote_user [$time_local] "$request"
//!   $status $body_bytes_sent "$http_referer" "$http_user_agent"`).
//! - **cloudfront**: standard logs (W3C extended, tab-separated, `#Fields:` names the columns;
//!   the viewer's host is `x-host-header`, bytes are `sc-bytes`).
//! - **s3**: S3 server access logs (space-separated with `[time]` and `"…"` fields; the
//!   object key says the site: `…sites/{tenant}/…`; bytes are "Bytes Sent").

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Nginx,
    Cloudfront,
    S3,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "nginx" => Some(Format::Nginx),
            "cloudfront" => Some(Format::Cloudfront),
            "s3" => Some(Format::S3),
            _ => None,
        }
    }
}

/// Whose site a request was for, as the log says it (borrowed from the line: a log of
/// millions of lines makes no string per line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whose<'a> {
    /// The `Host` the visitor asked for.
    Host(Cow<'a, str>),
    /// The bucket key that was read.
    Key(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit<'a> {
    pub whose: Whose<'a>,
    pub day: Date,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Hit(Hit<'a>),
    /// A comment, a header or an empty line.
    Nothing,
    /// Not a line of this format.
    Malformed,
}

/// What a parser remembers between lines: CloudFront's `#Fields:` columns.
#[derive(Default)]
pub struct Columns {
    day: Option<usize>,
    bytes: Option<usize>,
    host: Option<usize>,
}

pub fn line<'a>(format: Format, text: &'a str, columns: &mut Columns) -> Line<'a> {
    let text = text.trim_end_matches(['\r', '\n']);
    if text.trim().is_empty() {
        return Line::Nothing;
    }
    let hit = match format {
        Format::Nginx if text.trim_start().starts_with('{') => nginx_json(text),
        Format::Nginx => combined(text),
        Format::Cloudfront => match text.strip_prefix('#') {
            Some(directive) => {
                columns.read(directive);
                return Line::Nothing;
            }
            None => cloudfront(text, columns),
        },
        Format::S3 => s3(text),
    };
    hit.map_or(Line::Malformed, Line::Hit)
}

/// The fields of a JSON line that count (others are skipped unread).
#[derive(serde::Deserialize)]
struct JsonLine<'a> {
    #[serde(borrow)]
    host: Cow<'a, str>,
    #[serde(borrow)]
    time: Cow<'a, str>,
    bytes: Bytes<'a>,
}

/// `$body_bytes_sent`, as a number or (quoted by an older format) a string.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Bytes<'a> {
    Number(u64),
    Text(&'a str),
}

fn nginx_json(text: &str) -> Option<Hit<'_>> {
    let v: JsonLine = serde_json::from_str(text).ok()?;
    Some(Hit {
        whose: Whose::Host(v.host),
        day: utc_day(OffsetDateTime::parse(&v.time, &Rfc3339).ok()?),
        bytes: match v.bytes {
            Bytes::Number(n) => n,
            Bytes::Text(t) => t.parse().ok()?,
        },
    })
}

fn combined(text: &str) -> Option<Hit<'_>> {
    let f = fields(text);
    // host, addr, -, user, [time], "request", status, bytes, …
    Some(Hit {
        whose: Whose::Host(Cow::Borrowed(f.first()?)),
        day: clf_day(f.get(4)?)?,
        bytes: dash_or_number(f.get(7)?)?,
    })
}

fn s3(text: &str) -> Option<Hit<'_>> {
    let f = fields(text);
    // owner, bucket, [time], ip, requester, request id, operation, key, "uri", status,
    // error, bytes sent, …
    Some(Hit {
        whose: Whose::Key(f.get(7)?),
        day: clf_day(f.get(2)?)?,
        bytes: dash_or_number(f.get(11)?)?,
    })
}

fn cloudfront<'a>(text: &'a str, c: &Columns) -> Option<Hit<'a>> {
    let f: Vec<&str> = text.split('\t').collect();
    let day = Date::parse(f.get(c.day?)?, format_description!("[year]-[month]-[day]")).ok()?;
    Some(Hit {
        whose: Whose::Host(Cow::Borrowed(f.get(c.host?)?)),
        day,
        bytes: dash_or_number(f.get(c.bytes?)?)?,
    })
}

impl Columns {
    fn read(&mut self, directive: &str) {
        let Some(names) = directive.strip_prefix("Fields:") else {
            return;
        };
        let names: Vec<&str> = names.split_whitespace().collect();
        let at = |n: &str| names.iter().position(|x| *x == n);
        *self = Columns {
            day: at("date"),
            bytes: at("sc-bytes"),
            host: at("x-host-header").or(at("cs(Host)")),
        };
    }
}

/// Space-separated fields, where `"…"` (with `\"` escapes) and `[…]` are one field each.
fn fields(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = match rest.as_bytes()[0] {
            b'"' => quoted_end(rest),
            b'[' => rest.find(']').map_or(rest.len(), |i| i + 1),
            _ => rest.find(' ').unwrap_or(rest.len()),
        };
        let field = &rest[..end];
        out.push(field.trim_matches(|c| c == '"' || c == '[' || c == ']'));
        rest = rest[end..].trim_start();
    }
    out
}

/// Where a `"…"` field ends (after its closing quote).
fn quoted_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// `10/Oct/2026:13:55:36 -0700` (nginx's `$time_local`, S3's time) → its day in UTC.
fn clf_day(s: &str) -> Option<Date> {
    let fmt = format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(s, fmt).ok().map(utc_day)
}

fn utc_day(t: OffsetDateTime) -> Date {
    t.to_offset(time::UtcOffset::UTC).date()
}

fn dash_or_number(s: &str) -> Option<u64> {
    match s {
        "-" => Some(0),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn hit(format: Format, text: &str) -> Hit<'_> {
        match line(format, text, &mut Columns::default()) {
            Line::Hit(h) => h,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn nginx_json_and_combined_lines() {
        let h = hit(
            Format::Nginx,
            r#"{"time":"2026-11-30T23:30:00-02:00","host":"acme.example.com","status":200,"bytes":"5120"}"#,
        );
        assert_eq!(
            h,
            Hit {
                whose: Whose::Host(Cow::Borrowed("acme.example.com")),
                day: date!(2026 - 12 - 01),
                bytes: 5120
            }
        );
        let h = hit(
            Format::Nginx,
            r#"acme.example.com 10.0.0.1 - - [30/Nov/2026:10:00:01 +0000] "GET /a \"b\" HTTP/1.1" 200 1234 "-" "curl/8""#,
        );
        assert_eq!((h.bytes, h.day), (1234, date!(2026 - 11 - 30)));
        assert_eq!(
            line(Format::Nginx, "garbage line", &mut Columns::default()),
            Line::Malformed
        );
    }

    #[test]
    fn s3_lines_name_the_key() {
        let h = hit(
            Format::S3,
            r#"79a5 t8k-bundles [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT root/sites/acme/20260206-ab/index.html "GET /t8k-bundles/root/sites/acme/20260206-ab/index.html HTTP/1.1" 200 - 2662 2662 70 10 "-" "curl/8" - s9lzHYrFp76Z SigV4 ECDHE TLS_AES_128_GCM_SHA256 AuthHeader t8k-bundles.s3.amazonaws.com TLSv1.2 - -"#,
        );
        assert_eq!(
            h,
            Hit {
                whose: Whose::Key("root/sites/acme/20260206-ab/index.html"),
                day: date!(2026 - 02 - 06),
                bytes: 2662
            }
        );
    }

    #[test]
    fn cloudfront_columns_come_from_the_fields_line() {
        let mut c = Columns::default();
        let fields = "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status x-host-header";
        assert_eq!(
            line(Format::Cloudfront, "#Version: 1.0", &mut c),
            Line::Nothing
        );
        assert_eq!(line(Format::Cloudfront, fields, &mut c), Line::Nothing);
        let row = "2026-11-30\t10:00:00\tFRA2\t4096\t192.0.2.1\tGET\td111.cloudfront.net\t/\t200\twww.acme.org";
        match line(Format::Cloudfront, row, &mut c) {
            Line::Hit(h) => assert_eq!(
                (h.whose, h.bytes),
                (Whose::Host(Cow::Borrowed("www.acme.org")), 4096)
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            line(Format::Cloudfront, "2026-11-30\tshort", &mut c),
            Line::Malformed
        );
    }
}
