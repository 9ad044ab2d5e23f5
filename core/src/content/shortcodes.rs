//! Shortcode calls in Markdown, as Hugo and Zola write them:
//! `{{< name arg key="v" >}}` / `{{% name %}}` … `{{< /name >}}` (Hugo) and
//! `{{ name(key="v") }}` / `{% name(key="v") %}` … `{% end %}` (Zola). Import resolves the
//! ones that are links (`ref`, `relref`) or plain Markdown (`highlight`, `param`); the builder
//! renders the embeds ([`EMBEDS`]); anything else stays visible as text, with a warning at
//! import. Calls inside fenced code blocks are text, as in both generators.

use std::ops::Range;

/// Shortcodes the builder renders to HTML.
pub const EMBEDS: &[&str] = &["figure", "youtube", "vimeo", "details"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `{{< … >}}` or `{{% … %}}`.
    Hugo,
    /// `{{ name(…) }}`.
    ZolaInline,
    /// `{% name(…) %}` … `{% end %}`.
    ZolaBlock,
}

/// One call (or closing tag) found in a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Call<'a> {
    pub range: Range<usize>,
    pub name: &'a str,
    pub style: Style,
    /// `{{< /name >}}` or Zola's `{% end %}`.
    pub closing: bool,
    pub positional: Vec<String>,
    pub named: Vec<(String, String)>,
}

impl Call<'_> {
    /// A named argument, else the positional one at `index`.
    pub fn arg(&self, key: &str, index: usize) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .or_else(|| self.positional.get(index).map(String::as_str))
    }

    /// Whether the call needs a closing tag: Zola's block form always does; a Hugo call does
    /// when a closing tag with its name follows in `calls`.
    pub fn is_paired(&self, calls: &[Call], at: usize) -> bool {
        match self.style {
            Style::ZolaBlock => !self.closing,
            Style::ZolaInline => false,
            Style::Hugo => calls[at + 1..]
                .iter()
                .take_while(|c| c.name != self.name || c.closing)
                .any(|c| c.closing && c.name == self.name),
        }
    }
}

/// Byte ranges of fenced code blocks (```` ``` ```` or `~~~`), where calls are text.
fn fences(text: &str) -> Vec<Range<usize>> {
    let mut out = vec![];
    let mut open: Option<(usize, &str)> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let marker = if t.starts_with("```") {
            Some("```")
        } else if t.starts_with("~~~") {
            Some("~~~")
        } else {
            None
        };
        match (open, marker) {
            (None, Some(m)) => open = Some((at, m)),
            (Some((start, m)), Some(n)) if m == n => {
                out.push(start..at + line.len());
                open = None;
            }
            _ => {}
        }
        at += line.len();
    }
    if let Some((start, _)) = open {
        out.push(start..text.len());
    }
    out
}

/// Every call in `text`, in order, outside fenced code.
pub fn scan(text: &str) -> Vec<Call<'_>> {
    let fenced = fences(text);
    let mut out = vec![];
    let mut i = 0;
    while let Some(off) = text[i..].find(['{']) {
        let start = i + off;
        i = start + 1;
        if fenced.iter().any(|r| r.contains(&start)) {
            continue;
        }
        if let Some(call) = call_at(text, start) {
            i = call.range.end;
            out.push(call);
        }
    }
    out
}

fn call_at(text: &str, start: usize) -> Option<Call<'_>> {
    let rest = &text[start..];
    for (open, close) in [("{{<", ">}}"), ("{{%", "%}}")] {
        if let Some(inner) = rest.strip_prefix(open) {
            if inner.starts_with("/*") {
                return None; // `{{</* x */>}}`: an escaped call, shown as written
            }
            let end = inner.find(close)?;
            let body = inner[..end].trim().trim_end_matches('/').trim();
            let range = start..start + open.len() + end + close.len();
            let (closing, body) = match body.strip_prefix('/') {
                Some(b) => (true, b.trim()),
                None => (false, body),
            };
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_/".contains(c))
            {
                return None;
            }
            let (positional, named) = hugo_args(&body[name_end..]);
            return Some(Call {
                range,
                name,
                style: Style::Hugo,
                closing,
                positional,
                named,
            });
        }
    }
    for (open, close, style) in [
        ("{{", "}}", Style::ZolaInline),
        ("{%", "%}", Style::ZolaBlock),
    ] {
        if let Some(inner) = rest.strip_prefix(open) {
            let end = inner.find(close)?;
            let body = inner[..end].trim();
            let range = start..start + open.len() + end + close.len();
            if style == Style::ZolaBlock && body == "end" {
                return Some(Call {
                    range,
                    name: "end",
                    style,
                    closing: true,
                    positional: vec![],
                    named: vec![],
                });
            }
            let paren = body.find('(')?;
            let name = body[..paren].trim();
            let args = body[paren + 1..].strip_suffix(')')?;
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return None;
            }
            return Some(Call {
                range,
                name,
                style,
                closing: false,
                positional: vec![],
                named: zola_args(args)?,
            });
        }
    }
    None
}

/// Splits on white space outside quotes (`"…"` or `` `…` ``).
fn words(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut had_quote = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '`' => {
                quote = Some(c);
                had_quote = true;
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                }
                had_quote = false;
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    out
}

fn hugo_args(s: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut positional = vec![];
    let mut named = vec![];
    for w in words(s) {
        match w.split_once('=') {
            Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                named.push((k.to_owned(), v.to_owned()))
            }
            _ => positional.push(w),
        }
    }
    (positional, named)
}

/// `key="v", n=3, flag=true`; `None` when it is not such a list (then it is not a call).
fn zola_args(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = vec![];
    let mut rest = s.trim();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let after = rest[eq + 1..].trim_start();
        let (value, tail) = match after.chars().next()? {
            q @ ('"' | '\'' | '`') => {
                let end = after[1..].find(q)? + 1;
                (after[1..end].to_owned(), &after[end + 1..])
            }
            _ => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        out.push((key.to_owned(), value));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugo_calls_with_arguments_and_closing_tags() {
        let t = "a {{< figure src=\"cat.png\" caption=\"A cat\" >}} b {{% details summary=\"More\" %}}x{{% /details %}} {{< youtube abc123 >}}";
        let calls = scan(t);
        let names: Vec<_> = calls.iter().map(|c| (c.name, c.closing)).collect();
        assert_eq!(
            names,
            [
                ("figure", false),
                ("details", false),
                ("details", true),
                ("youtube", false)
            ]
        );
        assert_eq!(calls[0].arg("src", 0), Some("cat.png"));
        assert_eq!(calls[0].arg("caption", 9), Some("A cat"));
        assert_eq!(calls[3].arg("id", 0), Some("abc123"));
        assert!(calls[1].is_paired(&calls, 1));
        assert!(!calls[0].is_paired(&calls, 0));
        assert_eq!(
            &t[calls[0].range.clone()],
            "{{< figure src=\"cat.png\" caption=\"A cat\" >}}"
        );
    }

    #[test]
    fn zola_calls_and_code_fences() {
        let t = "{{ youtube(id=\"dQw\", autoplay=true) }}\n```\n{{< ref \"x\" >}}\n```\n{% details(summary='S') %}\nbody\n{% end %}\n{{ not a call }}";
        let calls = scan(t);
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert_eq!(
            (calls[0].name, calls[0].style),
            ("youtube", Style::ZolaInline)
        );
        assert_eq!(calls[0].arg("id", 0), Some("dQw"));
        assert_eq!(calls[0].arg("autoplay", 9), Some("true"));
        assert_eq!(
            (calls[1].name, calls[1].arg("summary", 0)),
            ("details", Some("S"))
        );
        assert!(calls[2].closing);
    }

    #[test]
    fn escaped_calls_are_text() {
        assert!(scan("{{</* ref \"x\" */>}}").is_empty());
    }
}
