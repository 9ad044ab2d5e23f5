//! Rendering one tenant's bundle: a page per story fragment (home at `/`), paginated listings,
//! `404.html`, `sitemap.xml`, `robots.txt`, `atom.xml` and the theme's assets. The tenant-wide
//! part of the template context is built once; pages render in parallel on the rayon pool.

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::dates;
use crate::error::{BuildError, chain};
use crate::markdown::{self, Ids, TocEntry, escape};
use crate::sink::Sink;
use crate::site::{MenuItem, PageData, SiteData, url_of};
use crate::theme::Theme;

/// Above this many URLs, `sitemap.xml` becomes an index of several sitemaps (the protocol's limit).
pub const SITEMAP_LIMIT: usize = 50_000;
/// Entries in the Atom feed.
pub const FEED_LIMIT: usize = 50;
pub const LISTING_PATH: &str = "pages";

#[derive(Serialize)]
struct Brand {
    colours: Vec<String>,
    primary: Option<String>,
    /// Black or white, whichever reads better on `primary` (WCAG relative luminance).
    on_primary: Option<String>,
    accent: Option<String>,
    logo: Option<String>,
}

#[derive(Serialize)]
struct SiteCtx<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    description: &'a str,
    lang: &'a str,
    home_url: &'static str,
    listing_url: String,
    feed_url: &'static str,
    brand: Brand,
    menus: &'a std::collections::BTreeMap<String, Vec<MenuItem>>,
    assets: &'a std::collections::BTreeMap<String, String>,
    /// The tracker reports from localhost previews too (see [`crate::theme::Theme`]).
    track_localhost: bool,
    /// The newest dated pages, for "latest" blocks on home pages.
    recent: Vec<Summary<'a>>,
}

/// Dated pages shown in a theme's "latest" block.
pub const RECENT: usize = 6;

#[derive(Serialize)]
struct PaneCtx {
    html: String,
    class: String,
    options: Map<String, Value>,
}

#[derive(Serialize, Default)]
struct PageCtx {
    kind: &'static str,
    title: String,
    description: String,
    slug: String,
    url: String,
    permalink: String,
    date: Option<String>,
    date_display: Option<String>,
    panes: Vec<PaneCtx>,
    toc: Vec<TocEntry>,
    menu: Vec<MenuItem>,
    social_image: Option<String>,
}

#[derive(Serialize)]
struct Summary<'a> {
    title: &'a str,
    description: &'a str,
    url: String,
    date: Option<&'a str>,
    date_display: Option<String>,
}

#[derive(Serialize)]
struct Paginator<'a> {
    items: Vec<Summary<'a>>,
    number: usize,
    total: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
}

fn summary<'p>(p: &'p PageData, home_slug: &str) -> Summary<'p> {
    Summary {
        title: &p.title,
        description: &p.description,
        url: url_of(&p.slug, home_slug),
        date: p.date.as_deref(),
        date_display: p.date.as_deref().map(dates::display),
    }
}

fn luminance(hex: &str) -> Option<f64> {
    let h = hex.trim().trim_start_matches('#');
    if h.len() != 6 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let ch = |i: usize| {
        let c = f64::from(u8::from_str_radix(&h[i..i + 2], 16).ok()?) / 255.0;
        Some(if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * ch(0)? + 0.7152 * ch(2)? + 0.0722 * ch(4)?)
}

fn brand(site: &SiteData) -> Brand {
    let colours: Vec<String> = site
        .config
        .brand_colours
        .split(',')
        .map(|c| c.trim())
        .filter(|c| luminance(c).is_some())
        .map(|c| {
            if c.starts_with('#') {
                c.to_owned()
            } else {
                format!("#{c}")
            }
        })
        .collect();
    let primary = colours.first().cloned();
    let on_primary = primary.as_deref().and_then(luminance).map(|l| {
        // Contrast against white vs black; pick the larger.
        if (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) {
            "#ffffff"
        } else {
            "#000000"
        }
        .to_owned()
    });
    Brand {
        accent: colours.get(1).cloned(),
        primary,
        on_primary,
        logo: site.settings.get("logo").cloned(),
        colours,
    }
}

/// Everything a tenant's build needs that does not change from page to page.
pub struct TenantRender<'a> {
    pub theme: &'a Theme,
    pub site: &'a SiteData,
    base: tera::Context,
    site_url: String,
    allow_raw_html: bool,
}

impl<'a> TenantRender<'a> {
    pub fn new(theme: &'a Theme, site: &'a SiteData) -> TenantRender<'a> {
        let cfg = &site.config;
        let description = site
            .pages
            .iter()
            .find(|p| p.slug == cfg.home_slug)
            .map(|p| p.description.as_str())
            .unwrap_or("");
        let ctx = SiteCtx {
            id: site.id.as_str(),
            name: &cfg.site_name,
            url: cfg.site_url.trim_end_matches('/'),
            description,
            lang: cfg
                .extra
                .get("LANG")
                .and_then(Value::as_str)
                .unwrap_or("en"),
            home_url: "/",
            listing_url: format!("/{LISTING_PATH}/"),
            feed_url: "/atom.xml",
            brand: brand(site),
            menus: &site.menus,
            assets: &theme.asset_urls,
            track_localhost: theme.track_localhost,
            recent: site
                .pages
                .iter()
                .filter(|p| p.date.is_some())
                .take(RECENT)
                .map(|p| summary(p, &cfg.home_slug))
                .collect(),
        };
        let mut base = tera::Context::new();
        base.insert("site", &ctx);
        let allow_raw_html = cfg
            .extra
            .get("ALLOW_RAW_HTML")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        TenantRender {
            theme,
            site,
            base,
            site_url: cfg.site_url.trim_end_matches('/').to_owned(),
            allow_raw_html,
        }
    }

    fn permalink(&self, url: &str) -> String {
        format!("{}{url}", self.site_url)
    }

    fn render(
        &self,
        template: &str,
        page_name: &str,
        extra: impl FnOnce(&mut tera::Context),
    ) -> Result<Vec<u8>, BuildError> {
        let mut ctx = self.base.clone();
        extra(&mut ctx);
        self.theme
            .tera
            .render(template, &ctx)
            .map(String::into_bytes)
            .map_err(|e| BuildError::Page {
                tenant: self.site.id.to_string(),
                page: page_name.to_owned(),
                message: format!(
                    "theme '{}', templates/{template}: {}",
                    self.theme.meta.name,
                    chain(&e)
                ),
            })
    }

    fn page_ctx(&self, p: &PageData) -> PageCtx {
        let mut ids = Ids::default();
        let mut toc = vec![];
        let panes = p
            .panes
            .iter()
            .map(|(md, options)| {
                let r = markdown::render(md, &mut ids, self.allow_raw_html);
                toc.extend(r.toc);
                let class = options
                    .get("class")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                PaneCtx {
                    html: r.html,
                    class,
                    options: options.clone(),
                }
            })
            .collect();
        let url = url_of(&p.slug, &self.site.config.home_slug);
        let menu = p
            .menu
            .as_ref()
            .and_then(|m| self.site.menus.get(m))
            .cloned()
            .unwrap_or_default();
        PageCtx {
            kind: if url == "/" { "home" } else { "page" },
            title: p.title.clone(),
            description: p.description.clone(),
            slug: p.slug.clone(),
            permalink: self.permalink(&url),
            url,
            date_display: p.date.as_deref().map(dates::display),
            date: p.date.clone(),
            panes,
            toc,
            menu,
            social_image: p.social_image.as_ref().map(|s| {
                if s.starts_with("http") {
                    s.clone()
                } else {
                    self.permalink(&format!("/{}", s.trim_start_matches('/')))
                }
            }),
        }
    }

    fn main_menu(&self) -> Vec<MenuItem> {
        self.site.menus.get("main").cloned().unwrap_or_default()
    }

    /// Renders and writes every file of the bundle; returns the number of HTML pages.
    pub fn write_all(&self, sink: &dyn Sink) -> Result<usize, BuildError> {
        let pages = &self.site.pages;
        pages.par_iter().try_for_each(|p| {
            let ctx = self.page_ctx(p);
            let bytes = self.render("page.html", &p.slug, |c| c.insert("page", &ctx))?;
            let path = if ctx.url == "/" {
                "index.html".to_owned()
            } else {
                format!("{}/index.html", p.slug)
            };
            sink.write(&path, &bytes)
        })?;
        let listings = self.write_listings(sink)?;
        let not_found = PageCtx {
            kind: "404",
            title: "Page not found".into(),
            url: "/404.html".into(),
            menu: self.main_menu(),
            ..Default::default()
        };
        sink.write(
            "404.html",
            &self.render("404.html", "404", |c| c.insert("page", &not_found))?,
        )?;
        self.write_sitemap(sink, listings)?;
        sink.write(
            "robots.txt",
            format!(
                "User-agent: *\nAllow: /\n\nSitemap: {}\n",
                self.permalink("/sitemap.xml")
            )
            .as_bytes(),
        )?;
        sink.write("atom.xml", self.feed().as_bytes())?;
        for asset in &self.theme.assets {
            sink.write(&asset.path, &asset.bytes)?;
        }
        Ok(pages.len()
            + listings
            + usize::from(!pages.iter().any(|p| p.slug == self.site.config.home_slug)))
    }

    fn listing_url(n: usize) -> String {
        if n == 1 {
            format!("/{LISTING_PATH}/")
        } else {
            format!("/{LISTING_PATH}/{n}/")
        }
    }

    /// The listing of every published page, newest first, `paginate` per page. When the tenant
    /// has no home page, the first listing page is also the home page.
    fn write_listings(&self, sink: &dyn Sink) -> Result<usize, BuildError> {
        let per = self.theme.meta.paginate;
        let pages = &self.site.pages;
        let total = pages.len().div_ceil(per).max(1);
        let has_home = pages.iter().any(|p| p.slug == self.site.config.home_slug);
        (1..=total).into_par_iter().try_for_each(|n| {
            let chunk = pages.chunks(per).nth(n - 1).unwrap_or(&[]);
            let paginator = Paginator {
                items: chunk
                    .iter()
                    .map(|p| summary(p, &self.site.config.home_slug))
                    .collect(),
                number: n,
                total,
                prev_url: (n > 1).then(|| Self::listing_url(n - 1)),
                next_url: (n < total).then(|| Self::listing_url(n + 1)),
            };
            let url = Self::listing_url(n);
            let page = PageCtx {
                kind: "list",
                title: if n == 1 {
                    "All pages".into()
                } else {
                    format!("All pages, page {n} of {total}")
                },
                permalink: self.permalink(&url),
                url: url.clone(),
                menu: self.main_menu(),
                ..Default::default()
            };
            let bytes = self.render("list.html", &url, |c| {
                c.insert("page", &page);
                c.insert("paginator", &paginator);
            })?;
            sink.write(
                &format!("{}index.html", url.trim_start_matches('/')),
                &bytes,
            )?;
            if n == 1 && !has_home {
                sink.write("index.html", &bytes)?;
            }
            Ok(())
        })?;
        Ok(total)
    }

    fn write_sitemap(&self, sink: &dyn Sink, listings: usize) -> Result<(), BuildError> {
        let mut urls: Vec<(String, Option<String>)> = vec![];
        let home_in_pages = self
            .site
            .pages
            .iter()
            .any(|p| p.slug == self.site.config.home_slug);
        if !home_in_pages {
            urls.push((self.permalink("/"), None));
        }
        for p in &self.site.pages {
            let lastmod = dates::rfc3339(&p.changed);
            urls.push((
                self.permalink(&url_of(&p.slug, &self.site.config.home_slug)),
                lastmod,
            ));
        }
        for n in 1..=listings {
            urls.push((self.permalink(&Self::listing_url(n)), None));
        }
        let urlset = |chunk: &[(String, Option<String>)]| {
            let mut x = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            for (loc, lastmod) in chunk {
                x.push_str(&format!("  <url><loc>{}</loc>", escape(loc)));
                if let Some(m) = lastmod {
                    x.push_str(&format!("<lastmod>{m}</lastmod>"));
                }
                x.push_str("</url>\n");
            }
            x.push_str("</urlset>\n");
            x
        };
        if urls.len() <= SITEMAP_LIMIT {
            return sink.write("sitemap.xml", urlset(&urls).as_bytes());
        }
        let mut index = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for (i, chunk) in urls.chunks(SITEMAP_LIMIT).enumerate() {
            let name = format!("sitemap-{}.xml", i + 1);
            sink.write(&name, urlset(chunk).as_bytes())?;
            index.push_str(&format!(
                "  <sitemap><loc>{}</loc></sitemap>\n",
                escape(&self.permalink(&format!("/{name}")))
            ));
        }
        index.push_str("</sitemapindex>\n");
        sink.write("sitemap.xml", index.as_bytes())
    }

    /// An Atom feed of the dated pages, newest first. `updated` is the newest entry's date, not
    /// the build time, so identical inputs give identical bytes.
    fn feed(&self) -> String {
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
