//! The shortcodes imported sites use for embeds, rendered to the HTML Hugo's built-ins give:
//! `figure`, `youtube`, `vimeo` and `details` (Hugo's `{{< … >}}` and Zola's `{{ …() }}` /
//! `{% …() %}` forms). Before Markdown runs, each call becomes a placeholder word; after (and
//! after sanitising), the placeholder becomes the HTML made here from escaped arguments, so
//! embeds work without allowing raw HTML.

use t8k_core::content::shortcodes::{self, EMBEDS};

use crate::markdown::escape;

/// Markdown with placeholders, and the HTML (or, for `details`, the inner Markdown) each one
/// stands for. Placeholders carry a random nonce, so text that merely looks like one (in an
/// attribute, say) is never replaced with an embed.
pub struct Extracted {
    pub markdown: String,
    pub embeds: Vec<Embed>,
    nonce: u64,
}

pub enum Embed {
    Html(String),
    /// A `figure`: rendered with the page, so an uploaded image in it becomes `<picture>`.
    Figure(Figure),
    /// `<details>`: its summary line and the Markdown inside.
    Details {
        summary: String,
        open: bool,
        inner: String,
    },
}

fn placeholder(nonce: u64, n: usize) -> String {
    format!("t8kembed{nonce:016x}n{n}x")
}

/// A fresh random number (std's hasher keys are random per process and per use).
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

fn id_ok(id: &str, digits_only: bool) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| {
            c.is_ascii_digit()
                || (!digits_only && (c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        })
}

/// Only http(s) and site paths go into `src`/`href`.
fn safe(url: &str) -> Option<String> {
    let u = url.trim();
    let ok = u.starts_with("https://")
        || u.starts_with("http://")
        || u.starts_with('/')
        || !u.contains(':');
    ok.then(|| escape(u))
}

fn iframe(src: &str, title: &str) -> String {
    format!(
        "<div class=\"embed\"><iframe src=\"{src}\" title=\"{}\" loading=\"lazy\" allow=\"accelerometer; autoplay; encrypted-media; gyroscope; picture-in-picture\" allowfullscreen></iframe></div>",
        escape(title)
    )
}

/// A `figure` call's checked arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// A safe URL (no script scheme), HTML-escaped.
    pub src: String,
    /// As written (escaped when rendered).
    pub alt: String,
    /// ` width="…" height="…"` as given (digits only).
    dims: String,
    link: Option<String>,
    caption: Option<String>,
}

impl Figure {
    /// The figure's markup around `img` (the page's markup for an uploaded image), or a plain
    /// lazy `<img>`.
    pub fn html(&self, img: Option<String>) -> String {
        let mut img = img.unwrap_or_else(|| {
            format!(
                "<img src=\"{}\" alt=\"{}\" loading=\"lazy\"{}>",
                self.src,
                escape(&self.alt),
                self.dims
            )
        });
        if let Some(link) = &self.link {
            img = format!("<a href=\"{link}\">{img}</a>");
        }
        let caption = self.caption.as_ref().map_or(String::new(), |c| {
            format!("<figcaption>{}</figcaption>", escape(c))
        });
        format!("<figure>{img}{caption}</figure>")
    }
}

fn figure(call: &shortcodes::Call) -> Option<Figure> {
    let src = safe(call.arg("src", 0)?)?;
    let alt = call
        .arg("alt", usize::MAX)
        .or(call.arg("caption", usize::MAX))
        .unwrap_or("")
        .to_owned();
    let mut dims = String::new();
    for dim in ["width", "height"] {
        if let Some(v) = call
            .arg(dim, usize::MAX)
            .filter(|v| v.chars().all(|c| c.is_ascii_digit()))
        {
            dims.push_str(&format!(" {dim}=\"{v}\""));
        }
    }
    Some(Figure {
        src,
        alt,
        dims,
        link: call.arg("link", usize::MAX).and_then(safe),
        caption: call
            .arg("caption", usize::MAX)
            .or(call.arg("title", usize::MAX))
            .map(str::to_owned),
    })
}

fn embed_of(call: &shortcodes::Call) -> Option<Embed> {
    match call.name {
        "figure" => figure(call).map(Embed::Figure),
        "youtube" => {
            let id = call.arg("id", 0).filter(|id| id_ok(id, false))?;
            let title = call.arg("title", usize::MAX).unwrap_or("YouTube video");
            Some(Embed::Html(iframe(
                &format!("https://www.youtube-nocookie.com/embed/{id}"),
                title,
            )))
        }
        "vimeo" => {
            let id = call.arg("id", 0).filter(|id| id_ok(id, true))?;
            let title = call.arg("title", usize::MAX).unwrap_or("Vimeo video");
            Some(Embed::Html(iframe(
                &format!("https://player.vimeo.com/video/{id}"),
                title,
            )))
        }
        _ => None,
    }
}

/// Replaces the embed calls in `md` with placeholders; calls it cannot render (a `youtube`
/// without a usable id) stay as written.
pub fn extract(md: &str) -> Extracted {
    let calls = shortcodes::scan(md);
    let mut out = Extracted {
        markdown: String::with_capacity(md.len()),
        embeds: vec![],
        nonce: nonce(),
    };
    let mut at = 0;
    let mut i = 0;
    while i < calls.len() {
        let call = &calls[i];
        i += 1;
        if call.closing || call.range.start < at || !EMBEDS.contains(&call.name) {
            continue;
        }
        let (end, embed) = if call.name == "details" {
            let Some(close) = calls[i..].iter().position(|c| {
                c.closing
                    && (c.name == "details"
                        || (call.style == shortcodes::Style::ZolaBlock && c.name == "end"))
            }) else {
                continue;
            };
            let close = &calls[i + close];
            let inner = md[call.range.end..close.range.start].to_owned();
            let summary = call.arg("summary", 0).unwrap_or("Details").to_owned();
            let open = call.arg("open", usize::MAX).is_some_and(|v| v == "true");
            (
                close.range.end,
                Embed::Details {
                    summary,
                    open,
                    inner,
                },
            )
        } else {
            match embed_of(call) {
                Some(embed) => (call.range.end, embed),
                None => continue,
            }
        };
        out.markdown.push_str(&md[at..call.range.start]);
        out.markdown
            .push_str(&placeholder(out.nonce, out.embeds.len()));
        out.embeds.push(embed);
        at = end;
    }
    out.markdown.push_str(&md[at..]);
    out
}

impl Extracted {
    /// Puts each embed's HTML (`rendered`, in order) where its placeholder is in `html`; a
    /// placeholder alone in a paragraph replaces the paragraph.
    pub fn restore(&self, html: &str, rendered: &[String]) -> String {
        restore(self.nonce, html, rendered)
    }
}

fn restore(nonce: u64, html: &str, rendered: &[String]) -> String {
    let mut out = html.to_owned();
    for (n, h) in rendered.iter().enumerate() {
        let p = placeholder(nonce, n);
        let alone = format!("<p>{p}</p>");
        out = if out.contains(&alone) {
            out.replacen(&alone, h, 1)
        } else {
            out.replacen(&p, h, 1)
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_become_placeholders_and_bad_ids_stay_text() {
        let e = extract(
            "A\n\n{{< youtube abc_1 >}}\n\n{{< youtube \"bad id\" >}}\n{{% details summary=\"More\" %}}\n*x*\n{{% /details %}}",
        );
        assert_eq!(e.embeds.len(), 2);
        let (p0, p1) = (placeholder(e.nonce, 0), placeholder(e.nonce, 1));
        assert!(e.markdown.contains(&p0) && e.markdown.contains(&p1));
        assert_ne!(
            e.nonce,
            extract("{{< youtube x >}}").nonce,
            "a nonce per render"
        );
        assert!(e.markdown.contains("{{< youtube \"bad id\" >}}"));
        match &e.embeds[0] {
            Embed::Html(h) => assert!(h.contains("youtube-nocookie.com/embed/abc_1"), "{h}"),
            _ => panic!("an iframe"),
        }
        let f = extract(
            "{{< figure src=\"javascript:alert(1)\" >}}{{ figure(src=\"/m/a.png\", caption=\"<b>\") }}",
        );
        assert_eq!(f.embeds.len(), 1);
        match &f.embeds[0] {
            Embed::Figure(f) => assert_eq!(
                f.html(None),
                "<figure><img src=\"/m/a.png\" alt=\"&lt;b&gt;\" loading=\"lazy\"><figcaption>&lt;b&gt;</figcaption></figure>"
            ),
            _ => panic!("a figure"),
        }
        let p = placeholder(7, 0);
        assert_eq!(restore(7, &format!("<p>{p}</p>"), &["<hr>".into()]), "<hr>");
        assert_eq!(
            restore(8, &format!("<p>{p}</p>"), &["<hr>".into()]),
            format!("<p>{p}</p>")
        );
    }
}
