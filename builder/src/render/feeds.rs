//! `sitemap.xml` (an index of several above the protocol's 50,000 URLs) and the Atom feed.

use rayon::prelude::*;

use super::{FEED_LIMIT, SITEMAP_LIMIT, TenantRender, listings};
use crate::dates;
use crate::error::BuildError;
use crate::incremental::Outputs;
use crate::markdown::escape;
use crate::site::{PageData, url_of};

impl TenantRender<'_> {
    pub(super) fn write_sitemap(&self, out: &Outputs, listings: usize) -> Result<(), BuildError> {
        let mut urls: Vec<(String, Option<String>)> = vec![];
        let home_in_pages = self
            .site
            .pages
            .iter()
            .any(|p| p.slug == self.site.config.home_slug);
        if !home_in_pages {
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
        for url in listings::taxonomy_urls(self) {
            urls.push((self.permalink(&url), None));
        }
        let urlset = |chunk: &[(String, Option<String>)]| {
            let mut x = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            let lines: Vec<String> = chunk
                .par_iter()
                .map(|(loc, lastmod)| match lastmod {
                    Some(m) => format!(
                        "  <url><loc>{}</loc><lastmod>{m}</lastmod></url>\n",
                        escape(loc)
                    ),
                    None => format!("  <url><loc>{}</loc></url>\n", escape(loc)),
                })
                .collect();
            x.push_str(&lines.concat());
            x.push_str("</urlset>\n");
            x
        };
        if urls.len() <= SITEMAP_LIMIT {
            return out.bytes("sitemap.xml", urlset(&urls).as_bytes());
        }
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
