//! `t8k theme push|list|channel`, `t8k tenant pin|channel`: published theme versions and what
//! each tenant builds with.

use std::path::Path;

use anyhow::{Context, Result};
use t8k_core::lifecycle::Installation;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::themes;

use crate::cli::ThemeCmd;
use crate::{UsageError, output};

pub fn run(inst: &Installation, cmd: ThemeCmd, json: bool) -> Result<()> {
    match cmd {
        ThemeCmd::Push { dir, name } => push(inst, &dir, name, json),
        ThemeCmd::List { name } => list(inst, name.as_deref(), json),
        ThemeCmd::Channel { spec, channel } => {
            let (name, version) = themes::parse_spec(&spec)?;
            themes::set_channel(inst.store(), &name, &channel, version)?;
            let out = serde_json::json!({"theme": name, "channel": channel, "version": version});
            output::emit(json, &out, || {
                println!(
                    "Channel {channel} of '{name}' is version {version}; tenants following it build with it from their next build."
                )
            });
            Ok(())
        }
    }
}

fn push(inst: &Installation, dir: &Path, name: Option<String>, json: bool) -> Result<()> {
    let name = match name {
        Some(n) => n,
        None => dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|f| f.to_string_lossy().into_owned()))
            .ok_or_else(|| UsageError(format!("{}: name the theme with --name", dir.display())))?,
    };
    themes::check_name(&name)?;
    // It must compile before anyone can be pinned to it.
    t8k_builder::Theme::load_dir(dir.to_owned(), &name, false)?;
    let files: Vec<(String, Vec<u8>)> = t8k_builder::tree::read(dir)
        .map_err(|(p, e)| anyhow::anyhow!("cannot read {}: {e}", p.display()))?
        .into_iter()
        // What a theme is made of (a theme folder inside a data root also holds its versions).
        .filter(|(rel, _)| {
            rel == "theme.toml" || rel.starts_with("templates/") || rel.starts_with("static/")
        })
        .filter(|(rel, _)| !rel.split('/').any(|s| s.starts_with('.')))
        .collect();
    let pushed = themes::push(inst.store(), &name, &files)
        .with_context(|| format!("pushing {}", dir.display()))?;
    output::emit(json, &pushed, || {
        match pushed.new {
            true => println!(
                "Published {name}@{} ({} files, {}).",
                pushed.version,
                pushed.files,
                t8k_core::quota::format_size(pushed.bytes)
            ),
            false => println!(
                "These files already are {name}@{}; nothing pushed.",
                pushed.version
            ),
        }
        if !pushed.channels.is_empty() {
            println!(
                "It is the theme's first version: channels {} name it.",
                pushed.channels.join(" and ")
            );
        } else if pushed.new {
            println!(
                "Roll it out with: t8k rollout start {name}@{} --percent 5",
                pushed.version
            );
        }
    });
    Ok(())
}

fn list(inst: &Installation, name: Option<&str>, json: bool) -> Result<()> {
    let names = match name {
        Some(n) => vec![n.to_owned()],
        None => themes::published_names(inst.store())?,
    };
    #[derive(serde::Serialize)]
    struct Listed {
        theme: String,
        index: themes::ThemeIndex,
    }
    let mut all = vec![];
    for theme in names {
        let index =
            themes::read_index(inst.store(), &theme)?.ok_or_else(|| themes::no_versions(&theme))?;
        all.push(Listed { theme, index });
    }
    output::emit(json, &all, || {
        if all.is_empty() {
            println!(
                "No theme version is published; `t8k theme push themes/default` publishes one."
            );
        }
        for Listed { theme: n, index } in &all {
            let rows = index
                .versions
                .iter()
                .map(|v| {
                    let channels: Vec<&str> = index
                        .channels
                        .iter()
                        .filter(|(_, cv)| **cv == v.version)
                        .map(|(c, _)| c.as_str())
                        .collect();
                    vec![
                        format!("{n}@{}", v.version),
                        v.pushed.clone(),
                        v.files.to_string(),
                        t8k_core::quota::format_size(v.bytes),
                        if v.complete {
                            channels.join(", ")
                        } else {
                            "push unfinished".into()
                        },
                    ]
                })
                .collect();
            println!(
                "{}",
                output::table(&["version", "pushed", "files", "bytes", "channels"], rows)
            );
            if let Some(r) = &index.rollout {
                println!("Rollout running: {r} (`t8k rollout status {r}`).");
            }
        }
    });
    Ok(())
}

/// `t8k tenant pin`.
pub fn pin(inst: &Installation, id: &str, theme: Option<String>, json: bool) -> Result<()> {
    let (_, tid) = inst.entry(id)?;
    let target = theme.as_deref().map(themes::parse_spec).transpose()?;
    if let Some((name, version)) = &target {
        let index =
            themes::read_index(inst.store(), name)?.ok_or_else(|| themes::no_versions(name))?;
        index.usable(name, *version)?;
    }
    TenantConfig::update(inst.store(), &tid, |cfg| {
        let (name, version) = match &target {
            Some((n, v)) => (n.clone(), Some(*v)),
            None => (cfg.theme.clone(), None),
        };
        if cfg.theme == name && cfg.theme_version == version {
            return Ok(None);
        }
        cfg.theme = name;
        cfg.theme_version = version;
        Ok(Some(()))
    })?;
    let cfg = TenantConfig::load(inst.store(), &tid)?;
    let out = serde_json::json!({"tenant": id, "theme": cfg.theme, "theme_version": cfg.theme_version, "channel": channel_of(&cfg)});
    output::emit(json, &out, || match cfg.theme_version {
        Some(v) => println!(
            "'{id}' is pinned to {}@{v}; `t8k build {id} && t8k publish {id}` makes it live.",
            cfg.theme
        ),
        None => println!(
            "'{id}' follows the {} channel of '{}' again; its next build uses that version.",
            channel_of(&cfg),
            cfg.theme
        ),
    });
    Ok(())
}

fn channel_of(cfg: &TenantConfig) -> &str {
    if cfg.release_channel.is_empty() {
        "stable"
    } else {
        &cfg.release_channel
    }
}

/// `t8k tenant channel`.
pub fn channel(inst: &Installation, id: &str, channel: &str, json: bool) -> Result<()> {
    themes::check_channel(channel)?;
    let (_, tid) = inst.entry(id)?;
    let stored = if channel == "stable" { "" } else { channel };
    TenantConfig::update(inst.store(), &tid, |cfg| {
        if cfg.release_channel == stored {
            return Ok(None);
        }
        cfg.release_channel = stored.to_owned();
        Ok(Some(()))
    })?;
    let out = serde_json::json!({"tenant": id, "channel": channel});
    output::emit(json, &out, || {
        println!("'{id}' follows the {channel} channel.")
    });
    Ok(())
}
