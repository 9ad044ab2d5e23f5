//! `t8k notice create|list|announce|delete`: maintenance notices.

use anyhow::Result;
use t8k_core::lifecycle::Installation;
use t8k_core::notices::{self, NewNotice, Phase};
use t8k_functions::notices::{Announced, announce, audience, parse_time, tenants_of};

use crate::cli::NoticeCmd;
use crate::output;

pub fn run(inst: &Installation, cmd: NoticeCmd, json: bool) -> Result<()> {
    match cmd {
        NoticeCmd::Create {
            message,
            starts,
            ends,
            tenants,
            all,
            cohort,
            banner,
        } => {
            let audience = audience(inst, all, tenants, cohort.as_deref())?;
            let notice = notices::create(
                inst.store(),
                NewNotice {
                    message,
                    starts: parse_time("--starts", &starts)?,
                    ends: parse_time("--ends", &ends)?,
                    audience,
                    cohort,
                    banner,
                },
            )?;
            let announced = announce(inst, &notice)?;
            let out = serde_json::json!({"notice": notice, "announced": announced});
            output::emit(json, &out, || {
                println!(
                    "Notice {} recorded ({} – {}).",
                    notice.id, notice.starts, notice.ends
                );
                print_announced(&announced);
            });
            failed(&notice.id, &announced)
        }
        NoticeCmd::Announce { id } => {
            let notice = notices::read(inst.store(), &id)?;
            let announced = announce(inst, &notice)?;
            output::emit(json, &announced, || print_announced(&announced));
            failed(&id, &announced)
        }
        NoticeCmd::List { all } => {
            let now = t8k_core::timefmt::now();
            let shown: Vec<_> = notices::list(inst.store())?
                .into_iter()
                .filter(|n| all || n.phase(now) != Phase::Over)
                .map(|n| {
                    let phase = n.phase(now);
                    serde_json::json!({"phase": phase, "notice": n})
                })
                .collect();
            output::emit(json, &shown, || {
                if shown.is_empty() {
                    println!("No maintenance notices.");
                }
                let rows = shown
                    .iter()
                    .map(|s| {
                        let n = &s["notice"];
                        let who = match n["audience"]["kind"].as_str() {
                            Some("all") => "all".to_owned(),
                            _ => n["audience"]["tenants"]
                                .as_array()
                                .map(|a| format!("{} tenant(s)", a.len()))
                                .unwrap_or_default(),
                        };
                        let text = |k: &str| n[k].as_str().unwrap_or_default().to_owned();
                        vec![
                            text("id"),
                            s["phase"].as_str().unwrap_or_default().to_owned(),
                            text("starts"),
                            text("ends"),
                            who,
                            text("message"),
                        ]
                    })
                    .collect();
                println!(
                    "{}",
                    output::table(&["id", "phase", "starts", "ends", "for", "message"], rows)
                );
            });
            Ok(())
        }
        NoticeCmd::Delete { id } => {
            let notice = notices::delete(inst.store(), &id)?;
            // Sites that show its banner build again without it.
            let mut builds = 0;
            if notice.banner {
                for tid in tenants_of(inst, &notice)? {
                    t8k_core::queue::request_build(
                        inst.store(),
                        &tid,
                        "maintenance banner withdrawn",
                    )?;
                    builds += 1;
                }
            }
            let out = serde_json::json!({"deleted": id, "builds": builds});
            output::emit(json, &out, || println!("Notice {id} withdrawn."));
            Ok(())
        }
    }
}

fn print_announced(a: &Announced) {
    let mailed: usize = a.mailed.iter().map(|(_, n)| n).sum();
    println!("Mailed {mailed} admin(s) of {} tenant(s).", a.mailed.len());
    if a.already > 0 {
        println!("{} tenant(s) were mailed before.", a.already);
    }
    if !a.no_address.is_empty() {
        println!("No admin address: {}.", a.no_address.join(", "));
    }
    if a.builds > 0 {
        println!(
            "{} site(s) asked to build with the banner (`t8k build --changed`).",
            a.builds
        );
    }
}

fn failed(id: &str, a: &Announced) -> Result<()> {
    if a.failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "mail to the admins of {} failed (see the log); `t8k notice announce {id}` sends what is missing",
        a.failed.join(", ")
    )
}
