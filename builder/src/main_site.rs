//! The installation's own site on the main domain: a landing page and, when
//! `PUBLIC_ENABLE_MULTI_TENANT` is on, the `/sandbox/register/` sign-up form (it posts to the
//! sign-up function at `/api/register`). Rendered with the `default` theme's `landing.html` and
//! `register.html`.

use serde::Serialize;
use serde_json::json;
use t8k_core::name::reserved_names;
use t8k_core::notices::{Audience, Notice, Phase};
use t8k_core::settings::Settings;

use crate::error::{BuildError, chain};
use crate::sink::Sink;
use crate::theme::Theme;

pub const DIR: &str = t8k_core::routes::MAIN_SITE;
pub const THEME: &str = "default";
pub const REGISTER_PATH: &str = "sandbox/register/index.html";

pub const STATUS_PATH: &str = "status/index.html";

/// The inputs of the main site's fingerprint.
pub fn inputs(settings: &Settings, status: &Status) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "domain": settings.domain.value,
        "public": settings.public_enable_multi_tenant.value,
        "multi": settings.enable_multi_tenant.value,
        "min": settings.tenant_name_min_length.value,
        "max": settings.tenant_name_max_length.value,
        "status": status,
    }))
    .expect("JSON values serialise")
}

/// What `/status/` lists: maintenance going on and scheduled (never which tenants).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    pub current: Vec<StatusItem>,
    pub upcoming: Vec<StatusItem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusItem {
    pub message: String,
    pub starts: String,
    pub ends: String,
    /// It concerns every site (else some).
    pub all: bool,
}

impl Status {
    pub fn of(notices: &[Notice], now: time::OffsetDateTime) -> Status {
        let mut status = Status::default();
        for n in notices {
            let item = StatusItem {
                message: n.message.clone(),
                starts: n.starts.clone(),
                ends: n.ends.clone(),
                all: n.audience == Audience::All,
            };
            match n.phase(now) {
                Phase::Current => status.current.push(item),
                Phase::Upcoming => status.upcoming.push(item),
                Phase::Over => {}
            }
        }
        status
    }
}

/// Writes the main site; returns the number of HTML pages.
pub fn write(
    theme: &Theme,
    settings: &Settings,
    status: &Status,
    sink: &dyn Sink,
) -> Result<usize, BuildError> {
    let domain = &settings.domain.value;
    let public = settings.enable_multi_tenant.value && settings.public_enable_multi_tenant.value;
    let mut main_menu = vec![json!({"label": "Home", "url": "/"})];
    if public {
        main_menu.push(json!({"label": "Create your site", "url": "/sandbox/register/"}));
    }
    let site = json!({
        "id": DIR, "name": domain, "url": format!("https://{domain}"), "description": format!("Websites on {domain}"),
        "lang": "en", "home_url": "/", "listing_url": null, "feed_url": null,
        "brand": {"colours": [], "primary": null, "on_primary": null, "accent": null, "logo": null},
        "menus": {"main": main_menu}, "assets": theme.asset_urls,
    });
    let install = json!({
        "domain": domain,
        "public_registration": public,
        "register_url": "/sandbox/register/",
        "api_register": "/api/register",
        "api_check": "/api/register/check",
        "name_min": settings.tenant_name_min_length.value,
        "name_max": settings.tenant_name_max_length.value,
        "reserved_count": reserved_names().len(),
    });
    let render = |template: &str, page: serde_json::Value| -> Result<Vec<u8>, BuildError> {
        let mut ctx = tera::Context::new();
        ctx.insert("site", &site);
        ctx.insert("install", &install);
        ctx.insert("page", &page);
        ctx.insert("status", status);
        theme
            .tera
            .render(template, &ctx)
            .map(String::into_bytes)
            .map_err(|e| BuildError::Page {
                tenant: DIR.into(),
                page: template.into(),
                message: format!(
                    "theme '{}', templates/{template}: {}",
                    theme.meta.name,
                    chain(&e)
                ),
            })
    };
    let page = |kind: &str, title: &str, url: &str| {
        json!({"kind": kind, "title": title, "description": format!("Websites on {domain}"), "url": url,
               "permalink": format!("https://{domain}{url}"), "menu": main_menu, "panes": [], "toc": []})
    };
    sink.write(
        "index.html",
        &render("landing.html", page("landing", domain, "/"))?,
    )?;
    let mut pages = 1;
    if public {
        sink.write(
            REGISTER_PATH,
            &render(
                "register.html",
                page("register", "Create your site", "/sandbox/register/"),
            )?,
        )?;
        pages += 1;
    }
    sink.write(
        "404.html",
        &render("404.html", page("404", "Page not found", "/404.html"))?,
    )?;
    // A theme version from before the status page has no template for it.
    if theme.tera.get_template_names().any(|t| t == "status.html") {
        let html = render("status.html", page("status", "Platform status", "/status/"))?;
        sink.write(STATUS_PATH, &html)?;
        pages += 1;
    }
    sink.write("robots.txt", b"User-agent: *\nAllow: /\n")?;
    Ok(pages)
}
