//! Links as the source site resolved them, rewritten to the imported site's addresses:
//! Hugo's `ref` / `relref` shortcodes and Zola's `@/file.md` links become the target page's
//! URL; relative links to a bundle's files become the media URLs they were imported as.
//! `highlight` becomes a fenced code block and `param` its value. Other shortcodes are kept:
//! the builder renders the embeds it knows ([`shortcodes::EMBEDS`]); the rest are warned about.

use std::collections::HashMap;

use pulldown_cmark::{Event, Parser, Tag};
use serde_json::{Map, Value};

use crate::content::shortcodes::{self, Call, Style};

/// Content files by the names links use for them (`docs/intro` for `docs/intro.md`,
/// `docs/intro/index.md` and `docs/intro/_index.md`; `""` for the home section), lower-cased.
#[derive(Default)]
pub struct Index {
    by_key: HashMap<String, String>,
    by_name: HashMap<String, Option<String>>,
}

/// A source file's key: no `.md`, no `index`/`_index` file name, lower-case.
fn key_of(file: &str) -> String {
    let f = file.trim_start_matches("./").trim_start_matches('/');
    let f = f
        .strip_suffix(".md")
        .or_else(|| f.strip_suffix(".markdown"))
        .unwrap_or(f);
    let f = f.trim_end_matches('/');
    let f = match f.rsplit_once('/') {
        Some((d, "index" | "_index")) => d,
        None if matches!(f, "index" | "_index") => "",
        _ => f,
    };
    f.to_lowercase()
}

/// `a/b/../c` → `a/c`; `None` when it climbs above the top.
fn normalise(path: &str) -> Option<String> {
    let mut out: Vec<&str> = vec![];
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

impl Index {
    pub fn add(&mut self, file: &str, url: String) {
        let key = key_of(file);
        let name = key.rsplit('/').next().unwrap_or("").to_owned();
        self.by_name
            .entry(name)
            .and_modify(|u| *u = None)
            .or_insert_with(|| Some(url.clone()));
        self.by_key.insert(key, url);
    }

    /// The URL of `target` (a file as Hugo's `ref` or Zola's `@/` names it, maybe with
    /// `#anchor`), looked up beside `dir`, then from the top, then by unique name.
    pub fn resolve(&self, target: &str, dir: &str) -> Option<String> {
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, format!("#{a}")),
            None => (target, String::new()),
        };
        let key = key_of(file);
        let mut tries = vec![];
        if !file.starts_with('/') {
            tries.extend(normalise(&format!("{dir}/{key}")));
        }
        tries.extend(normalise(&key));
        let found = tries
            .iter()
            .find_map(|k| self.by_key.get(&k.to_lowercase()))
            .or_else(|| self.by_name.get(&key).and_then(Option::as_ref))?;
        Some(format!("{found}{anchor}"))
    }
}

/// What one page's Markdown is resolved against.
pub struct Context<'a> {
    pub index: &'a Index,
    /// The file's folder, relative to the content folder.
    pub dir: &'a str,
    /// Bundle file name → media URL.
    pub media: &'a HashMap<String, String>,
    pub page_params: &'a Map<String, Value>,
    pub site_params: &'a Map<String, Value>,
}

fn param_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

impl Context<'_> {
    fn param(&self, name: &str) -> Option<String> {
        let find = |m: &Map<String, Value>| {
            let mut v = m.get(name.split('.').next()?)?;
            for part in name.split('.').skip(1) {
                v = v.get(part)?;
            }
            param_text(v)
        };
        find(self.page_params).or_else(|| find(self.site_params))
    }

    fn media_url(&self, target: &str) -> Option<&String> {
        let t = target.trim_start_matches("./");
        let t = percent_encoding::percent_decode_str(t).decode_utf8().ok()?;
        self.media.get(t.as_ref())
    }

    /// Rewrites `md`; warnings name what could not be resolved.
    pub fn rewrite(&self, md: &str, warnings: &mut Vec<String>) -> String {
        let md = self.shortcodes(md, warnings);
        let md = self.zola_links(&md, warnings);
        self.media_links(&md)
    }

    fn shortcodes(&self, md: &str, warnings: &mut Vec<String>) -> String {
        let calls = shortcodes::scan(md);
        let mut edits: Vec<(std::ops::Range<usize>, String)> = vec![];
        let mut skip_to = 0;
        for (i, call) in calls.iter().enumerate() {
            if call.range.start < skip_to || call.closing {
                continue;
            }
            match (call.name, call.style) {
                ("ref" | "relref", Style::Hugo) => {
                    let target = call.arg("path", 0).unwrap_or("");
                    match self.index.resolve(target, self.dir) {
                        Some(url) => edits.push((call.range.clone(), url)),
                        None => warnings.push(format!(
                            "{} {target:?} names no imported page; left as written",
                            call.name
                        )),
                    }
                }
                ("highlight", Style::Hugo) => {
                    if let Some(end) = closing(&calls, i) {
                        let code = md[call.range.end..end.start].trim_matches('\n');
                        let lang = call.arg("lang", 0).unwrap_or("");
                        edits.push((call.range.start..end.end, format!("```{lang}\n{code}\n```")));
                        skip_to = end.end;
                    }
                }
                ("param", Style::Hugo) => {
                    let name = call.arg("name", 0).unwrap_or("");
                    match self.param(name) {
                        Some(v) => edits.push((call.range.clone(), v)),
                        None => {
                            warnings.push(format!("param {name:?} is not set; left as written"))
                        }
                    }
                }
                (name, _) if shortcodes::EMBEDS.contains(&name) => {
                    if let Some(src) = call.arg("src", usize::MAX).and_then(|s| self.media_url(s)) {
                        let text = &md[call.range.clone()];
                        let old = call.arg("src", usize::MAX).unwrap_or("");
                        edits.push((call.range.clone(), text.replacen(old, src, 1)));
                    }
                }
                (name, _) => warnings.push(format!(
                    "shortcode {name:?} is not one t8k renders; it is shown as written"
                )),
            }
        }
        apply(md, edits)
    }

    /// Zola's internal links, `[text](@/docs/intro.md#part)`, resolved from the top.
    fn zola_links(&self, md: &str, warnings: &mut Vec<String>) -> String {
        let mut edits = vec![];
        let mut from = 0;
        while let Some(off) = md[from..].find("@/") {
            let start = from + off;
            from = start + 2;
            let before = md[..start].trim_end_matches(' ');
            if !(before.ends_with('(') || before.ends_with("]:")) {
                continue;
            }
            let end = md[start..]
                .find(|c: char| c == ')' || c.is_whitespace())
                .map_or(md.len(), |e| start + e);
            let target = &md[start + 1..end];
            match self.index.resolve(target, "") {
                Some(url) => edits.push((start..end, url)),
                None => warnings.push(format!("link @{target} names no imported page")),
            }
        }
        apply(md, edits)
    }

    /// Relative links and images that name the bundle's own files.
    fn media_links(&self, md: &str) -> String {
        if self.media.is_empty() {
            return md.to_owned();
        }
        let mut edits = vec![];
        for (event, range) in Parser::new(md).into_offset_iter() {
            let dest = match &event {
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => dest_url,
                _ => continue,
            };
            let Some(url) = self.media_url(dest) else {
                continue;
            };
            // The destination is written after the text: replace its last occurrence.
            if let Some(at) = md[range.clone()].rfind(dest.as_ref()) {
                let start = range.start + at;
                edits.push((start..start + dest.len(), url.clone()));
            }
        }
        for line_start in line_starts(md) {
            let line = md[line_start..].lines().next().unwrap_or("");
            // Reference definitions: `[name]: cat.png "title"`.
            let Some((_, rest)) = line
                .trim_start()
                .strip_prefix('[')
                .and_then(|l| l.split_once("]:"))
            else {
                continue;
            };
            let dest = rest.split_whitespace().next().unwrap_or("");
            if let Some(url) = self.media_url(dest) {
                let at = line_start + line.rfind(dest).unwrap_or(0);
                edits.push((at..at + dest.len(), url.clone()));
            }
        }
        edits.sort_by_key(|(r, _)| r.start);
        edits.dedup_by_key(|(r, _)| r.start);
        apply(md, edits)
    }
}

fn line_starts(md: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(md.match_indices('\n').map(|(i, _)| i + 1))
}

/// The closing tag of the call at `i`.
fn closing(calls: &[Call], i: usize) -> Option<std::ops::Range<usize>> {
    calls[i + 1..]
        .iter()
        .find(|c| c.closing && c.name == calls[i].name)
        .map(|c| c.range.clone())
}

/// Applies non-overlapping edits (any order).
fn apply(md: &str, mut edits: Vec<(std::ops::Range<usize>, String)>) -> String {
    if edits.is_empty() {
        return md.to_owned();
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(md.len());
    let mut at = 0;
    for (range, text) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&md[at..range.start]);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&md[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(
        index: &'a Index,
        media: &'a HashMap<String, String>,
        params: &'a Map<String, Value>,
    ) -> Context<'a> {
        Context {
            index,
            dir: "docs",
            media,
            page_params: params,
            site_params: params,
        }
    }

    #[test]
    fn refs_zola_links_and_bundle_files_are_rewritten() {
        let mut index = Index::default();
        index.add("docs/intro.md", "/docs/intro/".into());
        index.add("docs/_index.md", "/docs/".into());
        index.add("blog/post/index.md", "/blog/post/".into());
        let media = HashMap::from([("cat.png".to_owned(), "/media/ab/abc.png".to_owned())]);
        let mut params = Map::new();
        params.insert("version".into(), "1.2".into());
        let c = ctx(&index, &media, &params);
        let mut w = vec![];
        let md = "[a]({{< ref \"intro.md\" >}}) [b]({{< relref \"/blog/post\" >}}#x) [c](@/docs/_index.md) ![cat](cat.png) v{{< param version >}} {{< nope >}}\n\n[d]: ./cat.png\n";
        let out = c.rewrite(md, &mut w);
        assert_eq!(
            out,
            "[a](/docs/intro/) [b](/blog/post/#x) [c](/docs/) ![cat](/media/ab/abc.png) v1.2 {{< nope >}}\n\n[d]: /media/ab/abc.png\n"
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("nope"));
        let out = c.rewrite(
            "{{< highlight rust >}}\nfn main() {}\n{{< /highlight >}}",
            &mut w,
        );
        assert_eq!(out, "```rust\nfn main() {}\n```");
        assert_eq!(
            c.rewrite("[x]({{< ref \"missing\" >}})", &mut w),
            "[x]({{< ref \"missing\" >}})"
        );
        assert!(w.last().unwrap().contains("missing"));
    }
}
