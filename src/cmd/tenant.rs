//! `t8k tenant ...`: the tenant lifecycle.

use anyhow::Result;
use t8k_core::bandwidth::limit::Policy;
use t8k_core::lifecycle::{
    BandwidthStanding, Installation, NewTenant, QuotaChange, TenantPage, Usage,
};
use t8k_core::quota::format_size;

use super::publish::with_target;
use crate::cli::TenantCmd;
use crate::{UsageError, output, secrets};

pub fn run(inst: &Installation, cmd: TenantCmd, json: bool) -> Result<()> {
    match cmd {
        TenantCmd::Create {
            id,
            name,
            email,
            theme,
            passwords,
        } => {
            let (admin_password, editor_password) = secrets::tenant_passwords(&passwords)?;
            let entry = inst.create_tenant(&id, |id| NewTenant {
                id,
                site_name: name,
                email,
                admin_password,
                editor_password,
                theme,
                organisation: None,
            })?;
            output::emit(json, &entry, || {
                println!(
                    "Created tenant `{}` at https://{}/ (config/{0}/env.json, db/{0}/site.db).",
                    entry.id, entry.domain
                )
            });
        }
        TenantCmd::List { limit, after } => list(inst, limit, after.as_deref(), json)?,
        TenantCmd::Pending => {
            let pending: Vec<_> = inst
                .pending_signups()?
                .into_iter()
                .map(|(e, record)| {
                    serde_json::json!({
                        "tenant": e.id,
                        "domain": e.domain,
                        "requested": e.created,
                        "email": record.as_ref().map(|r| r.email().to_owned()),
                        "expires": e.claim.map(|c| t8k_core::timefmt::unix_rfc3339(c.expires)),
                    })
                })
                .collect();
            output::emit(json, &pending, || {
                if pending.is_empty() {
                    println!("No sign-ups are waiting for email verification.");
                    return;
                }
                let cell = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_owned();
                let rows = pending
                    .iter()
                    .map(|p| {
                        ["tenant", "email", "requested", "expires"]
                            .iter()
                            .map(|k| cell(&p[k]))
                            .collect()
                    })
                    .collect();
                println!(
                    "{}",
                    output::table(&["tenant", "email", "requested", "expires"], rows)
                );
            });
        }
        TenantCmd::Show { id } => {
            let d = inst.show(&id)?;
            output::emit(json, &d, || {
                let yes_no = |b: bool| if b { "enabled" } else { "disabled" }.to_owned();
                let rows = vec![
                    vec!["tenant".into(), d.entry.id.clone()],
                    vec!["status".into(), d.entry.status.as_str().into()],
                    vec!["site".into(), format!("{} — {}", d.site_name, d.site_url)],
                    vec!["created".into(), d.entry.created.clone()],
                    vec!["home slug".into(), d.home_slug.clone()],
                    vec!["theme".into(), d.theme.clone()],
                    vec!["admin email".into(), d.admin_email.clone()],
                    vec!["admin account".into(), yes_no(d.admin_enabled)],
                    vec!["editor account".into(), yes_no(d.editor_enabled)],
                    vec!["content version".into(), d.content_version.to_string()],
                ];
                println!("{}", output::table(&["field", "value"], rows));
                print_usage(&d.usage);
            });
        }
        TenantCmd::Activate { id } => set_active(inst, &id, true, json)?,
        TenantCmd::Deactivate { id } => set_active(inst, &id, false, json)?,
        TenantCmd::SetQuota {
            id,
            storage,
            pages,
            users,
            bandwidth,
            bandwidth_policy,
            force,
        } => {
            let change = QuotaChange {
                storage,
                pages,
                users,
                bandwidth,
                bandwidth_policy,
            };
            let limits = inst.set_quota(&id, &change, force)?;
            // A new bandwidth limit reaches the edges now, not at the next check.
            let bw = t8k_functions::bandwidth::enforce(inst, &id, t8k_core::timefmt::now())?;
            let out = serde_json::json!({"limits": limits, "bandwidth": bw});
            output::emit(json, &out, || {
                println!(
                    "{id}: storage {}, {} pages, {} users, bandwidth {} a month ({}).",
                    limits.storage_quota,
                    limits.max_pages,
                    limits.max_users,
                    or_unlimited(&bw.limit.quota),
                    bw.limit.policy.as_str()
                );
                if let Some(o) = &bw.over {
                    println!(
                        "This month ({}) is over the limit: its pages are {}.",
                        o.month,
                        if o.policy == Policy::Suspend {
                            "refused (503)"
                        } else {
                            "throttled"
                        }
                    );
                }
            });
        }
        TenantCmd::Pin {
            id,
            theme,
            unpin: _,
        } => super::theme::pin(inst, &id, theme, json)?,
        TenantCmd::Channel { id, channel } => super::theme::channel(inst, &id, &channel, json)?,
        TenantCmd::Usage { id } => {
            let u = inst.usage(&id)?;
            output::emit(json, &u, || print_usage(&u));
        }
        TenantCmd::Delete { id, yes, to } => {
            if !yes {
                return Err(UsageError(format!(
                    "`tenant delete {id}` moves everything of it (config, databases, media, analytics, bundles, deploys) to the trash and stops serving it; add --yes to confirm"
                ))
                .into());
            }
            let trash = with_target(inst, &to, |bundles| {
                let separate = to.to.is_some().then_some(bundles);
                Ok(inst.delete_tenant_with(&id, separate)?)
            })?;
            output::emit(
                json,
                &serde_json::json!({"tenant": id, "trash": trash}),
                || println!("Moved tenant `{id}` to {trash}. Undo with `t8k tenant restore {id}`."),
            );
        }
        TenantCmd::Restore { id, from, to } => {
            let entry = with_target(inst, &to, |bundles| {
                let separate = to.to.is_some().then_some(bundles);
                Ok(inst.restore_tenant_with(&id, from.as_deref(), separate)?)
            })?;
            output::emit(json, &entry, || {
                println!(
                    "Restored tenant `{}` ({}).",
                    entry.id,
                    entry.status.as_str()
                )
            });
        }
        TenantCmd::Trash => {
            let items = inst.trash()?;
            output::emit(json, &items, || {
                let rows = items
                    .iter()
                    .map(|i| vec![i.id.clone(), i.deleted.clone(), i.key.clone()])
                    .collect();
                println!(
                    "{}",
                    output::table(&["tenant", "deleted", "key (for --from)"], rows)
                );
            });
        }
    }
    Ok(())
}

fn set_active(inst: &Installation, id: &str, active: bool, json: bool) -> Result<()> {
    let changed = inst.set_active(id, active)?;
    let state = if active { "active" } else { "inactive" };
    output::emit(
        json,
        &serde_json::json!({"tenant": id, "status": state, "changed": changed}),
        || {
            if changed {
                println!("Tenant `{id}` is now {state}.")
            } else {
                println!("Tenant `{id}` was already {state}.")
            }
        },
    );
    Ok(())
}

fn percent(used: u64, limit: u64) -> String {
    if limit == 0 {
        "—".into()
    } else {
        format!("{:.0}%", used as f64 * 100.0 / limit as f64)
    }
}

fn or_unlimited(quota: &str) -> &str {
    if quota.is_empty() { "unlimited" } else { quota }
}

/// One row of a usage table: served this month, the limit and policy, the share or the mark.
pub fn bandwidth_row(b: &BandwidthStanding) -> Vec<String> {
    let used = match b.used {
        Some(u) => format!("{} in {}", format_size(u), b.month),
        None => format!("not measured in {}", b.month),
    };
    let state = match (&b.over, b.percent) {
        (Some(o), _) => format!("over: {}", o.policy.as_str()),
        (None, Some(p)) => format!("{p}%"),
        (None, None) => String::new(),
    };
    vec![
        "bandwidth (BANDWIDTH_QUOTA)".into(),
        used,
        format!(
            "{} ({})",
            or_unlimited(&b.limit.quota),
            b.limit.policy.as_str()
        ),
        state,
    ]
}

fn print_usage(u: &Usage) {
    let l = &u.limits;
    let mut rows = vec![
        vec![
            "pages (MAX_PAGES)".into(),
            u.pages.to_string(),
            l.max_pages.to_string(),
            percent(u.pages, l.max_pages),
        ],
        vec![
            "users (MAX_USERS)".into(),
            u.users.to_string(),
            l.max_users.to_string(),
            percent(u.users, l.max_users),
        ],
        vec![
            "storage (STORAGE_QUOTA)".into(),
            format!(
                "{} (db {}, media {}; analytics {} not counted)",
                format_size(u.storage_bytes),
                format_size(u.storage.db_bytes),
                format_size(u.storage.media_bytes),
                format_size(u.storage.analytics_bytes)
            ),
            l.storage_quota.clone(),
            percent(u.storage_bytes, l.storage_bytes),
        ],
    ];
    if let Some(b) = &u.bandwidth {
        rows.push(bandwidth_row(b));
    }
    if let Some(v) = u.variants_bytes {
        rows.push(vec![
            "image variants (not counted)".into(),
            format_size(v),
            "-".into(),
            String::new(),
        ]);
    }
    println!(
        "{}",
        output::table(&["resource", "used", "limit", "use"], rows)
    );
}

/// `tenant list`: every tenant, or with `--limit` one page of them.
fn list(inst: &Installation, limit: Option<usize>, after: Option<&str>, json: bool) -> Result<()> {
    let page = inst.list_page(after, limit.unwrap_or(usize::MAX))?;
    if json {
        // Without --limit, the array scripts read before there were pages.
        match limit {
            Some(_) => output::json(&page),
            None => output::json(&page.tenants),
        }
        return Ok(());
    }
    let TenantPage { tenants, next } = page;
    if tenants.is_empty() && after.is_none() {
        println!(
            "No tenants yet. Create one with `t8k tenant create ID --name NAME --email EMAIL --admin-password-stdin`."
        );
        return Ok(());
    }
    let rows = tenants
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.domain.clone(),
                t.status.as_str().into(),
                t.created.clone(),
                t.custom_domains.join(", "),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &["tenant", "domain", "status", "created", "custom domains"],
            rows
        )
    );
    if let Some(next) = next {
        println!(
            "More follow: `t8k tenant list --limit {} --after {next}`.",
            tenants.len()
        );
    }
    Ok(())
}
