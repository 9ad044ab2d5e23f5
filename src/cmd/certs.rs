//! `t8k certs list|renew`: the certificates of custom domains (and the subdomains' wildcard),
//! obtained over ACME and kept in the data root's `certs/`.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use t8k_core::certs::{self, CertState, Due};
use t8k_core::lifecycle::Installation;
use t8k_core::registry::{DomainStatus, LETS_ENCRYPT, LETS_ENCRYPT_STAGING, Registry};
use t8k_core::timefmt;

use crate::acme::{self, Proof};
use crate::cli::CertsCmd;
use crate::{UsageError, output};

pub fn run(inst: &Installation, cmd: CertsCmd, json: bool) -> Result<()> {
    match cmd {
        CertsCmd::List => list(inst, json),
        CertsCmd::Import { name, cert, key } => import(inst, &name, &cert, &key, json),
        CertsCmd::Renew {
            tenant,
            wildcard,
            force,
            staging,
        } => renew(inst, tenant.as_deref(), wildcard, force, staging, json),
    }
}

#[derive(Serialize)]
struct Row {
    name: String,
    #[serde(flatten)]
    state: CertState,
    due: Due,
}

fn list(inst: &Installation, json: bool) -> Result<()> {
    let now = timefmt::now();
    let rows: Vec<Row> = certs::list(inst.store())?
        .into_iter()
        .map(|(name, state)| Row {
            due: state.due(now),
            name,
            state,
        })
        .collect();
    output::emit(json, &rows, || {
        if rows.is_empty() {
            println!("No certificates yet: `t8k certs renew` obtains them (auto_ssl).");
            return;
        }
        let table = output::table(
            &["name", "covers", "valid until", "due", "last failure"],
            rows.iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.state.names.join(", "),
                        r.state.not_after.clone().unwrap_or_default(),
                        format!("{:?}", r.due).to_lowercase(),
                        r.state.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
        println!("{table}");
    });
    Ok(())
}

/// Stores a certificate from elsewhere after checking it covers `name` and matches its key.
fn import(
    inst: &Installation,
    name: &str,
    cert: &std::path::Path,
    key: &std::path::Path,
    json: bool,
) -> Result<()> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (chain, key_pem) = (read(cert)?, read(key)?);
    let domain = inst.registry()?.0.domain;
    let (stored_as, wanted) = match name {
        "wildcard" => (certs::wildcard_name(&domain), format!("*.{domain}")),
        host => (host.to_ascii_lowercase(), host.to_ascii_lowercase()),
    };
    let names = certs::names_of(&chain)?;
    if !names.iter().any(|n| n.eq_ignore_ascii_case(&wanted)) {
        return Err(UsageError(format!(
            "{} covers {} — not {wanted}",
            cert.display(),
            names.join(", ")
        ))
        .into());
    }
    crate::serve::tls::check_pair(chain.as_bytes(), key_pem.as_bytes())
        .with_context(|| format!("{} and {} are not a pair", cert.display(), key.display()))?;
    let state = certs::save(inst.store(), &stored_as, &chain, &key_pem)?;
    let row = Row {
        due: state.due(timefmt::now()),
        name: stored_as,
        state,
    };
    output::emit(json, &row, || {
        println!(
            "Stored {} (covers {}) until {}.",
            row.name,
            row.state.names.join(", "),
            row.state.not_after.as_deref().unwrap_or("?")
        );
    });
    Ok(())
}

/// One certificate `renew` wants from the CA.
struct Wanted {
    /// Under `certs/`.
    name: String,
    names: Vec<String>,
    /// The tenant whose custom domain it is (none for the wildcard).
    tenant: Option<String>,
}

/// What `renew` did about one certificate.
#[derive(Serialize)]
struct Outcome {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    /// obtained, renewed, valid, waiting (backoff after a failure), failed.
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
}

impl Outcome {
    fn of(name: &str, tenant: Option<&str>, action: &'static str, s: &CertState) -> Outcome {
        Outcome {
            name: name.to_owned(),
            tenant: tenant.map(str::to_owned),
            action,
            not_after: s.not_after.clone(),
            error: s.last_error.clone().filter(|_| action != "valid"),
            retry_after: s.retry_after.clone().filter(|_| action == "waiting"),
        }
    }
}

fn renew(
    inst: &Installation,
    only: Option<&str>,
    wildcard: bool,
    force: bool,
    staging: bool,
    json: bool,
) -> Result<()> {
    let reg = inst.registry()?.0;
    if !reg.auto_ssl {
        return Err(UsageError(
            "auto_ssl is off in config/t8k/tenants.json: `t8k config acme --auto-ssl on` first"
                .into(),
        )
        .into());
    }
    let mut outcomes = vec![];
    let mut wanted = due_domains(inst, only, force, &mut outcomes)?;
    let hook = reg.acme_dns_hook.clone().filter(|h| !h.is_empty());
    if wildcard {
        if hook.is_none() {
            return Err(UsageError(
                "the wildcard certificate is proved over DNS-01 and no acme_dns_hook is set: `t8k config acme --dns-hook COMMAND`".into(),
            )
            .into());
        }
        let name = certs::wildcard_name(&reg.domain);
        let state = certs::state(inst.store(), &name)?;
        match (force, state.due(timefmt::now())) {
            (false, Due::Valid) => outcomes.push(Outcome::of(&name, None, "valid", &state)),
            (false, Due::Backoff) => outcomes.push(Outcome::of(&name, None, "waiting", &state)),
            _ => wanted.push(Wanted {
                name,
                names: vec![format!("*.{}", reg.domain), reg.domain.clone()],
                tenant: None,
            }),
        }
    }
    if !wanted.is_empty() {
        obtain_all(inst, &reg, staging, hook.as_deref(), wanted, &mut outcomes)?;
    }
    show(&outcomes, json);
    let failed = outcomes.iter().filter(|o| o.action == "failed").count();
    if failed > 0 {
        bail!("{failed} certificate(s) could not be obtained; each is retried after a backoff");
    }
    Ok(())
}

/// The custom domains whose certificate is missing or due: those waiting for one to go live,
/// and active ones. A domain waiting for a certificate that is already stored and valid goes
/// live at once.
fn due_domains(
    inst: &Installation,
    only: Option<&str>,
    force: bool,
    outcomes: &mut Vec<Outcome>,
) -> Result<Vec<Wanted>> {
    let now = timefmt::now();
    let mut wanted = vec![];
    let mut visit = |e: t8k_core::registry::TenantEntry| -> t8k_core::Result<()> {
        let domains = e
            .domains
            .iter()
            .filter(|d| d.awaiting_certificate || d.status == DomainStatus::Active);
        for d in domains {
            let state = certs::state(inst.store(), &d.host)?;
            let tenant = Some(e.id.as_str());
            match (force, state.due(now)) {
                (false, Due::Valid) => {
                    if d.awaiting_certificate {
                        inst.certificate_obtained(&e.id, &d.host)?;
                    }
                    outcomes.push(Outcome::of(&d.host, tenant, "valid", &state));
                }
                (false, Due::Backoff) => {
                    outcomes.push(Outcome::of(&d.host, tenant, "waiting", &state))
                }
                _ => wanted.push(Wanted {
                    name: d.host.clone(),
                    names: vec![d.host.clone()],
                    tenant: Some(e.id.clone()),
                }),
            }
        }
        Ok(())
    };
    match only {
        Some(id) => visit(inst.entry(id)?.0)?,
        None => inst.each_tenant(&mut visit)?,
    }
    Ok(wanted)
}

/// Asks the CA for each wanted certificate in turn, storing what it issues and recording
/// what fails.
fn obtain_all(
    inst: &Installation,
    reg: &Registry,
    staging: bool,
    hook: Option<&str>,
    wanted: Vec<Wanted>,
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    let directory = match staging {
        true => LETS_ENCRYPT_STAGING,
        false => reg.acme_directory.as_deref().unwrap_or(LETS_ENCRYPT),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store = inst.store();
    let account = runtime.block_on(acme::account(
        store,
        directory,
        reg.acme_email.as_deref(),
        inst.env.acme_ca_cert.as_deref(),
    ))?;
    for w in wanted {
        let proof = match (&w.tenant, hook) {
            (None, Some(hook)) => Proof::Dns { hook },
            _ => Proof::Http,
        };
        let had = certs::state(store, &w.name)?.not_after.is_some();
        let tenant = w.tenant.as_deref();
        match runtime.block_on(acme::obtain(&account, store, &w.names, &proof)) {
            Ok((chain, key)) => {
                let state = certs::save(store, &w.name, &chain, &key)?;
                if let Some(t) = tenant {
                    inst.certificate_obtained(t, &w.name)?;
                }
                let action = if had { "renewed" } else { "obtained" };
                outcomes.push(Outcome::of(&w.name, tenant, action, &state));
            }
            Err(e) => {
                let state = certs::record_failure(store, &w.name, &format!("{e:#}"))?;
                outcomes.push(Outcome::of(&w.name, tenant, "failed", &state));
            }
        }
    }
    Ok(())
}

fn show(outcomes: &[Outcome], json: bool) {
    output::emit(json, &outcomes, || {
        if outcomes.is_empty() {
            println!("No custom domain needs a certificate.");
        }
        for o in outcomes {
            let detail = match (o.action, &o.error, &o.not_after) {
                ("failed", Some(e), _) => format!(": {e}"),
                ("waiting", Some(e), _) => format!(
                    " until {} after: {e}",
                    o.retry_after.as_deref().unwrap_or("later")
                ),
                (_, _, Some(until)) => format!(" until {until}"),
                _ => String::new(),
            };
            println!("{:<32} {}{detail}", o.name, o.action);
        }
    });
}
