//! Rendering one tenant's bundle: a page per story fragment (home at `/`), paginated listings,
//! `404.html`, `sitemap.xml`, `robots.txt` and `atom.xml`; the theme's assets and image variants
//! are shared objects the pages link at `/_t8k/…`. The tenant-wide part of the template context
//! is built once; pages render in parallel on the rayon pool.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

mod feeds;
mod keys;
mod listings;

pub use listings::redirect_target;

use crate::dates;
use crate::error::{BuildError, chain};
use crate::images::{ImageSet, Shown};
use crate::incremental::{Inputs, Key, Outputs};
use crate::markdown::{self, Ids, TocEntry};
use crate::site::{MenuItem, PageData, Pane, SiteData, url_of};
use crate::structure::Structure;
use crate::theme::Theme;
use t8k_core::content::Kind;

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
    /// Maintenance banners up as the site builds ([`crate::banners`]).
    notices: &'a [crate::banners::Banner],
}

/// Dated pages shown in a theme's "latest" block.
pub const RECENT: usize = 6;

#[derive(Serialize, Clone)]
struct PaneCtx {
    html: String,
    class: String,
    options: Map<String, Value>,
}

/// A link above a page (breadcrumbs) or to a taxonomy term.
#[derive(Serialize, Clone)]
struct Crumb {
    title: String,
    url: String,
}

/// A taxonomy's terms on a page: `{ name: "tags", terms: [{title, url}] }`.
#[derive(Serialize, Clone)]
struct TaxonomyLinks {
    name: String,
    terms: Vec<Crumb>,
}

#[derive(Serialize, Default, Clone)]
struct PageCtx<'a> {
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
    /// The pages above this one, top first.
    breadcrumbs: Vec<Crumb>,
    taxonomies: Vec<TaxonomyLinks>,
    /// A section's pages (the first listing page's worth).
    children: Vec<Summary<'a>>,
}

#[derive(Serialize, Clone)]
struct Summary<'a> {
    title: &'a str,
    description: &'a str,
    url: String,
    date: Option<&'a str>,
    date_display: Option<String>,
    /// How many pages a taxonomy term lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
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
        count: None,
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

fn brand(site: &SiteData, images: &ImageSet) -> Brand {
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
        logo: site.settings.get("logo").map(|url| logo_url(url, images)),
        colours,
    }
}

/// A logo that is an uploaded image is linked at its narrowest variant in its own family
/// (a logo shows small; PNG keeps its transparency).
fn logo_url(url: &str, images: &ImageSet) -> String {
    match images.get(url).map(|i| &i.shown) {
        Some(Shown::Responsive { webp, fallback, .. }) => fallback
            .first()
            .or(webp.first())
            .map_or_else(|| url.to_owned(), |v| v.url()),
        _ => url.to_owned(),
    }
}

/// Whose rules make term addresses: those the site was imported with, else Hugo's.
fn url_rules(site: &SiteData) -> t8k_core::content::paths::Generator {
    use t8k_core::content::paths::Generator;
    match site
        .settings
        .get(t8k_core::content::import::URL_RULES)
        .map(String::as_str)
    {
        Some("zola") => Generator::Zola,
        _ => Generator::Hugo,
    }
}

/// The addresses of a site's pages, known by their paths (`/docs/a/` is a page's address when a
/// page's path is `docs/a`; `/` when the home page is there): no string is made per page.
struct PageUrls<'a> {
    paths: foldhash::HashSet<&'a str>,
    home: &'a str,
}

impl<'a> PageUrls<'a> {
    fn new(site: &'a SiteData) -> PageUrls<'a> {
        PageUrls {
            paths: site.pages.iter().map(|p| p.slug.as_str()).collect(),
            home: &site.config.home_slug,
        }
    }

    /// Whether a page is at `url` (the inverse of [`url_of`]).
    fn contains(&self, url: &str) -> bool {
        if url == "/" {
            return self.paths.contains(self.home);
        }
        url.strip_prefix('/')
            .and_then(|u| u.strip_suffix('/'))
            .is_some_and(|path| path != self.home && self.paths.contains(path))
    }
}

/// Everything a tenant's build needs that does not change from page to page.
pub struct TenantRender<'a> {
    pub theme: &'a Theme,
    pub site: &'a SiteData,
    images: &'a ImageSet,
    /// Every page rendered (by path) and what its authors should fix, gathered as pages
    /// render (an incremental build keeps the last build's warnings of the others).
    warnings: std::sync::Mutex<BTreeMap<String, Vec<String>>>,
    /// Panes read after the keys showed which pages render (incremental builds read no others).
    loaded: std::sync::OnceLock<HashMap<i64, Vec<Pane>>>,
    keys: std::sync::OnceLock<Vec<Key>>,
    files: std::sync::OnceLock<Vec<String>>,
    structure: Structure,
    /// The URLs pages are at: nothing generated (listings, terms, aliases) overwrites one.
    page_urls: PageUrls<'a>,
    base: tera::Context,
    /// What every file of the site is made from (the builder, the theme, the tenant's
    /// settings, the site-wide context, the images): part of every file's key.
    pub site_key: Key,
    site_url: String,
    allow_raw_html: bool,
}

impl<'a> TenantRender<'a> {
    pub fn new(
        theme: &'a Theme,
        site: &'a SiteData,
        images: &'a ImageSet,
        notices: &'a [crate::banners::Banner],
    ) -> TenantRender<'a> {
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
            brand: brand(site, images),
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
            notices,
        };
        let allow_raw_html = markdown::allows_raw_html(cfg);
        let site_key = Inputs::new(theme.fingerprint.as_bytes(), "site")
            .json(&ctx)
            .json(&cfg.without_limits())
            .json(&site.settings)
            .num(i64::from(allow_raw_html))
            .bytes(&images.digest())
            .finish();
        let mut base = tera::Context::new();
        base.insert("site", &ctx);
        TenantRender {
            theme,
            site,
            images,
            warnings: Default::default(),
            loaded: Default::default(),
            keys: Default::default(),
            files: Default::default(),
            structure: Structure::new(&site.pages, &cfg.home_slug, url_rules(site)),
            page_urls: PageUrls::new(site),
            base,
            site_key,
            site_url: cfg.site_url.trim_end_matches('/').to_owned(),
            allow_raw_html,
        }
    }

    fn permalink(&self, url: &str) -> String {
        format!("{}{url}", self.site_url)
    }

    /// Every page's warnings, by page path: of the pages rendered, what they found; of the
    /// others, what `previous` (the last build's) says.
    pub fn take_warnings(
        &self,
        previous: Option<&BTreeMap<String, Vec<String>>>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut found =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()));
        for p in &self.site.pages {
            if let (false, Some(w)) = (
                found.contains_key(&p.slug),
                previous.and_then(|prev| prev.get(&p.slug)),
            ) {
                found.insert(p.slug.clone(), w.clone());
            }
        }
        found.retain(|_, w| !w.is_empty());
        found
    }

    /// Records that `page` rendered, with what it found (perhaps nothing).
    fn warn(&self, page: &str, found: Vec<String>) {
        let mut w = self.warnings.lock().unwrap_or_else(|p| p.into_inner());
        w.insert(page.to_owned(), found);
    }

    /// An OpenGraph image: an uploaded one at its social-width variant, as an absolute URL.
    fn social_image(&self, s: &str) -> String {
        if s.starts_with("http") {
            return s.to_owned();
        }
        let path = format!("/{}", s.trim_start_matches('/'));
        match self.images.get(&path).map(|i| &i.shown) {
            Some(Shown::Responsive { social, .. }) => self.permalink(&social.url()),
            _ => self.permalink(&path),
        }
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

    fn page_ctx(&self, i: usize) -> PageCtx<'a> {
        let p = &self.site.pages[i];
        let mut ids = Ids::default();
        let mut toc = vec![];
        let mut warnings = vec![];
        let opts = markdown::Opts {
            allow_raw_html: self.allow_raw_html,
            images: Some(self.images),
        };
        let panes = self
            .panes_of(p)
            .iter()
            .map(|(md, options)| {
                let r = markdown::render_with(md, &mut ids, &opts);
                toc.extend(r.toc);
                warnings.extend(r.warnings);
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
        self.warn(&p.slug, warnings);
        let url = url_of(&p.slug, &self.site.config.home_slug);
        let menu = p
            .menu
            .as_ref()
            .and_then(|m| self.site.menus.get(m))
            .cloned()
            .unwrap_or_default();
        let home = &self.site.config.home_slug;
        let breadcrumbs = self.structure.crumbs[i]
            .iter()
            .map(|&a| Crumb {
                title: self.site.pages[a].title.clone(),
                url: url_of(&self.site.pages[a].slug, home),
            })
            .collect();
        PageCtx {
            kind: match (url == "/", p.kind) {
                (true, _) => "home",
                (false, Kind::Section) => "section",
                (false, Kind::Page) => "page",
            },
            breadcrumbs,
            taxonomies: self.taxonomy_links(p),
            children: self.children(i).take(self.theme.meta.paginate).collect(),
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
            social_image: p.social_image.as_deref().map(|s| self.social_image(s)),
        }
    }

    fn main_menu(&self) -> Vec<MenuItem> {
        self.site.menus.get("main").cloned().unwrap_or_default()
    }

    /// Renders and writes every file of the bundle; returns the number of HTML pages.
    pub fn write_all(&self, out: &Outputs) -> Result<usize, BuildError> {
        let pages = &self.site.pages;
        let section_pages: usize = (0..pages.len())
            .into_par_iter()
            .map(|i| {
                let home = &self.site.config.home_slug;
                if pages[i].kind == Kind::Section && pages[i].slug != *home {
                    return self.write_section(out, i);
                }
                out.keyed(self.page_file(i), self.page_key(i), || {
                    let ctx = self.page_ctx(i);
                    self.render("page.html", &pages[i].slug, |c| c.insert("page", &ctx))
                })?;
                Ok(0)
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))?;
        let listings = self.write_listings(out)?;
        let terms = self.write_taxonomies(out)?;
        self.write_aliases(out)?;
        let not_found = PageCtx {
            kind: "404",
            title: "Page not found".into(),
            url: "/404.html".into(),
            menu: self.main_menu(),
            ..Default::default()
        };
        out.keyed(
            "404.html",
            Inputs::new(&self.site_key, "404").finish(),
            || self.render("404.html", "404", |c| c.insert("page", &not_found)),
        )?;
        self.write_sitemap(out, listings)?;
        out.bytes(
            "robots.txt",
            format!(
                "User-agent: *\nAllow: /\n\nSitemap: {}\n",
                self.permalink("/sitemap.xml")
            )
            .as_bytes(),
        )?;
        out.bytes("atom.xml", self.feed().as_bytes())?;
        Ok(pages.len()
            + section_pages
            + listings
            + terms
            + usize::from(!pages.iter().any(|p| p.slug == self.site.config.home_slug)))
    }
}
