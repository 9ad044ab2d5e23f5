//! `t8k config`: the effective settings and where each comes from; the mail server; the
//! installation admin API key.

use anyhow::{Context, Result};
use t8k_core::lifecycle::Installation;
use t8k_core::registry::{SmtpConfig, SmtpTls};

use crate::cli::{AcmeArgs, ConfigCmd, SmtpArgs, TlsMode};
use crate::output;

pub fn run(inst: &Installation, root: &str, cmd: Option<ConfigCmd>, json: bool) -> Result<()> {
    match cmd {
        None => show(inst, root, json),
        Some(ConfigCmd::Smtp(args)) => smtp(inst, args, json),
        Some(ConfigCmd::Acme(args)) => acme(inst, args, json),
        Some(ConfigCmd::Bandwidth { default }) => {
            let limit = inst.set_default_bandwidth(Some(&default))?;
            output::emit(json, &limit, || match limit.bytes {
                Some(_) => println!(
                    "Tenants without their own BANDWIDTH_QUOTA may serve {} a month.",
                    limit.quota
                ),
                None => {
                    println!("Tenants without their own BANDWIDTH_QUOTA have no bandwidth limit.")
                }
            });
            Ok(())
        }
        Some(ConfigCmd::AdminKey) => {
            let key = inst.rotate_admin_key()?;
            output::emit(json, &serde_json::json!({ "admin_key": key }), || {
                println!("{key}");
                eprintln!(
                    "This is the installation admin API key; it is shown once (only its hash is kept). Any earlier key no longer works.\nUse it as: curl -H 'Authorization: Bearer {key}' https://<domain>/api/admin/tenants"
                );
            });
            Ok(())
        }
    }
}

/// Sets the ACME settings in tenants.json; what is not given stays as it was.
fn acme(inst: &Installation, args: AcmeArgs, json: bool) -> Result<()> {
    if let Some(url) = &args.directory {
        let parsed = url::Url::parse(url).ok();
        if parsed.is_none_or(|u| u.scheme() != "https") {
            return Err(crate::UsageError(format!(
                "--directory {url:?} is not an https:// URL of an ACME directory"
            ))
            .into());
        }
    }
    if let Some(email) = args.email.as_deref().filter(|e| !e.is_empty()) {
        t8k_functions::mail::check_address(email)
            .map_err(|e| crate::UsageError(format!("--email {email:?} is not an address: {e}")))?;
    }
    let reg = inst.set_acme(&t8k_core::lifecycle::AcmeChange {
        auto_ssl: args.auto_ssl,
        directory: args.directory,
        email: args.email,
        dns_hook: args.dns_hook,
    })?;
    let value = serde_json::json!({
        "auto_ssl": reg.auto_ssl,
        "acme_directory": reg.acme_directory.as_deref().unwrap_or(t8k_core::registry::LETS_ENCRYPT),
        "acme_email": reg.acme_email,
        "acme_dns_hook": reg.acme_dns_hook,
    });
    output::emit(json, &value, || {
        println!(
            "auto_ssl {}; certificates from {}",
            if reg.auto_ssl { "on" } else { "off" },
            value["acme_directory"].as_str().unwrap_or_default()
        );
    });
    Ok(())
}

fn smtp(inst: &Installation, args: SmtpArgs, json: bool) -> Result<()> {
    let cfg = if args.off {
        None
    } else {
        let host = args.host.unwrap_or_default();
        let from = args.from.unwrap_or_default();
        t8k_functions::mail::check_address(&from).map_err(|e| {
            crate::UsageError(format!(
                "--from {from:?} is not an address like 't8k <no-reply@example.com>': {e}"
            ))
        })?;
        t8k_core::lifecycle::check_domain(&host)
            .or_else(|e| {
                host.parse::<std::net::IpAddr>()
                    .map(|_| host.clone())
                    .map_err(|_| e)
            })
            .context("--host must be a host name or an IP address")?;
        Some(SmtpConfig {
            host,
            port: args.port,
            tls: match args.tls {
                TlsMode::Starttls => SmtpTls::Starttls,
                TlsMode::Tls => SmtpTls::Tls,
                TlsMode::None => SmtpTls::None,
            },
            username: args.username,
            from,
        })
    };
    inst.set_smtp(cfg.clone())?;
    output::emit(json, &serde_json::json!({ "smtp": cfg }), || match &cfg {
        Some(c) => println!(
            "Mail goes through {}:{} ({:?}) from {}.",
            c.host, c.port, c.tls, c.from
        ),
        None => println!("SMTP is off: mail is written to outbox/ in the data root."),
    });
    Ok(())
}

fn show(inst: &Installation, root: &str, json: bool) -> Result<()> {
    let settings = inst.settings()?;
    output::emit(
        json,
        &serde_json::json!({ "root": root, "settings": settings }),
        || {
            println!("Data root: {root}");
            let rows = settings
                .rows()
                .into_iter()
                .map(|(name, value, source, from)| vec![name, value, source.to_string(), from])
                .collect();
            println!(
                "{}",
                output::table(&["setting", "value", "source", "from"], rows)
            );
        },
    );
    Ok(())
}
