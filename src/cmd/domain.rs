//! `t8k domain` (a tenant's custom domains) and `t8k registry compact`.

use anyhow::Result;
use t8k_core::lifecycle::Installation;
use t8k_core::registry::TenantEntry;

use crate::cli::DomainCmd;
use crate::output;

pub fn run(inst: &Installation, cmd: DomainCmd, json: bool) -> Result<()> {
    let entry = match cmd {
        DomainCmd::Add { tenant, host } => inst.add_domain(&tenant, &host)?,
        DomainCmd::Remove { tenant, host } => inst.remove_domain(&tenant, &host)?,
        DomainCmd::List { tenant } => inst.entry(&tenant)?.0,
    };
    show(&entry, json);
    Ok(())
}

fn show(entry: &TenantEntry, json: bool) {
    let value = serde_json::json!({
        "tenant": entry.id,
        "domain": entry.domain,
        "custom_domains": entry.custom_domains,
    });
    output::emit(json, &value, || {
        println!("{}  {}", entry.id, entry.domain);
        for d in &entry.custom_domains {
            println!("  {d}");
        }
    });
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
