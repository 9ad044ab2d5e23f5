//! `t8k serve`: the local preview server, optionally rebuilding changed tenants (`--watch`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use t8k_builder::publish::{Routes, routes_key};
use t8k_builder::{Status, Themes};
use t8k_core::lifecycle::Installation;

use super::build::{out_dir, themes_dir};
use crate::cli::ServeArgs;
use crate::serve::{ServeState, Source, live_deploys, router};

pub fn run(inst: &Installation, root: &str, args: ServeArgs, json: bool) -> Result<()> {
    let themes =
        Themes::new(themes_dir(&args.themes, root)).tracking_localhost(inst.env.track_localhost);
    let deploys_from = args
        .from
        .clone()
        .or_else(|| root.starts_with("s3://").then(|| root.to_owned()));
    let source = match deploys_from {
        Some(spec) => {
            let store: Arc<dyn t8k_core::store::Store> =
                Arc::from(t8k_core::store::open(&spec, &inst.env, false)?);
            Source::Deploys {
                store,
                live: RwLock::new(Arc::new(HashMap::new())),
            }
        }
        None => Source::Builds(out_dir(inst, args.out.clone())?),
    };
    let functions = super::open(root, inst.env.s3_endpoint.as_deref())?;
    serve(
        inst,
        functions,
        source,
        themes,
        &Listen {
            bind: &args.bind,
            port: args.port,
            tls_port: args.tls_port,
        },
        args.watch,
        json,
    )
}

/// Where `serve` listens: HTTP on `port`, and HTTPS on `tls_port` if given.
pub struct Listen<'a> {
    pub bind: &'a str,
    pub port: u16,
    pub tls_port: Option<u16>,
}

/// Serves until Ctrl-C or SIGTERM.
pub fn serve(
    inst: &Installation,
    functions: Installation,
    source: Source,
    themes: Themes,
    listen: &Listen<'_>,
    watch: bool,
    json: bool,
) -> Result<()> {
    inst.registry()?; // migrates a wave-1 registry before anything reads the keys
    let fns = t8k_functions::AppState::new(functions)?
        .batching_beacons()
        .giving_memory_back_with(crate::give_freed_memory_back);
    let fns = Arc::new(fns);
    let state = Arc::new(ServeState {
        source,
        functions: fns.clone(),
        served: Default::default(),
        limits_checked: Default::default(),
    });
    reload_routes(&state, &mut None)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stop_signal = shutdown(&runtime)?;
    let listener = bind(&runtime, listen.bind, listen.port)?;
    let tls = match listen.tls_port {
        Some(port) => {
            let domain = inst.registry()?.0.domain;
            let config = crate::serve::tls::config(fns.clone(), &domain);
            Some((bind(&runtime, listen.bind, port)?, config))
        }
        None => None,
    };
    let tls_port = tls.as_ref().map(|(l, _)| l.local_addr()).transpose()?;
    announce(
        inst,
        listener.local_addr()?.port(),
        tls_port.map(|a| a.port()),
        json,
    )?;
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reloader = scope.spawn(|| refresh_loop(inst, &state, &fns, &themes, watch, &stop));
        let app = router(state.clone(), fns.clone());
        if let Some((listener, config)) = tls {
            let serving = crate::serve::tls::serve(listener, config, app.clone(), stopped.clone());
            runtime.spawn(serving);
        }
        let mut plain_stop = stopped;
        let served = runtime.block_on(async {
            let signal = async move {
                stop_signal.await;
                let _ = stopping.send(true);
            };
            tokio::spawn(signal);
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = plain_stop.changed().await;
            })
            .await
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = reloader.join();
        crate::serve::flush_bandwidth(inst, &state);
        fns.beacons.flush(fns.inst.store());
        served.context("the preview server stopped with an error")
    })
}

fn bind(
    runtime: &tokio::runtime::Runtime,
    bind: &str,
    port: u16,
) -> Result<tokio::net::TcpListener> {
    let addr: SocketAddr = format!("{bind}:{port}")
        .parse()
        .with_context(|| format!("--bind {bind} --port {port} is not an address"))?;
    runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| {
            format!("cannot listen on {addr}; is another server using the port? Try port 0")
        })
}

/// Re-reads `routes.json` (deploys mode): which deploy each site serves — when its version
/// differs from `seen` (a HEAD, or a `stat` on a local store, per check).
fn reload_routes(state: &ServeState, seen: &mut Option<t8k_core::store::Version>) -> Result<()> {
    if let Source::Deploys { store, live } = &state.source {
        let now = store.head(&routes_key())?;
        if now.is_some() && now == *seen {
            return Ok(());
        }
        let (routes, version) = t8k_core::cas::read_json::<Routes>(store.as_ref(), &routes_key())?
            .map_or_else(Default::default, |(r, v)| (r, Some(v)));
        *seen = version;
        let map = live_deploys(&routes);
        let mut cur = live.write().expect("live table lock");
        if **cur != map {
            *cur = Arc::new(map);
        }
    }
    Ok(())
}

fn announce(inst: &Installation, port: u16, tls_port: Option<u16>, json: bool) -> Result<()> {
    let tenants = inst.list()?;
    let urls: Vec<String> = tenants
        .iter()
        .map(|t| format!("http://{}.localhost:{port}/", t.id))
        .collect();
    let main = format!("http://localhost:{port}/");
    if json {
        println!(
            "{}",
            serde_json::json!({
                "listening": format!("http://127.0.0.1:{port}"),
                "tls": tls_port.map(|p| format!("https://127.0.0.1:{p}")),
                "main": main,
                "sites": urls,
            })
        );
    } else {
        println!(
            "Serving {} sites on http://127.0.0.1:{port} (Ctrl-C stops):",
            tenants.len()
        );
        if let Some(p) = tls_port {
            println!("  HTTPS on port {p} for hosts with a certificate (t8k certs list)");
        }
        println!("  main site  {main}");
        const SHOWN: usize = 20;
        for (t, url) in tenants.iter().zip(&urls).take(SHOWN) {
            println!(
                "  {:<10} {url}{}",
                t.id,
                if t.active { "" } else { "  (inactive: 503)" }
            );
        }
        if tenants.len() > SHOWN {
            println!(
                "  … and {} more at http://{{id}}.localhost:{port}/ (t8k tenant list)",
                tenants.len() - SHOWN
            );
        }
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    Ok(())
}

/// Once a second: flush counts, and with `--watch` rebuild every tenant whose fingerprint
/// changed (themes are reloaded, so template edits count). `routes.json` is checked every
/// 100 ms on a local bundle store and every 250 ms on a bucket (one HEAD), so a flip is
/// served within moments of a publish.
fn refresh_loop(
    inst: &Installation,
    state: &ServeState,
    fns: &t8k_functions::AppState,
    themes: &Themes,
    watch: bool,
    stop: &std::sync::atomic::AtomicBool,
) {
    let tick = match &state.source {
        Source::Deploys { store, .. } if store.local_path(&routes_key()).is_none() => 250,
        _ => 100,
    };
    let mut seen = None;
    // The sites' last builds, kept between rebuilds (a served installation is small).
    let warm = t8k_builder::Warm::new(64);
    let check_routes = |seen: &mut Option<_>| {
        if let Err(e) = reload_routes(state, seen) {
            tracing::error!(error = format!("{e:#}"), "cannot read routes.json");
        }
    };
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        crate::serve::flush_bandwidth(inst, state);
        fns.beacons.flush(fns.inst.store());
        if let (true, Source::Builds(out)) = (watch, &state.source) {
            themes.reload();
            let mut outcomes: Vec<t8k_builder::Outcome> = vec![];
            if let Ok(tenants) = inst.list() {
                for t in tenants.iter().filter(|t| t.active) {
                    if let Ok(id) = t.tenant_id() {
                        let mode = t8k_builder::Mode::CHANGED;
                        outcomes.push(t8k_builder::build_tenant(
                            inst,
                            themes,
                            &id,
                            out,
                            mode,
                            Some(&warm),
                        ));
                    }
                }
            }
            outcomes.push(t8k_builder::build_main(inst, themes, out, true));
            for o in outcomes.iter().filter(|o| o.status != Status::Skipped) {
                match &o.error {
                    Some(e) => {
                        tracing::warn!(tenant = %o.tenant, error = %e, "watch: rebuild failed")
                    }
                    None => tracing::info!(tenant = %o.tenant, pages = o.pages, "watch: rebuilt"),
                }
            }
        }
        for _ in 0..1000 / tick {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(tick));
            check_routes(&mut seen);
        }
    }
}

/// Ctrl-C or SIGTERM. The handlers are installed here, before anything is served: a signal
/// that arrives between the first answer and the first poll of the shutdown future (the server
/// polls it from a task of its own) must stop the server gracefully, not kill it unflushed.
fn shutdown(runtime: &tokio::runtime::Runtime) -> Result<impl Future<Output = ()> + use<>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _guard = runtime.enter();
        let mut int = signal(SignalKind::interrupt()).context("cannot handle Ctrl-C")?;
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        })
    }
    #[cfg(not(unix))]
    {
        let _ = runtime;
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
