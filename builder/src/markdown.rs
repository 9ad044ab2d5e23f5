//! Markdown → HTML with pulldown-cmark: tables, footnotes, strikethrough, task lists, smart
//! punctuation, heading ids (explicit `{#id}` or derived from the text, unique per page) with
//! anchor links, and a table of contents for templates.
//!
//! Safety: pulldown-cmark escapes text, so plain Markdown is safe once link targets are
//! checked; only when a pane holds raw HTML is the output run through ammonia (unless the
//! tenant allows raw HTML). That keeps the common case fast.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::embeds::{self, Embed};
use crate::images::{ImageSet, Shown, html::picture};
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// What the page's author should fix (an image without alt text, one that cannot be
    /// decoded), for the build's warnings.
    pub warnings: Vec<String>,
}

/// What a page's panes share: heading ids already used (ids must be unique across all its
/// panes) and how many images came before (the first one loads eagerly).
#[derive(Default)]
pub struct Ids {
    used: HashSet<String>,
    images: usize,
}

/// How a tenant's Markdown renders.
#[derive(Clone, Copy, Default)]
pub struct Opts<'a> {
    /// Raw HTML in panes is kept as written (`ALLOW_RAW_HTML`), not sanitised.
    pub allow_raw_html: bool,
    /// The tenant's prepared images: a Markdown image of one of them becomes `<picture>`.
    pub images: Option<&'a ImageSet>,
}

impl Ids {
    fn claim(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "section" } else { base };
        let mut id = base.to_owned();
        let mut n = 1;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Link and image targets that could run script are replaced.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme = lower
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto" | "tel") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

fn level_num(l: HeadingLevel) -> u8 {
    l as u8
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_generic_attributes(["id", "class"])
            .add_tags(["input", "picture", "source"])
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .add_tag_attributes("source", ["type", "srcset", "sizes"])
            .add_tag_attributes(
                "img",
                ["srcset", "sizes", "loading", "decoding", "fetchpriority"],
            );
        b
    })
}

/// A heading being collected: level, explicit id, classes, inner events.
type OpenHeading<'a> = (HeadingLevel, Option<String>, Vec<String>, Vec<Event<'a>>);

/// Whether the tenant lets its panes hold raw HTML unsanitised (`ALLOW_RAW_HTML` in its
/// env.json; off by default).
pub fn allows_raw_html(cfg: &t8k_core::tenant_config::TenantConfig) -> bool {
    cfg.extra
        .get("ALLOW_RAW_HTML")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// The bodies of a page's panes as the published page has them (heading ids unique across
/// the panes): what the admin's preview shows.
pub fn render_panes<'a>(
    panes: impl IntoIterator<Item = &'a str>,
    allow_raw_html: bool,
) -> Vec<String> {
    let mut ids = Ids::default();
    panes
        .into_iter()
        .map(|md| render(md, &mut ids, allow_raw_html).html)
        .collect()
}

/// Renders one pane without a tenant's images (the admin's preview, benchmarks).
pub fn render(markdown: &str, ids: &mut Ids, allow_raw_html: bool) -> Rendered {
    render_with(
        markdown,
        ids,
        &Opts {
            allow_raw_html,
            images: None,
        },
    )
}

/// Renders one pane. `ids` carries heading ids and the image count across the panes of a
/// page. Embed shortcodes ([`crate::embeds`]) are rendered around the Markdown.
pub fn render_with(markdown: &str, ids: &mut Ids, opts: &Opts) -> Rendered {
    if !markdown.contains("{{") && !markdown.contains("{%") {
        return render_markdown(markdown, ids, opts);
    }
    let mut extracted = embeds::extract(markdown);
    let mut out = render_markdown(&extracted.markdown, ids, opts);
    let html: Vec<String> = std::mem::take(&mut extracted.embeds)
        .into_iter()
        .map(|e| match e {
            Embed::Html(h) => h,
            Embed::Figure(f) => {
                let img = opts
                    .images
                    .filter(|set| set.get(&f.src).is_some())
                    .map(|set| {
                        let open = OpenImage {
                            url: f.src.clone().into(),
                            title: "".into(),
                            alt: f.alt.clone(),
                        };
                        shown_image(open, ids, set, &mut out.warnings)
                    });
                f.html(img)
            }
            Embed::Details {
                summary,
                open,
                inner,
            } => {
                let r = render_with(&inner, ids, opts);
                out.toc.extend(r.toc);
                out.warnings.extend(r.warnings);
                let open = if open { " open" } else { "" };
                format!(
                    "<details{open}><summary>{}</summary>\n{}</details>\n",
                    escape(&summary),
                    r.html
                )
            }
        })
        .collect();
    out.html = extracted.restore(&out.html, &html);
    out
}

/// A Markdown image of a prepared media file, being read: its URL, title and alt text.
struct OpenImage<'a> {
    url: CowStr<'a>,
    title: CowStr<'a>,
    alt: String,
}

/// The markup of a prepared image, and what its author should fix.
fn shown_image(
    img: OpenImage,
    ids: &mut Ids,
    set: &ImageSet,
    warnings: &mut Vec<String>,
) -> String {
    let found = set.get(&img.url).expect("only prepared images are opened");
    let alt = match img.alt.trim() {
        "" => found.alt.as_str(),
        given => given,
    };
    if alt.is_empty() {
        warnings.push(format!(
            "image {} has no alt text; describe it in the Markdown (![what it shows](…)) or in the media library",
            img.url
        ));
    }
    if let Shown::AsIs { why: Some(why), .. } = &found.shown {
        warnings.push(format!(
            "image {} cannot be decoded ({why}); the page links the original as it is",
            img.url
        ));
    }
    ids.images += 1;
    picture(
        found,
        &img.url,
        alt,
        Some(img.title.as_ref()),
        &set.settings.sizes,
        ids.images == 1,
    )
}

fn render_markdown(markdown: &str, ids: &mut Ids, opts: &Opts) -> Rendered {
    let allow_raw_html = opts.allow_raw_html;
    let mut out = Rendered::default();
    let mut has_raw_html = false;
    let mut events: Vec<Event> = Vec::new();
    let mut heading: Option<OpenHeading> = None;
    let mut image: Option<OpenImage> = None;

    for event in Parser::new_ext(markdown, options()) {
        if let Some(open) = &mut image {
            match event {
                Event::End(TagEnd::Image) => {
                    let open = image.take().expect("an image is open");
                    let set = opts.images.expect("images are opened only with a set");
                    let html = shown_image(open, ids, set, &mut out.warnings);
                    match &mut heading {
                        Some((_, _, _, inner)) => inner.push(Event::Html(html.into())),
                        None => events.push(Event::Html(html.into())),
                    }
                }
                Event::Text(t) | Event::Code(t) => open.alt.push_str(&t),
                Event::SoftBreak | Event::HardBreak => open.alt.push(' '),
                _ => {}
            }
            continue;
        }
        if let Event::Start(Tag::Image {
            dest_url, title, ..
        }) = &event
            && opts.images.is_some_and(|set| set.get(dest_url).is_some())
        {
            image = Some(OpenImage {
                url: dest_url.clone(),
                title: title.clone(),
                alt: String::new(),
            });
            continue;
        }
        let event = match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Link {
                link_type,
                dest_url: safe_url(dest_url),
                title,
                id,
            }),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Image {
                link_type,
                dest_url: safe_url(dest_url),
                title,
                id,
            }),
            e @ (Event::Html(_) | Event::InlineHtml(_)) => {
                has_raw_html = true;
                e
            }
            e => e,
        };
        match event {
            Event::Start(Tag::Heading {
                level, id, classes, ..
            }) => {
                heading = Some((
                    level,
                    id.map(|s| s.to_string()),
                    classes.iter().map(|c| c.to_string()).collect(),
                    vec![],
                ));
            }
            Event::End(TagEnd::Heading(_)) => {
                let (level, explicit, classes, inner) =
                    heading.take().expect("heading end follows its start");
                let text: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let id = ids.claim(&explicit.unwrap_or_else(|| slug(&text)));
                let mut inner_html = String::new();
                html::push_html(&mut inner_html, inner.into_iter());
                let class = if classes.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"{}\"", escape(&classes.join(" ")))
                };
                let n = level_num(level);
                events.push(Event::Html(CowStr::from(format!(
                    "<h{n} id=\"{id}\"{class}>{inner_html} <a class=\"anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a></h{n}>\n",
                    id = escape(&id)
                ))));
                out.toc.push(TocEntry {
                    level: n,
                    id,
                    title: text,
                });
            }
            e => match &mut heading {
                Some((_, _, _, inner)) => inner.push(e),
                None => events.push(e),
            },
        }
    }
    html::push_html(&mut out.html, events.into_iter());
    if has_raw_html && !allow_raw_html {
        out.html = sanitizer().clean(&out.html).to_string();
    }
    out
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appending to `out` (a sitemap writes 10,000 addresses into one string).
pub fn escape_into(out: &mut String, s: &str) {
    let mut done = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // An ASCII byte is a character boundary.
        out.push_str(&s[done..i]);
        out.push_str(entity);
        done = i + 1;
    }
    out.push_str(&s[done..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> Rendered {
        render(s, &mut Ids::default(), false)
    }

    #[test]
    fn extensions_are_on() {
        let r = md(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ \"quoted\"\n\n- [x] done\n\nNote[^1]\n\n[^1]: The note.\n",
        );
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("“quoted”"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("footnote"));
    }

    #[test]
    fn headings_get_unique_ids_anchors_and_a_toc() {
        let mut ids = Ids::default();
        let a = render(
            "# Hello World\n\n## Hello World\n\n### Custom {#mine}\n",
            &mut ids,
            false,
        );
        let b = render("## Hello World\n", &mut ids, false);
        assert!(
            a.html.contains(
                "<h1 id=\"hello-world\">Hello World <a class=\"anchor\" href=\"#hello-world\""
            ),
            "{}",
            a.html
        );
        assert!(a.html.contains("id=\"hello-world-1\""));
        assert!(a.html.contains("id=\"mine\""));
        assert!(
            b.html.contains("id=\"hello-world-2\""),
            "ids are unique across panes"
        );
        assert_eq!(
            a.toc
                .iter()
                .map(|t| (t.level, t.id.as_str()))
                .collect::<Vec<_>>(),
            [(1, "hello-world"), (2, "hello-world-1"), (3, "mine")]
        );
    }

    #[test]
    fn raw_html_is_sanitised_unless_allowed() {
        let evil = "Hi <script>alert(1)</script><img src=x onerror=alert(1)>\n\n<div onclick=\"x()\">d</div>\n";
        let safe = md(evil).html;
        assert!(
            !safe.contains("<script") && !safe.contains("onerror") && !safe.contains("onclick"),
            "{safe}"
        );
        let raw = render(evil, &mut Ids::default(), true).html;
        assert!(raw.contains("<script>"));
    }

    #[test]
    fn script_links_are_neutralised() {
        let r = md(
            "[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [ok](/about/) [mail](mailto:a@b.c) ![i](data:text/html,x)",
        );
        assert!(
            !r.html.to_lowercase().contains("javascript:") && !r.html.contains("data:"),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"/about/\"") && r.html.contains("mailto:a@b.c"));
    }
}
