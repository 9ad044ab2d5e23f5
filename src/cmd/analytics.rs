//! `t8k analytics rollup`: raw events → each tenant's analytics database.

use anyhow::Result;
use t8k_core::analytics::{self, rollup};
use t8k_core::lifecycle::Installation;

use crate::cli::AnalyticsCmd;
use crate::output;

pub fn run(inst: &Installation, cmd: AnalyticsCmd, json: bool) -> Result<()> {
    let AnalyticsCmd::Rollup { tenants } = cmd;
    let ids = if tenants.is_empty() {
        inst.list()?
            .iter()
            .map(|t| t.tenant_id())
            .collect::<Result<Vec<_>, _>>()?
    } else {
        tenants
            .iter()
            .map(|t| inst.entry(t).map(|(_, id)| id))
            .collect::<Result<Vec<_>, _>>()?
    };
    // Quiet installations forget old salts here too.
    analytics::prune_salts(inst.store(), t8k_core::timefmt::now())?;
    let mut results = vec![];
    let mut failed = 0;
    for id in &ids {
        match rollup::rollup(inst.store(), id) {
            Ok(m) => results.push(serde_json::json!(m)),
            Err(e) => {
                failed += 1;
                results.push(serde_json::json!({"tenant": id, "error": e.to_string()}));
            }
        }
    }
    output::emit(json, &serde_json::json!({ "tenants": results }), || {
        for r in &results {
            match r.get("error") {
                Some(e) => eprintln!(
                    "{}: {}",
                    r["tenant"].as_str().unwrap_or("?"),
                    e.as_str().unwrap_or("")
                ),
                None => println!(
                    "{}: merged {} events from {} objects{}",
                    r["tenant"].as_str().unwrap_or("?"),
                    r["events"],
                    r["objects"],
                    match r["skipped_lines"].as_u64() {
                        Some(0) | None => String::new(),
                        Some(n) => format!(" ({n} unreadable lines skipped)"),
                    }
                ),
            }
        }
    });
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} tenants could not be rolled up (listed above); rerun when fixed — nothing is counted twice",
            ids.len()
        );
    }
    Ok(())
}
