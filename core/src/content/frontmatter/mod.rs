//! Markdown files with front matter, in the shape Hugo and Zola sites use: TOML between `+++`
//! lines or YAML between `---` lines, then the body. A body may hold several panes separated
//! by `<!-- t8k:pane -->` lines (optionally `<!-- t8k:pane {"json": "options"} -->`); a file
//! without such lines is one pane.

use serde_json::{Map, Value};

use std::collections::BTreeMap;

use super::paths::{self, Generator};
use super::{Kind, Page, Pane, check_slug};

mod write;

pub use write::render;

const PANE_MARKER: &str = "<!-- t8k:pane";

/// A parse problem at a line of the file (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

fn problem(line: usize, message: impl Into<String>) -> Problem {
    Problem {
        line,
        message: message.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Toml,
    Yaml,
    /// A JSON object at the top of the file (Hugo reads it).
    Json,
    /// No front matter at all (Hugo builds such files; Zola refuses them).
    None,
}

/// Splits `text` into (format, front matter, line where it starts, body). A UTF-8 byte order
/// mark and blank lines before the opening delimiter are skipped, as Hugo and Zola do.
fn split(text: &str) -> Result<(Format, &str, usize, &str), Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let blank: usize = text
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty() && l.ends_with('\n'))
        .map(str::len)
        .sum();
    let skipped = text[..blank].matches('\n').count();
    let text = &text[blank..];
    let problem = |line: usize, m: String| problem(skipped + line, m);
    let (format, delim) = if text.starts_with("+++") {
        (Format::Toml, "+++")
    } else if text.starts_with("---") {
        (Format::Yaml, "---")
    } else if text.starts_with('{') {
        // The object ends where a JSON reader stops.
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        return match values.next() {
            Some(Ok(_)) => {
                let end = values.byte_offset();
                let body = text[end..].strip_prefix('\n').unwrap_or(&text[end..]);
                Ok((Format::Json, &text[..end], skipped + 1, body))
            }
            Some(Err(e)) => Err(problem(e.line(), format!("JSON front matter: {e}"))),
            None => Err(problem(1, "JSON front matter is empty".into())),
        };
    } else {
        return Ok((Format::None, "", skipped + 1, text));
    };
    let first_nl = text
        .find('\n')
        .ok_or_else(|| problem(1, "front matter is never closed".into()))?;
    if text[..first_nl].trim_end() != delim {
        return Err(problem(
            1,
            format!("the opening `{delim}` must be alone on its line"),
        ));
    }
    let rest = &text[first_nl + 1..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == delim {
            let fm = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((format, fm, skipped + 2, body));
        }
        offset += line.len();
    }
    Err(problem(
        1,
        format!(
            "front matter opened with `{delim}` is never closed; add a `{delim}` line after it"
        ),
    ))
}

/// The 1-based line (within the file) on which `key` is set in the front matter.
fn key_line(fm: &str, start: usize, key: &str) -> usize {
    fm.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(['=', ':']))
        })
        .map_or(start, |i| start + i)
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn parse_front_matter(
    format: Format,
    fm: &str,
    start: usize,
) -> Result<Map<String, Value>, Problem> {
    match format {
        Format::Toml => {
            let table: toml::Table = toml::from_str(fm).map_err(|e| {
                let line = e.span().map_or(start, |s| {
                    start + fm[..s.start.min(fm.len())].matches('\n').count()
                });
                problem(line, format!("TOML front matter: {}", e.message()))
            })?;
            Ok(table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect())
        }
        Format::Json => match serde_json::from_str::<Value>(fm) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(problem(start, "JSON front matter must be an object")),
            Err(e) => Err(problem(
                start + e.line().saturating_sub(1),
                format!("JSON front matter: {e}"),
            )),
        },
        Format::None => Ok(Map::new()),
        Format::Yaml => {
            if fm.trim().is_empty() {
                return Ok(Map::new());
            }
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(fm).map_err(|e| {
                let line = e
                    .location()
                    .map_or(start, |l| start + l.line().saturating_sub(1));
                problem(line, format!("YAML front matter: {e}"))
            })?;
            match serde_json::to_value(value) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(problem(
                    start,
                    "YAML front matter must be a mapping of keys to values",
                )),
                Err(e) => Err(problem(start, format!("YAML front matter: {e}"))),
            }
        }
    }
}

/// How a site's files are read: whose addressing rules, and which front matter keys are
/// taxonomies (Hugo's `tags` and `categories` by default; Zola's live under `[taxonomies]`).
#[derive(Clone, Debug)]
pub struct Rules {
    pub generator: Generator,
    pub taxonomies: Vec<String>,
}

impl Rules {
    pub fn of(generator: Generator) -> Rules {
        Rules {
            generator,
            taxonomies: vec!["tags".into(), "categories".into()],
        }
    }
}

/// A parsed file: the page (its `slug` is one segment, from front matter or `stem`) and the
/// whole path its front matter asks for (Hugo `url`, Zola `path`), with that key's line.
#[derive(Debug)]
pub struct Parsed {
    pub page: Page,
    pub url: Option<(String, usize)>,
    /// The line of `aliases`, for problems found once the page's path is known.
    pub aliases_line: usize,
}

/// Parses one file. `stem` (the file name without `.md`, or the folder name for `index.md`)
/// gives the slug when the front matter has none.
pub fn parse(text: &str, stem: &str, rules: &Rules) -> Result<Parsed, Problem> {
    let (format, fm, start, body) = split(text)?;
    if format == Format::None && rules.generator == Generator::Zola {
        return Err(problem(
            start,
            "no front matter: start the file with `+++` (TOML) or `---` (YAML), as Zola requires",
        ));
    }
    let mut map = parse_front_matter(format, fm, start)?;
    let line = |k: &str| key_line(fm, start, k);
    let generator = rules.generator;

    // Hugo and Zola build pages without a title: take the first heading, else the name.
    let title = match map.remove("title") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        Some(Value::String(_)) | None => derived_title(body, stem),
        Some(n @ Value::Number(_)) => n.to_string(),
        Some(_) => return Err(problem(line("title"), "`title` must be a string")),
    };
    let slug = match map.remove("slug") {
        Some(Value::String(s)) => generator.page_segment(&s),
        None => generator.page_segment(stem),
        Some(_) => return Err(problem(line("slug"), "`slug` must be a string")),
    };
    paths::check_segment(&slug).map_err(|m| problem(line("slug"), m))?;
    let url_key = match generator {
        Generator::Hugo => "url",
        Generator::Zola => "path",
    };
    let url = opt_string(&mut map, url_key)
        .map_err(|m| problem(line(url_key), m))?
        .map(|u| (u, line(url_key)));
    let description = opt_string(&mut map, "description")
        .map_err(|m| problem(line("description"), m))?
        .unwrap_or_default();
    let social_image =
        opt_string(&mut map, "social_image").map_err(|m| problem(line("social_image"), m))?;
    let date = opt_string(&mut map, "date")
        .and_then(|d| d.map(|d| normalise_date(&d)).transpose())
        .map_err(|m| problem(line("date"), m))?;
    let draft = match map.remove("draft") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(problem(line("draft"), "`draft` must be true or false")),
    };
    let weight = match map.remove("weight") {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| problem(line("weight"), "`weight` must be a whole number"))?,
    };
    let menus = parse_menus(map.remove("menu")).map_err(|m| problem(line("menu"), m))?;
    let aliases =
        string_list(map.remove("aliases"), "aliases").map_err(|m| problem(line("aliases"), m))?;
    let taxonomies = take_taxonomies(&mut map, rules).map_err(|(k, m)| problem(line(&k), m))?;
    let panes = split_panes(body, start + fm.lines().count() + 1)?;
    Ok(Parsed {
        page: Page {
            slug,
            kind: Kind::Page,
            title,
            description,
            date,
            draft,
            weight,
            menus,
            social_image,
            aliases,
            taxonomies,
            extra: map,
            panes,
        },
        url,
        aliases_line: line("aliases"),
    })
}

/// A string or a list of strings (`aliases`, taxonomy terms).
fn string_list(v: Option<Value>, key: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(format!("`{key}` must be a list of strings")),
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be a string or a list of strings")),
    }
}

/// Taxonomy terms: the site's taxonomy keys at the top (Hugo: `tags = [...]`) and a
/// `[taxonomies]` table (Zola, and what export writes). Errors name the key.
fn take_taxonomies(
    map: &mut Map<String, Value>,
    rules: &Rules,
) -> Result<BTreeMap<String, Vec<String>>, (String, String)> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if rules.generator == Generator::Hugo {
        for key in &rules.taxonomies {
            if let Some(v) = map.remove(key) {
                out.insert(
                    key.clone(),
                    string_list(Some(v), key).map_err(|m| (key.clone(), m))?,
                );
            }
        }
    }
    match map.remove("taxonomies") {
        None => {}
        Some(Value::Object(table)) => {
            for (key, v) in table {
                let terms = string_list(Some(v), &key).map_err(|m| ("taxonomies".into(), m))?;
                out.entry(key).or_default().extend(terms);
            }
        }
        Some(_) => {
            return Err((
                "taxonomies".into(),
                "`taxonomies` must be a table of lists, like [taxonomies] tags = [\"a\"]".into(),
            ));
        }
    }
    out.retain(|_, terms| !terms.is_empty());
    for terms in out.values_mut() {
        let mut seen = std::collections::HashSet::new();
        terms.retain(|t| seen.insert(t.clone()));
    }
    super::check_taxonomies(&out).map_err(|m| ("taxonomies".to_owned(), m))?;
    Ok(out)
}

/// The title of a page whose front matter has none: its first `# ` heading outside code
/// fences, else its file name made readable (`getting_started-guide` → "Getting started
/// guide").
fn derived_title(body: &str, stem: &str) -> String {
    let mut fenced = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
        } else if let Some(h) = t.strip_prefix("# ").filter(|_| !fenced) {
            let h = h.trim().trim_end_matches('#').trim();
            if !h.is_empty() {
                return h.to_owned();
            }
        }
    }
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Untitled".to_owned(),
    }
}

fn opt_string(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn is_date(d: &str) -> bool {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    time::Date::parse(
        d,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
        || time::OffsetDateTime::parse(d, &Rfc3339).is_ok()
        || time::PrimitiveDateTime::parse(d, &Iso8601::DEFAULT).is_ok()
        || time::OffsetDateTime::parse(d, &Iso8601::DEFAULT).is_ok()
}

/// Accepts `YYYY-MM-DD`, RFC 3339 and local date-times (`YYYY-MM-DDTHH:MM:SS`), and the forms
/// Hugo also reads with a space for the `T` and before the offset (`2024-05-01 09:30:00
/// +0200`), which are stored in the ISO form.
fn normalise_date(d: &str) -> Result<String, String> {
    let d = d.trim();
    if is_date(d) {
        return Ok(d.to_owned());
    }
    let mut iso = d.replacen(' ', "T", 1).replace(' ', "");
    // `+0200` → `+02:00`
    let n = iso.len();
    if n > 5 && iso.is_char_boundary(n - 5) {
        let tail = &iso[n - 5..];
        if tail.starts_with(['+', '-']) && tail[1..].chars().all(|c| c.is_ascii_digit()) {
            iso.insert(n - 2, ':');
        }
    }
    if is_date(&iso) {
        Ok(iso)
    } else {
        Err(format!(
            "`date` {d:?} is not a date; write it like 2024-05-01 or 2024-05-01T09:30:00Z"
        ))
    }
}

/// Hugo's `menu` is a name, a list of names, or a map keyed by name.
fn parse_menus(v: Option<Value>) -> Result<Vec<String>, String> {
    let names: Vec<String> = match v {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or("`menu` lists must hold menu names (strings)".to_owned())
            })
            .collect::<Result<_, _>>()?,
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(_) => return Err("`menu` must be a menu name or a list of names".into()),
    };
    for n in &names {
        check_slug(n).map_err(|m| format!("menu name: {m}"))?;
    }
    let mut names = names;
    names.sort();
    names.dedup();
    Ok(names)
}

fn marker_options(line: &str) -> Option<Result<Map<String, Value>, String>> {
    let inner = line
        .trim()
        .strip_prefix(PANE_MARKER)?
        .strip_suffix("-->")?
        .trim();
    if inner.is_empty() {
        return Some(Ok(Map::new()));
    }
    Some(match serde_json::from_str::<Value>(inner) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(format!("pane options {inner:?} must be a JSON object")),
    })
}

fn split_panes(body: &str, first_line: usize) -> Result<Vec<Pane>, Problem> {
    let mut panes: Vec<Pane> = vec![];
    let mut current = Pane::markdown("");
    let mut seen_marker = false;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        match marker_options(line) {
            Some(opts) => {
                let options = opts.map_err(|m| problem(first_line + i, m))?;
                // The newline before a marker belongs to the marker.
                if current.markdown.ends_with('\n') {
                    current.markdown.pop();
                }
                if seen_marker || !current.markdown.trim().is_empty() {
                    panes.push(std::mem::replace(&mut current, Pane::markdown("")));
                }
                current = Pane {
                    markdown: String::new(),
                    options,
                };
                seen_marker = true;
            }
            None => current.markdown.push_str(line),
        }
    }
    panes.push(current);
    Ok(panes)
}

#[cfg(test)]
mod tests;
