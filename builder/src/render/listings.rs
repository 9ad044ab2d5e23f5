//! Every page a build makes besides the pages themselves: the all-pages listing, a section's
//! listing of its pages (`/docs/`, `/docs/page/2/`), taxonomy pages (`/tags/`,
//! `/tags/rust/`), and a redirect at every alias (a page with `<meta http-equiv=refresh>` and
//! a canonical link, plus a `_redirects` line an edge can turn into a 301). A generated page
//! never overwrites a real one at the same address.

use rayon::prelude::*;

use super::{
    Crumb, LISTING_PATH, PageCtx, Paginator, Summary, TaxonomyLinks, TenantRender, summary,
};
use crate::error::BuildError;
use crate::incremental::{Inputs, Key, Outputs};
use crate::markdown::escape;
use crate::site::{PageData, url_of};
use crate::structure::{page_url, taxonomy_url};

/// How a redirect page starts: the target follows, then ` -->`. `t8k serve` answers a
/// request for such a page with a 301 to the target ([`redirect_target`]).
const REDIRECT_MARKER: &str = "<!doctype html>\n<!-- t8k:redirect ";

/// The target of a redirect page written by [`TenantRender::write_aliases`], if `bytes` is one.
pub fn redirect_target(bytes: &[u8]) -> Option<&str> {
    let rest = bytes.strip_prefix(REDIRECT_MARKER.as_bytes())?;
    let end = rest.iter().position(|&b| b == b' ')?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// What a listing lists: pages (by index, summarised when a listing page renders), or other
/// entries (a taxonomy's terms) given whole.
pub(super) enum Items<'s> {
    Pages(Vec<usize>),
    Entries(Vec<Summary<'s>>),
}

impl Items<'_> {
    fn len(&self) -> usize {
        match self {
            Items::Pages(p) => p.len(),
            Items::Entries(e) => e.len(),
        }
    }
}

/// The items on listing page `n` (1-based) of `len` items, `per` a page.
fn on_page(len: usize, n: usize, per: usize) -> std::ops::Range<usize> {
    ((n - 1) * per).min(len)..(n * per).min(len)
}

/// Page `n` of the all-pages listing: `/pages/`, `/pages/2/`.
pub(super) fn listing_url(n: usize) -> String {
    if n == 1 {
        format!("/{LISTING_PATH}/")
    } else {
        format!("/{LISTING_PATH}/{n}/")
    }
}

/// The first page of every taxonomy and term listing, for the sitemap.
pub(super) fn taxonomy_urls(r: &TenantRender) -> Vec<String> {
    let mut out = vec![];
    for (name, terms) in &r.structure.taxonomies {
        out.push(taxonomy_url(name, None));
        out.extend(terms.values().map(|(seg, _)| taxonomy_url(name, Some(seg))));
    }
    out.retain(|u| !r.page_urls.contains(u));
    out
}

/// The file a URL is served from.
pub(super) fn file_of(url: &str) -> String {
    let rel = url.trim_start_matches('/');
    if rel.ends_with(".html") {
        rel.to_owned()
    } else {
        format!("{rel}index.html")
    }
}

impl<'a> TenantRender<'a> {
    /// A section's pages, in order.
    pub(super) fn children(&self, i: usize) -> impl Iterator<Item = Summary<'a>> + '_ {
        let pages: &'a [PageData] = &self.site.pages;
        let home = &self.site.config.home_slug;
        self.structure
            .children
            .get(&i)
            .into_iter()
            .flatten()
            .map(move |&c| summary(&pages[c], home))
    }

    pub(super) fn taxonomy_links(&self, p: &PageData) -> Vec<TaxonomyLinks> {
        p.taxonomies
            .iter()
            .map(|(name, terms)| TaxonomyLinks {
                name: name.clone(),
                terms: terms
                    .iter()
                    .filter_map(|t| {
                        let (seg, _) = self.structure.taxonomies.get(name)?.get(t)?;
                        Some(Crumb {
                            title: t.clone(),
                            url: taxonomy_url(name, Some(seg)),
                        })
                    })
                    .collect(),
            })
            .collect()
    }

    /// The summaries of listing page `n` (1-based) of `items`, `per` a page.
    fn chunk<'s>(&'s self, items: &Items<'s>, n: usize, per: usize) -> Vec<Summary<'s>> {
        let home = &self.site.config.home_slug;
        let range = |len| on_page(len, n, per);
        match items {
            Items::Pages(pages) => pages[range(pages.len())]
                .iter()
                .map(|&i| summary(&self.site.pages[i], home))
                .collect(),
            Items::Entries(entries) => entries[range(entries.len())].to_vec(),
        }
    }

    /// The key of listing page `n` at `at`: its items by their pages' keys (each covers the
    /// page's title, description, address and date), or whole.
    fn chunk_key(&self, base: &Key, at: &str, items: &Items, n: usize, total: usize) -> Key {
        let per = self.theme.meta.paginate;
        let mut h = Inputs::new(base, "list");
        h.str(at).num(n as i64).num(total as i64);
        match items {
            Items::Pages(pages) => {
                for &i in &pages[on_page(pages.len(), n, per)] {
                    h.bytes(&self.page_key(i));
                }
            }
            Items::Entries(_) => {
                h.json(&self.chunk(items, n, per));
            }
        }
        h.finish()
    }

    /// Writes `items` as listing pages, `paginate` per page, at `url(n)`; `ctx` is the first
    /// page's context (its title gets "page n of N" on the others), made from what `key`
    /// hashes. Returns the pages written.
    fn write_paged<'s>(
        &'s self,
        out: &Outputs,
        key: &Key,
        items: Items<'s>,
        url: &(dyn Fn(usize) -> String + Sync),
        ctx: &(dyn Fn(usize, usize) -> PageCtx<'s> + Sync),
        also_home: bool,
    ) -> Result<usize, BuildError> {
        let per = self.theme.meta.paginate;
        let total = items.len().div_ceil(per).max(1);
        (1..=total).into_par_iter().try_for_each(|n| {
            let at = url(n);
            if n > 1 && self.page_urls.contains(&at) {
                return Ok(());
            }
            let key = self.chunk_key(key, &at, &items, n, total);
            let make = || {
                let paginator = Paginator {
                    items: self.chunk(&items, n, per),
                    number: n,
                    total,
                    prev_url: (n > 1).then(|| url(n - 1)),
                    next_url: (n < total).then(|| url(n + 1)),
                };
                let mut page = ctx(n, total);
                page.permalink = self.permalink(&at);
                page.url = at.clone();
                self.render("list.html", &at, |c| {
                    c.insert("page", &page);
                    c.insert("paginator", &paginator);
                })
            };
            if n == 1 && also_home {
                // The same bytes twice: rendered once.
                let mut made = None;
                out.keyed(&file_of(&at), key, || {
                    made = Some(make()?);
                    Ok(made.clone().expect("just made"))
                })?;
                return match made {
                    Some(bytes) => out.keyed("index.html", key, || Ok(bytes)),
                    None => out.keyed("index.html", key, make),
                };
            }
            out.keyed(&file_of(&at), key, make)
        })?;
        Ok(total)
    }

    fn titled(title: &str, n: usize, total: usize) -> String {
        if n == 1 {
            title.to_owned()
        } else {
            format!("{title}, page {n} of {total}")
        }
    }

    /// The listing of every published page, newest first. When the tenant has no home page,
    /// the first listing page is also the home page.
    pub(super) fn write_listings(&self, out: &Outputs) -> Result<usize, BuildError> {
        let base = format!("/{LISTING_PATH}/");
        if self.page_urls.contains(&base) {
            return Ok(0);
        }
        let items = Items::Pages((0..self.site.pages.len()).collect());
        let url = listing_url;
        let ctx = |n, total| PageCtx {
            kind: "list",
            title: Self::titled("All pages", n, total),
            menu: self.main_menu(),
            ..Default::default()
        };
        let key = Inputs::new(&self.site_key, "all pages").finish();
        self.write_paged(out, &key, items, &url, &ctx, !self.page_urls.contains("/"))
    }

    /// A section: its own panes above the listing of its pages. Returns the extra listing
    /// pages written (beyond the section's own).
    pub(super) fn write_section(&self, out: &Outputs, i: usize) -> Result<usize, BuildError> {
        let base = url_of(&self.site.pages[i].slug, &self.site.config.home_slug);
        let items = Items::Pages(self.structure.children.get(&i).cloned().unwrap_or_default());
        // The section's own panes are rendered once, shown above each listing page — and
        // only if one of them must be rendered.
        let section = std::sync::OnceLock::new();
        let ctx = |n: usize, total: usize| {
            let section: &PageCtx = section.get_or_init(|| self.page_ctx(i));
            PageCtx {
                title: Self::titled(&section.title, n, total),
                ..section.clone()
            }
        };
        let key = self.page_key(i);
        let written = self.write_paged(out, &key, items, &|n| page_url(&base, n), &ctx, false)?;
        Ok(written - 1)
    }

    /// `/{taxonomy}/` lists its terms; `/{taxonomy}/{term}/` the pages carrying the term.
    pub(super) fn write_taxonomies(&self, out: &Outputs) -> Result<usize, BuildError> {
        let mut written = 0;
        for (name, terms) in &self.structure.taxonomies {
            let base = taxonomy_url(name, None);
            if !self.page_urls.contains(&base) {
                let items = Items::Entries(
                    terms
                        .iter()
                        .map(|(term, (seg, pages))| Summary {
                            title: term,
                            description: "",
                            url: taxonomy_url(name, Some(seg)),
                            date: None,
                            date_display: None,
                            count: Some(pages.len()),
                        })
                        .collect(),
                );
                let title = titlecase(name);
                let ctx = |n, total| PageCtx {
                    kind: "taxonomy",
                    title: Self::titled(&title, n, total),
                    menu: self.main_menu(),
                    ..Default::default()
                };
                let key = Inputs::new(&self.site_key, "taxonomy").str(name).finish();
                written +=
                    self.write_paged(out, &key, items, &|n| page_url(&base, n), &ctx, false)?;
            }
            for (term, (seg, pages)) in terms {
                let term_base = taxonomy_url(name, Some(seg));
                if self.page_urls.contains(&term_base) {
                    continue;
                }
                let items = Items::Pages(pages.clone());
                let ctx = |n, total| PageCtx {
                    kind: "term",
                    title: Self::titled(term, n, total),
                    menu: self.main_menu(),
                    breadcrumbs: vec![Crumb {
                        title: titlecase(name),
                        url: base.clone(),
                    }],
                    ..Default::default()
                };
                let key = Inputs::new(&self.site_key, "term")
                    .str(name)
                    .str(term)
                    .finish();
                let at = |n| page_url(&term_base, n);
                written += self.write_paged(out, &key, items, &at, &ctx, false)?;
            }
        }
        Ok(written)
    }

    /// A redirect page at every alias no page occupies, and `_redirects` (`/old/ /new/ 301`
    /// lines, the format Netlify and Cloudflare Pages read) for edges that answer with a 301.
    pub(super) fn write_aliases(&self, out: &Outputs) -> Result<(), BuildError> {
        let home = &self.site.config.home_slug;
        let mut lines = String::new();
        for p in &self.site.pages {
            let to = url_of(&p.slug, home);
            for alias in &p.aliases {
                let from = if alias.ends_with(".html") {
                    format!("/{alias}")
                } else {
                    format!("/{alias}/")
                };
                if self.page_urls.contains(&from) {
                    continue;
                }
                let target = escape(&self.permalink(&to));
                let html = format!(
                    "{REDIRECT_MARKER}{to} -->\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
                     <link rel=\"canonical\" href=\"{target}\"><meta name=\"robots\" content=\"noindex\">\
                     <meta http-equiv=\"refresh\" content=\"0; url={target}\"></head>\
                     <body><p>This page moved to <a href=\"{target}\">{title}</a>.</p></body></html>\n",
                    title = escape(&p.title)
                );
                out.bytes(&file_of(&from), html.as_bytes())?;
                lines.push_str(&format!("{from} {to} 301\n"));
            }
        }
        if !lines.is_empty() {
            out.bytes("_redirects", lines.as_bytes())?;
        }
        Ok(())
    }
}

fn titlecase(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
