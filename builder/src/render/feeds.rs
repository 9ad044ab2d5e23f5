//! `sitemap.xml` (an index of several above the protocol's 50,000 URLs) and the Atom feed.

use rayon::prelude::*;

use super::{FEED_LIMIT, SITEMAP_LIMIT, TenantRender, listings};
use crate::dates;
use crate::error::BuildError;
use crate::incremental::{Inputs, Outputs};
use crate::markdown::{escape, escape_into};
use crate::site::{PageData, url_of};

impl TenantRender<'_> {
    pub(super) fn write_sitemap(&self, out: &Outputs, listings: usize) -> Result<(), BuildError> {
        let terms = listings::taxonomy_urls(self);
        let home_listed = !self.page_urls.contains("/");
        let count = usize::from(home_listed) + self.site.pages.len() + listings + terms.len();
        if count <= SITEMAP_LIMIT {
            // Known by its inputs (every page's path and when it changed), not its bytes:
            // making a 10,000-page site's sitemap would be most of an incremental build.
            let mut key = Inputs::new(&self.site_key, "sitemap");
            key.num(listings as i64);
            for p in &self.site.pages {
                key.str(&p.slug).str(&p.changed);
            }
            for t in &terms {
                key.str(t);
            }
            return out.keyed("sitemap.xml", key.finish(), || {
                Ok(self.sitemap(home_listed, listings, &terms).into_bytes())
            });
        }
        let urls = self.sitemap_urls(home_listed, listings, &terms);
        let mut index = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for (i, chunk) in urls.chunks(SITEMAP_LIMIT).enumerate() {
            let name = format!("sitemap-{}.xml", i + 1);
            out.bytes(&name, urlset(chunk).as_bytes())?;
            index.push_str(&format!(
                "  <sitemap><loc>{}</loc></sitemap>\n",
                escape(&self.permalink(&format!("/{name}")))
            ));
        }
        index.push_str("</sitemapindex>\n");
        out.bytes("sitemap.xml", index.as_bytes())
    }

    /// The one sitemap of a site of up to [`SITEMAP_LIMIT`] addresses, pages written straight
    /// into it in parallel (no string per address).
    fn sitemap(&self, home_listed: bool, listings: usize, terms: &[String]) -> String {
        let mut x = String::from(URLSET);
        if home_listed {
            url_line(&mut x, &self.permalink("/"), None);
        }
        let home = &self.site.config.home_slug;
        let pages: Vec<String> = self
            .site
            .pages
            .par_chunks(256)
            .map(|chunk| {
                let mut s = String::with_capacity(chunk.len() * 128);
                let mut loc = String::new();
                for p in chunk {
                    loc.clear();
                    loc.push_str(&self.site_url);
                    loc.push('/');
                    if p.slug != *home {
                        loc.push_str(&p.slug);
                        loc.push('/');
                    }
                    url_line(&mut s, &loc, dates::rfc3339(&p.changed).as_deref());
                }
                s
            })
            .collect();
        x.push_str(&pages.concat());
        for n in 1..=listings {
            url_line(&mut x, &self.permalink(&listings::listing_url(n)), None);
        }
        for url in terms {
            url_line(&mut x, &self.permalink(url), None);
        }
        x.push_str("</urlset>\n");
        x
    }

    /// Every address of the site with when it last changed (pages only).
    fn sitemap_urls(
        &self,
        home_listed: bool,
        listings: usize,
        terms: &[String],
    ) -> Vec<(String, Option<String>)> {
        let mut urls: Vec<(String, Option<String>)> = vec![];
        if home_listed {
            urls.push((self.permalink("/"), None));
        }
        let home = &self.site.config.home_slug;
        urls.par_extend(self.site.pages.par_iter().map(|p| {
            (
                self.permalink(&url_of(&p.slug, home)),
                dates::rfc3339(&p.changed),
            )
        }));
        for n in 1..=listings {
            urls.push((self.permalink(&listings::listing_url(n)), None));
        }
        for url in terms {
            urls.push((self.permalink(url), None));
        }
        urls
    }

    /// An Atom feed of the dated pages, newest first. `updated` is the newest entry's date, not
    /// the build time, so identical inputs give identical bytes.
    pub(super) fn feed(&self) -> String {
        let entries: Vec<&PageData> = self
            .site
            .pages
            .iter()
            .filter(|p| p.date.as_deref().and_then(dates::rfc3339).is_some())
            .take(FEED_LIMIT)
            .collect();
        let updated = entries
            .first()
            .and_then(|p| p.date.as_deref().and_then(dates::rfc3339))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        let cfg = &self.site.config;
        let mut x = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <title>{}</title>\n  <id>{}</id>\n  <link rel=\"alternate\" href=\"{}\"/>\n  <link rel=\"self\" href=\"{}\"/>\n  <updated>{updated}</updated>\n  <author><name>{}</name></author>\n",
            escape(&cfg.site_name),
            escape(&self.permalink("/")),
            escape(&self.permalink("/")),
            escape(&self.permalink("/atom.xml")),
            escape(&cfg.site_name),
        );
        for p in entries {
            let link = self.permalink(&url_of(&p.slug, &cfg.home_slug));
            let date = p
                .date
                .as_deref()
                .and_then(dates::rfc3339)
                .unwrap_or_default();
            x.push_str(&format!(
                "  <entry>\n    <title>{}</title>\n    <id>{}</id>\n    <link rel=\"alternate\" href=\"{}\"/>\n    <published>{date}</published>\n    <updated>{date}</updated>\n    <summary>{}</summary>\n  </entry>\n",
                escape(&p.title),
                escape(&link),
                escape(&link),
                escape(&p.description)
            ));
        }
        x.push_str("</feed>\n");
        x
    }
}

const URLSET: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";

/// One address of a sitemap.
fn url_line(x: &mut String, loc: &str, lastmod: Option<&str>) {
    x.push_str("  <url><loc>");
    escape_into(x, loc);
    match lastmod {
        Some(m) => {
            x.push_str("</loc><lastmod>");
            x.push_str(m);
            x.push_str("</lastmod></url>\n");
        }
        None => x.push_str("</loc></url>\n"),
    }
}

/// One sitemap of a site split in several: `<urlset>` with a line per address.
fn urlset(chunk: &[(String, Option<String>)]) -> String {
    let mut x = String::from(URLSET);
    for (loc, lastmod) in chunk {
        url_line(&mut x, loc, lastmod.as_deref());
    }
    x.push_str("</urlset>\n");
    x
}
