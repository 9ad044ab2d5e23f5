//! A page back to a file, in the shape [`super::parse`] reads: TOML front matter (YAML when a
//! value has no TOML form), then the panes.

use serde_json::{Map, Value};

use super::PANE_MARKER;
use crate::content::Page;

fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => n
            .as_i64()
            .map(toml::Value::Integer)
            .or_else(|| n.as_f64().map(toml::Value::Float))?,
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Option<_>>()?),
        Value::Object(m) => toml::Value::Table(
            m.iter()
                .map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

/// The front matter of a page as an ordered JSON map. The path is not in it: the file's place
/// gives it (and `url`, set by the caller when the place cannot).
fn front_matter(page: &Page, url: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("title".into(), page.title.clone().into());
    if let Some(url) = url {
        m.insert("url".into(), url.into());
    }
    if !page.description.is_empty() {
        m.insert("description".into(), page.description.clone().into());
    }
    if let Some(d) = &page.date {
        m.insert("date".into(), d.clone().into());
    }
    if page.draft {
        m.insert("draft".into(), true.into());
    }
    if page.weight != 0 {
        m.insert("weight".into(), page.weight.into());
    }
    match page.menus.as_slice() {
        [] => {}
        [one] => drop(m.insert("menu".into(), one.clone().into())),
        many => drop(m.insert("menu".into(), many.to_vec().into())),
    }
    if let Some(s) = &page.social_image {
        m.insert("social_image".into(), s.clone().into());
    }
    if !page.aliases.is_empty() {
        let aliases = page.aliases.iter().map(|a| format!("/{a}/"));
        m.insert("aliases".into(), aliases.collect::<Vec<_>>().into());
    }
    for (k, v) in &page.extra {
        m.insert(k.clone(), v.clone());
    }
    // Last: a TOML table must follow the plain keys.
    if !page.taxonomies.is_empty() {
        let table: Map<String, Value> = page
            .taxonomies
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        m.insert("taxonomies".into(), table.into());
    }
    m
}

/// Renders a page back to a file: TOML front matter, or YAML when a value has no TOML form
/// (null). Parsing the result (at the same place, or with `url`) gives the same page.
pub fn render(page: &Page, url: Option<&str>) -> String {
    let fm = front_matter(page, url);
    let mut out = match json_to_toml(&Value::Object(fm.clone())) {
        Some(toml::Value::Table(t)) => format!(
            "+++\n{}+++\n",
            toml::to_string(&t).expect("TOML tables serialise")
        ),
        _ => format!(
            "---\n{}---\n",
            serde_yaml_ng::to_string(&fm).expect("JSON maps serialise as YAML")
        ),
    };
    let single = page.panes.len() == 1 && page.panes[0].options.is_empty();
    if single {
        out.push_str(&page.panes[0].markdown);
        return out;
    }
    for (i, pane) in page.panes.iter().enumerate() {
        out.push_str(PANE_MARKER);
        if !pane.options.is_empty() {
            out.push(' ');
            out.push_str(&serde_json::to_string(&pane.options).expect("JSON maps serialise"));
        }
        out.push_str(" -->\n");
        out.push_str(&pane.markdown);
        if i + 1 < page.panes.len() {
            out.push('\n');
        }
    }
    out
}
