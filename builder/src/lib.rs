//! t8k-builder: renders every tenant's site from its SQLite database through a Tera theme into
//! a static bundle (`build/{tenant}/` in the data root by default).
//!
//! Shape (after Zola and ripgrep): themes compile once and are shared by `Arc`; each tenant's
//! database is opened read-only once and its site-wide context built once; tenants and their
//! pages render on one rayon pool; every output goes through one [`sink::Sink`]; a tenant whose
//! source fingerprint is unchanged is skipped with `--changed`.

pub mod banners;
pub mod compare;
pub mod dates;
pub mod deploys;
pub mod embeds;
pub mod error;
pub mod fingerprint;
pub mod history;
pub mod http;
pub mod images;
pub mod incremental;
pub mod job;
pub mod laps;
pub mod links;
pub mod main_site;
pub mod markdown;
pub mod plan;
pub mod publish;
pub mod render;
pub mod rollout;
pub mod shard;
pub mod shared_dir;
pub mod sink;
pub mod site;
pub mod structure;
pub mod theme;
pub mod tree;
pub mod warm;
pub mod weight;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use t8k_core::TenantId;
use t8k_core::db::SiteDb;
use t8k_core::key::layout;
use t8k_core::lifecycle::Installation;
use t8k_core::tenant_config::TenantConfig;

pub use error::BuildError;
use fingerprint::Record;
use incremental::Outputs;
use laps::Laps;
pub use shard::Shard;
use shared_dir::SharedDir;
use sink::DirSink;
pub use theme::{Theme, Themes};
pub use warm::Warm;
use warm::WarmSite;

pub struct BuildRequest {
    /// Tenants to build; empty means every active tenant.
    pub tenants: Vec<String>,
    pub mode: Mode,
    pub shard: Option<Shard>,
    /// Where bundles go: `{out}/{tenant}/` plus `{out}/{tenant}.build.json`.
    pub out: PathBuf,
    /// Also build the main domain's site (`{out}/_main/`).
    pub include_main: bool,
    /// Exactly these tenants, already found active (a `--changed` [`plan`]); `tenants` is
    /// then ignored.
    pub planned: Option<Vec<TenantId>>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Built,
    Skipped,
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub tenant: String,
    pub status: Status,
    pub pages: usize,
    /// Files of the bundle rendered (or copied) by this build, and files the last build left
    /// that it kept: a small `written` is an incremental build.
    pub written: usize,
    pub kept: usize,
    /// Images processed (decoded, variants made), reused (every variant known) and failed.
    pub images: images::Counts,
    /// How long the site took to build (or to find it need not be).
    pub seconds: f64,
    /// A built site's figures (bundle bytes, page weight), kept in its history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<weight::BuildMetrics>,
    /// What the site's authors should fix; the build went on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Outcome {
    fn new(tenant: &str, status: Status) -> Outcome {
        Outcome {
            tenant: tenant.to_owned(),
            status,
            pages: 0,
            written: 0,
            kept: 0,
            images: Default::default(),
            seconds: 0.0,
            metrics: None,
            warnings: vec![],
            error: None,
        }
    }

    fn failed(tenant: &str, e: BuildError) -> Outcome {
        Outcome {
            error: Some(e.to_string()),
            ..Outcome::new(tenant, Status::Failed)
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub tenants: usize,
    pub built: usize,
    pub skipped: usize,
    pub failed: usize,
    pub pages: usize,
    /// Files rendered, and files kept from the last build (see [`Outcome`]).
    pub written: usize,
    pub kept: usize,
    pub images: images::Counts,
    /// Every built site's warnings, each naming its tenant.
    pub warnings: Vec<String>,
    pub seconds: f64,
    pub pages_per_second: f64,
    pub failures: Vec<Outcome>,
    /// Staging folders of killed builds removed before this one started.
    pub reclaimed: sink::Reclaimed,
}

/// The default bundle folder: `build/` in a local data root, or in the local cache of a
/// bucket data root (bundles are published from there).
pub fn default_out(inst: &Installation) -> Option<PathBuf> {
    let build = t8k_core::Key::new("build").expect("constant key");
    Some(
        inst.store
            .local_path(&build)
            .unwrap_or_else(|| t8k_core::db::remote::cache_root(inst.store()).join("build")),
    )
}

/// Which tenants a request covers, in id order; unknown or inactive named tenants are
/// errors before anything is built.
pub fn select(inst: &Installation, req: &BuildRequest) -> Result<Vec<TenantId>, t8k_core::Error> {
    let mut out = vec![];
    if let Some(planned) = &req.planned {
        out = planned.clone();
    } else if req.tenants.is_empty() {
        for e in inst.list()?.iter().filter(|e| e.active) {
            out.push(e.tenant_id()?);
        }
    } else {
        for name in &req.tenants {
            let (entry, id) = inst.entry(name)?;
            if !entry.active {
                return Err(t8k_core::Error::invalid(
                    format!("tenant '{id}'"),
                    "it is inactive; `t8k tenant activate` it first",
                ));
            }
            out.push(id);
        }
    }
    if let Some(shard) = req.shard {
        out.retain(|id| shard.contains(id.as_str()));
    }
    Ok(out)
}

fn record_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.build.json"))
}

/// How a site is built.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    /// Skip a site whose source fingerprint is unchanged.
    pub changed_only: bool,
    /// Render every file into a fresh folder, even where an incremental build could keep
    /// most of the last bundle ([`incremental`]).
    pub full: bool,
    /// Build with this published version of the tenant's theme instead of the one its
    /// settings name (a rollout trying a version on its cohort).
    pub theme: Option<u32>,
}

impl Mode {
    /// What a rebuild on change wants (`serve --watch`, the worker): skip an unchanged site,
    /// render only what changed in the others.
    pub const CHANGED: Mode = Mode {
        changed_only: true,
        full: false,
        theme: None,
    };
}

/// Builds one tenant (or skips it); never panics on bad content, reports it. A long-running
/// builder passes what it keeps between builds (`warm`, see [`warm`]).
pub fn build_tenant(
    inst: &Installation,
    themes: &Themes,
    id: &TenantId,
    out: &Path,
    mode: Mode,
    warm: Option<&Warm>,
) -> Outcome {
    let started = std::time::Instant::now();
    let site = warm.map(|w| w.site(id));
    let mut kept = site
        .as_ref()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()));
    let outcome = try_build_tenant(inst, themes, id, out, mode, kept.as_deref_mut())
        .unwrap_or_else(|e| Outcome::failed(id.as_str(), e));
    remember(out, outcome, started)
}

/// Logs a build and appends it to the site's history (skips are not attempts). A built site
/// whose history cannot be written is reported as failed: its bundle's folder is not writable.
fn remember(out: &Path, mut outcome: Outcome, started: std::time::Instant) -> Outcome {
    outcome.seconds = started.elapsed().as_secs_f64();
    if let Some(m) = &mut outcome.metrics {
        m.seconds = outcome.seconds;
    }
    let ms = outcome.seconds * 1e3;
    match &outcome.error {
        Some(e) => tracing::warn!(tenant = %outcome.tenant, ms, error = %e, "build failed"),
        None => {
            tracing::debug!(tenant = %outcome.tenant, status = ?outcome.status, pages = outcome.pages, ms, "build")
        }
    }
    let result = match outcome.status {
        Status::Skipped => return outcome,
        Status::Built => Ok(()),
        Status::Failed => Err(outcome.error.as_deref().unwrap_or("unknown error")),
    };
    let mut attempt = history::Attempt::now(history::Stage::Build, result);
    attempt.metrics = outcome.metrics;
    if let Err(e) = history::append(out, &outcome.tenant, &attempt)
        && outcome.status == Status::Built
    {
        outcome.status = Status::Failed;
        outcome.error = Some(format!(
            "built, but its history could not be written in {}: {e}",
            out.display()
        ));
    }
    outcome
}

fn try_build_tenant(
    inst: &Installation,
    themes: &Themes,
    id: &TenantId,
    out: &Path,
    mode: Mode,
    mut warm: Option<&mut WarmSite>,
) -> Result<Outcome, BuildError> {
    let terr = |source| BuildError::Tenant {
        tenant: id.to_string(),
        source,
    };
    let mut laps = Laps::start();
    let env_bytes = inst
        .store
        .get(&layout::env_json(id))
        .map_err(|e| terr(e.into()))?
        .map(|o| o.bytes)
        .unwrap_or_default();
    let config = TenantConfig::load(inst.store(), id).map_err(terr)?;
    let theme = themes.for_tenant(inst.store(), &config, mode.theme)?;
    let db = SiteDb::open_read_only(inst.store(), id).map_err(terr)?;
    let version = db.content_version().map_err(terr)?;
    let db_id = db.db_id().map_err(terr)?;
    let shown = banners::for_site(
        &themes.notices(inst.store()),
        id.as_str(),
        t8k_core::timefmt::now(),
    );
    let fp = fingerprint::compute(&[
        theme.fingerprint.as_bytes(),
        &fingerprint::settings_of(&env_bytes),
        db_id.as_bytes(),
        &version.to_le_bytes(),
        &banners::digest(&shown),
    ]);
    let record = record_path(out, id.as_str());
    let bundle = out.join(id.as_str());
    let shared = SharedDir::in_out(out);
    let _lock = lock(out, id.as_str())?;
    if mode.changed_only && unchanged(&bundle, &record, &fp, &shared) {
        return Ok(Outcome::new(id.as_str(), Status::Skipped));
    }
    laps.lap("open");
    let manifest = incremental::manifest_path(out, id.as_str());
    let held = warm
        .as_deref_mut()
        .and_then(|w| w.take_manifest(&manifest, &bundle));
    let previous = match mode.full {
        true => None,
        false => held.or_else(|| incremental::Manifest::read(&manifest, &bundle)),
    };
    laps.lap("manifest");
    // With a previous build, the panes of the pages that render are read later.
    let panes_later = previous.is_some();
    let rows = warm.as_deref_mut().and_then(|w| w.take_rows(&db_id));
    let site = match (panes_later, rows) {
        (true, Some(rows)) => site::refresh(&db, id, config, rows)?,
        (with_panes, _) => site::load(&db, id, config, !with_panes)?,
    };
    laps.lap("rows");
    let media = db.media_files().map_err(terr)?;
    let images = images::prepare(inst.store(), id, &media, &theme.meta.images, &shared)?;
    let mut objects = theme.share(&shared).map_err(terr)?;
    objects.extend(images.shared.clone());
    laps.lap("images");
    let render = render::TenantRender::new(&theme, &site, &images, &shown);
    laps.lap("context");
    // A changed site-wide context changes every page: a full build.
    let previous = previous.filter(|m| m.site == render.site_key);
    if panes_later {
        let panes = match &previous {
            Some(m) => db.panes_of(&render.pages_to_read(m)),
            None => db.all_panes(),
        };
        render.load_panes(panes.map_err(terr)?);
        laps.lap("panes");
    }
    drop(db);
    let write = |outputs: &Outputs| {
        let pages = render.write_all(outputs)?;
        write_media(inst, id, &media, &images, &shared, outputs)?;
        Ok(pages)
    };
    let (pages, mut now, written, kept) = incremental::build_bundle(
        out,
        id.as_str(),
        previous.as_ref(),
        render.site_key,
        write,
        &|rel| shared.size(rel),
        &mut laps,
    )?;
    now.warnings = render.take_warnings(previous.as_ref().map(|m| &m.warnings));
    let stamp = now.write(&manifest)?;
    let (bundle_bytes, mut weights) = (now.bundle_bytes(), now.page_weights());
    drop(render);
    laps.lap("manifest written");
    let warnings = now
        .warnings
        .iter()
        .flat_map(|(page, found)| found.iter().map(move |w| format!("page '{page}': {w}")))
        .collect();
    let rec = Record {
        fingerprint: fp,
        builder: fingerprint::BUILDER_VERSION.into(),
        pages,
        content_version: version,
        built: Some(t8k_core::timefmt::now_rfc3339()),
        shared: objects,
        images: images.counts,
    };
    rec.write(&record).map_err(BuildError::io(&record))?;
    laps.lap("record");
    if let Some(w) = warm {
        w.keep_manifest(stamp, now);
        w.keep_rows(db_id, site.pages);
    }
    tracing::debug!(tenant = %id, phases = %laps, "build phases");
    let metrics = weight::BuildMetrics::of(bundle_bytes, &mut weights, pages);
    Ok(Outcome {
        pages,
        written,
        kept,
        images: images.counts,
        metrics: Some(metrics),
        warnings,
        ..Outcome::new(id.as_str(), Status::Built)
    })
}

/// Holds `{out}/.{name}.lock` while a site's bundle is built: two builds of one site into one
/// folder (`t8k serve --watch` and a `t8k build`, two workers) take turns.
fn lock(out: &Path, name: &str) -> Result<std::fs::File, BuildError> {
    let path = out.join(format!(".{name}.lock"));
    std::fs::create_dir_all(out).map_err(BuildError::io(out))?;
    let file = std::fs::File::create(&path).map_err(BuildError::io(&path))?;
    file.lock().map_err(BuildError::io(&path))?;
    Ok(file)
}

/// Whether a bundle is already what `fp` would build: its record says so and every shared
/// object it references is still in `shared`.
fn unchanged(bundle: &Path, record: &Path, fp: &str, shared: &SharedDir) -> bool {
    bundle.is_dir()
        && Record::read(record)
            .is_some_and(|r| r.fingerprint == fp && r.shared.keys().all(|rel| shared.has(rel)))
}

/// Puts the uploaded files into the bundle at `/media/…`: an image that has variants is
/// replaced by its widest variant in its own format (upright, no metadata: the original stays
/// private in the data root); other files (PDFs, animated or undecodable images) as they are.
/// A key outside the tenant's media folder (a tampered database) is refused, never followed.
fn write_media(
    inst: &Installation,
    id: &TenantId,
    media: &[images::Original],
    images: &images::ImageSet,
    shared: &SharedDir,
    out: &Outputs,
) -> Result<(), BuildError> {
    let terr = |source| BuildError::Tenant {
        tenant: id.to_string(),
        source,
    };
    for file in media {
        let original = || t8k_core::content::media::original(inst.store(), id, &file.key);
        let url = t8k_core::content::media::url_of(id, &file.key).ok_or_else(|| {
            terr(t8k_core::Error::Corrupt {
                file: format!("db/{id}/site.db"),
                message: format!("media key {:?} is outside media/{id}/", file.key),
            })
        })?;
        let replacement = t8k_core::images::Format::of_mime(&file.mime)
            .and_then(|format| images.get(&url)?.replaces_original(format));
        // Both sources are content-addressed: their names are their keys.
        let key = incremental::Inputs::new(b"", "media")
            .str(&file.key)
            .opt(replacement.map(|v| v.key.as_str()))
            .finish();
        out.keyed(url.trim_start_matches('/'), key, || {
            match replacement {
                Some(v) => shared.read(&v.rel()),
                None => original(),
            }
            .map_err(terr)
        })?;
    }
    Ok(())
}

/// Builds the main domain's site.
pub fn build_main(inst: &Installation, themes: &Themes, out: &Path, changed_only: bool) -> Outcome {
    let started = std::time::Instant::now();
    let run = || -> Result<Outcome, BuildError> {
        let settings = inst.settings().map_err(|source| BuildError::Tenant {
            tenant: main_site::DIR.into(),
            source,
        })?;
        let theme = themes.stable(inst.store(), main_site::THEME)?;
        let status = main_site::Status::of(&themes.notices(inst.store()), t8k_core::timefmt::now());
        let fp = fingerprint::compute(&[
            theme.fingerprint.as_bytes(),
            &main_site::inputs(&settings, &status),
        ]);
        let record = record_path(out, main_site::DIR);
        let bundle = out.join(main_site::DIR);
        let shared = SharedDir::in_out(out);
        if changed_only && unchanged(&bundle, &record, &fp, &shared) {
            return Ok(Outcome::new(main_site::DIR, Status::Skipped));
        }
        let objects = theme.share(&shared).map_err(|source| BuildError::Tenant {
            tenant: main_site::DIR.into(),
            source,
        })?;
        // A failure drops the sink, and with it the staged files.
        let sink = DirSink::new(bundle)?;
        let pages = main_site::write(&theme, &settings, &status, &sink)?;
        sink.commit()?;
        Record {
            fingerprint: fp,
            builder: fingerprint::BUILDER_VERSION.into(),
            pages,
            content_version: 0,
            built: Some(t8k_core::timefmt::now_rfc3339()),
            shared: objects,
            images: Default::default(),
        }
        .write(&record)
        .map_err(BuildError::io(&record))?;
        Ok(Outcome {
            pages,
            ..Outcome::new(main_site::DIR, Status::Built)
        })
    };
    let outcome = run().unwrap_or_else(|e| Outcome::failed(main_site::DIR, e));
    remember(out, outcome, started)
}

/// Builds every selected tenant on the rayon pool; `progress` is called once per tenant as it
/// finishes. Per-tenant failures are in the summary, not errors.
pub fn build(
    inst: &Installation,
    themes: &Themes,
    req: &BuildRequest,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Result<Summary, t8k_core::Error> {
    let started = Instant::now();
    themes.refresh();
    let tenants = select(inst, req)?;
    let reclaimed = sink::reclaim_stale(&req.out);
    let mut outcomes: Vec<Outcome> = tenants
        .par_iter()
        .map(|id| {
            let o = build_tenant(inst, themes, id, &req.out, req.mode, None);
            progress(&o);
            o
        })
        .collect();
    if req.include_main {
        let o = build_main(inst, themes, &req.out, req.mode.changed_only);
        progress(&o);
        outcomes.push(o);
    }
    let seconds = started.elapsed().as_secs_f64();
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let pages: usize = outcomes.iter().map(|o| o.pages).sum();
    let written = outcomes.iter().map(|o| o.written).sum();
    let kept = outcomes.iter().map(|o| o.kept).sum();
    let mut images = images::Counts::default();
    for o in &outcomes {
        images += o.images;
    }
    let warnings = outcomes
        .iter()
        .flat_map(|o| {
            o.warnings
                .iter()
                .map(|w| format!("tenant '{}', {w}", o.tenant))
        })
        .collect();
    Ok(Summary {
        tenants: outcomes.len(),
        built: count(Status::Built),
        skipped: count(Status::Skipped),
        failed: count(Status::Failed),
        pages,
        written,
        kept,
        images,
        warnings,
        seconds,
        pages_per_second: if seconds > 0.0 {
            pages as f64 / seconds
        } else {
            0.0
        },
        failures: outcomes
            .into_iter()
            .filter(|o| o.status == Status::Failed)
            .collect(),
        reclaimed,
    })
}
