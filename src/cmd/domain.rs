//! `t8k domain` (a tenant's custom domains) and `t8k registry compact`.

use anyhow::{Result, bail};
use t8k_core::dns::Dns;
use t8k_core::lifecycle::Installation;
use t8k_core::registry::{DomainStatus, TenantEntry};

use crate::cli::DomainCmd;
use crate::output;

pub fn run(inst: &Installation, cmd: DomainCmd, json: bool) -> Result<()> {
    let entry = match cmd {
        DomainCmd::Add {
            tenant,
            host,
            trust,
        } => inst.add_domain(&tenant, &host, trust)?,
        DomainCmd::Remove { tenant, host } => inst.remove_domain(&tenant, &host)?,
        DomainCmd::Hsts {
            tenant,
            host,
            state,
        } => inst.set_hsts(&tenant, &host, state == "on")?,
        DomainCmd::List { tenant } => inst.entry(&tenant)?.0,
        DomainCmd::Check {
            tenant,
            concurrency,
        } => return check(inst, tenant.as_deref(), concurrency, json),
        DomainCmd::Verify { tenant, host } => {
            let dns = Dns::new(&inst.env.dns_servers)?;
            let checked = inst.verify_domain(&tenant, &host, &dns)?;
            show(inst, &inst.entry(&tenant)?.0, json)?;
            let state = checked.state;
            if checked.detached {
                bail!(
                    "{} was detached: {}",
                    state.host,
                    state.problem.unwrap_or_default()
                );
            }
            if state.status != DomainStatus::Active {
                bail!(
                    "{} is {:?}: {}",
                    state.host,
                    state.status,
                    state.problem.as_deref().unwrap_or("not active yet")
                );
            }
            return Ok(());
        }
    };
    show(inst, &entry, json)
}

fn show(inst: &Installation, entry: &TenantEntry, json: bool) -> Result<()> {
    let value = t8k_functions::domains::view(inst, entry)?;
    let domains = value["domains"].as_array().cloned().unwrap_or_default();
    output::emit(json, &value, || {
        println!("{}  {}", entry.id, entry.domain);
        for (d, v) in entry.domains.iter().zip(&domains) {
            let status = v["status"].as_str().unwrap_or("?");
            println!("  {:<30} {status}", d.host);
            if d.status != DomainStatus::Active {
                let r = &v["records"];
                println!(
                    "    DNS: {} TXT \"{}\"\n         {} CNAME {}  (or {}'s A/AAAA records)",
                    r["txt_name"].as_str().unwrap_or(""),
                    r["txt_value"].as_str().unwrap_or(""),
                    d.host,
                    r["cname_target"].as_str().unwrap_or(""),
                    r["cname_target"].as_str().unwrap_or("")
                );
            }
            if let Some(p) = &d.problem {
                println!("    last check: {p}");
            }
        }
    });
    Ok(())
}

/// `t8k domain check`: every domain (of one tenant) looked up again; the admins of a tenant
/// whose domain was detached are told by mail.
fn check(inst: &Installation, tenant: Option<&str>, workers: usize, json: bool) -> Result<()> {
    if workers == 0 || workers > 256 {
        return Err(crate::UsageError("--concurrency must be 1–256".into()).into());
    }
    let servers = &inst.env.dns_servers;
    let reports = inst.check_domains(tenant, workers, || Ok(Dns::new(servers)?))?;
    for r in &reports {
        if let Ok(c) = &r.outcome
            && c.detached
        {
            tell_detached(inst, &r.tenant, c)?;
        }
    }
    output::emit(json, &reports, || {
        for r in &reports {
            match &r.outcome {
                Ok(c) if c.detached => println!("{:<12} {:<30} detached", r.tenant, r.host),
                Ok(c) => println!(
                    "{:<12} {:<30} {}{}",
                    r.tenant,
                    r.host,
                    serde_json::to_value(c.state.status)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("?"),
                    c.state
                        .problem
                        .as_deref()
                        .map_or(String::new(), |p| format!("  ({p})"))
                ),
                Err(why) => println!("{:<12} {:<30} unsure: {why}", r.tenant, r.host),
            }
        }
        println!("{} domains checked", reports.len());
    });
    Ok(())
}

fn tell_detached(
    inst: &Installation,
    tenant: &str,
    c: &t8k_core::lifecycle::Checked,
) -> Result<()> {
    let (_, id) = inst.entry(tenant)?;
    let cfg = t8k_core::tenant_config::TenantConfig::load(inst.store(), &id)?;
    let mail = t8k_functions::mail::Mail {
        to: cfg.admin_email,
        subject: format!("{} no longer points at your site", c.state.host),
        body: format!(
            "The custom domain {} of your site {} was removed: {}.\n\nIts DNS records were \
             missing for more than three days, so it could be taken over by someone else. \
             Add it again and create the records shown to bring it back.\n",
            c.state.host,
            cfg.site_name,
            c.state.problem.as_deref().unwrap_or("its records are gone")
        ),
        tag: tenant.to_owned(),
    };
    t8k_functions::mail::send(inst, &mail)
        .map_err(|e| anyhow::anyhow!("cannot tell {tenant}'s admins: {}", e.message))?;
    Ok(())
}

pub fn compact(inst: &Installation, json: bool) -> Result<()> {
    inst.registry()?; // a wave-1 registry is migrated first
    let done = t8k_core::registry::view::compact(inst.store())?;
    output::emit(json, &done, || {
        println!(
            "tenants.json lists {} of {} tenants{}",
            done.shown,
            done.tenants,
            if done.complete {
                " (all; every change keeps it current)"
            } else {
                "; run this again to refresh it"
            }
        );
    });
    Ok(())
}
