//! `t8k demo`: a ready-made installation — three tenants with real-looking content, imported
//! through the same code path as `t8k content import`.

use std::io::Write;

use anyhow::{Context, Result};
use t8k_core::content::import;
use t8k_core::lifecycle::{InitOptions, Installation, NewTenant};

use t8k_builder::{BuildRequest, Themes};

use super::build::{out_dir, print_summary, run_build, themes_dir};
use super::serve::serve;
use crate::cli::DemoArgs;
use crate::output;
use crate::serve::Source;

struct Site {
    id: &'static str,
    name: &'static str,
    theme: &'static str,
    files: &'static [(&'static str, &'static str)],
}

macro_rules! files {
    ($dir:literal: $($f:literal),*) => {
        &[$(($f, include_str!(concat!("../../examples/sites/", $dir, "/", $f)))),*]
    };
}

const SITES: [Site; 3] = [
    Site {
        id: "acme",
        name: "Acme Bakery",
        theme: "default",
        files: files!("acme": "home.md", "menu.md", "sourdough-classes.md"),
    },
    Site {
        id: "harbor",
        name: "The Harbor Journal",
        theme: "editorial",
        files: files!("harbor": "home.md", "ferry-timetable.md", "harbour-wall.md", "about.md"),
    },
    Site {
        id: "trailhead",
        name: "Trailhead Walking Club",
        theme: "default",
        files: files!("trailhead": "home.md", "routes.md", "first-frost.md"),
    },
];

fn random_password() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex::encode(bytes)
}

pub fn run(inst: &Installation, root: &str, args: DemoArgs, json: bool) -> Result<()> {
    if inst.registry().is_ok() {
        if !json {
            println!("Using the existing installation in {root}.");
        }
    } else {
        create(inst, root, &args, json)?;
    }
    let themes =
        Themes::new(themes_dir(&args.themes, root)).tracking_localhost(inst.env.track_localhost);
    let req = BuildRequest {
        tenants: vec![],
        mode: t8k_builder::Mode::CHANGED,
        shard: None,
        out: out_dir(inst, None)?,
        include_main: true,
        planned: None,
    };
    let summary = run_build(inst, &themes, &req, json)?;
    if !json {
        print_summary(&summary);
    }
    if summary.failed > 0 {
        anyhow::bail!("{} sites failed to build (listed above)", summary.failed);
    }
    if args.no_serve {
        return Ok(());
    }
    let functions = super::open(root, None)?;
    serve(
        inst,
        functions,
        Source::Builds(req.out),
        themes,
        &super::serve::Listen {
            bind: "127.0.0.1",
            port: args.port,
            tls_port: None,
        },
        true,
        json,
    )
}

fn create(inst: &Installation, root: &str, args: &DemoArgs, json: bool) -> Result<()> {
    inst.init(&InitOptions {
        domain: args.domain.clone(),
        multi: true,
        max_tenants: Some(100),
        public_enable_multi_tenant: Some(true),
        require_email_verification: false,
        auto_ssl: false,
        enable_custom_domains: true,
    })?;
    let creds_path = std::path::Path::new(root).join("demo-credentials.txt");
    let mut creds = String::from(
        "# Demo admin passwords (user `admin`). Delete this file for anything but a demo.\n",
    );
    let mut summary = vec![];
    for site in &SITES {
        let password = random_password();
        let entry = inst.create_tenant(site.id, |id| NewTenant {
            id,
            site_name: site.name.into(),
            email: format!(
                "admin@{}.{}",
                site.id,
                if args.domain.contains('.') {
                    args.domain.as_str()
                } else {
                    "example.com"
                }
            ),
            admin_password: Some(password.clone()),
            editor_password: None,
            theme: Some(site.theme.into()),
            organisation: None,
        })?;
        let dir = tempfile::tempdir()
            .context("cannot create a temporary folder for the sample content")?;
        for (name, text) in site.files {
            std::fs::write(dir.path().join(name), text)?;
        }
        let id = entry.tenant_id()?;
        let report = import::import(inst.store(), &id, dir.path(), &import::Options::default())?;
        creds.push_str(&format!("{} admin {password}\n", site.id));
        summary.push(serde_json::json!({"tenant": site.id, "domain": entry.domain, "pages": report.files, "theme": site.theme}));
    }
    write_private(&creds_path, &creds)?;
    output::emit(
        json,
        &serde_json::json!({"root": root, "tenants": summary, "credentials": creds_path}),
        || {
            println!("Demo installation ready in {root}:");
            for s in &summary {
                println!(
                    "  {:<10} {:<24} {} pages, theme {}",
                    s["tenant"].as_str().unwrap_or(""),
                    s["domain"].as_str().unwrap_or(""),
                    s["pages"],
                    s["theme"].as_str().unwrap_or("")
                );
            }
            println!(
                "Admin passwords: {} (readable by you only).",
                creds_path.display()
            );
        },
    );
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
