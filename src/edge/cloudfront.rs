//! `t8k edge cloudfront`: a viewer-request CloudFront Function (`function.js`) that rewrites
//! each request to its tenant's live prefix in the bundle bucket, and the KeyValueStore import
//! file it reads (`kvs.json`, host → `"1 tenant/deploy"`, `"0 …"` when the tenant is
//! inactive, `"b … |{Retry-After}"` when its month's bandwidth limit is reached under
//! `suspend`, `"1r …"` when the site has aliases; each alias is a key of its own,
//! `host/old/path/` → `/new/path/`, answered with a 301). The function holds no routes
//! itself, so a publish or a deactivation is one KeyValueStore update, never a function
//! deploy.

use serde_json::json;
use t8k_core::bandwidth::limit::Policy;

use super::{Output, Table};

pub const FUNCTION: &str = include_str!("cloudfront.js");
/// A KeyValueStore key's limit, in bytes: a longer alias is served by its redirect page.
const MAX_KEY: usize = 512;

pub fn render(table: &Table, kvs_id: &str) -> Vec<Output> {
    let data: Vec<_> = rows(table)
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    let kvs =
        serde_json::to_string_pretty(&json!({ "data": data })).expect("JSON values serialise");
    let id = kvs_id.replace(['\'', '\\', '\n'], "");
    vec![
        Output::text("function.js", FUNCTION.replace("__KVS_ID__", &id)),
        Output::text("kvs.json", kvs + "\n"),
    ]
}

/// The KeyValueStore's rows (key, value), as `kvs.json` lists them and `--sync` puts them.
pub fn rows(table: &Table) -> Vec<(String, String)> {
    let mut data: Vec<_> = table
        .routes
        .iter()
        .map(|(host, route)| {
            // `b`: the month's bandwidth limit is reached under `suspend`, until the date that
            // follows (CloudFront Functions cannot slow a response: `throttle` serves as usual).
            let (active, until) = match (&route.over, route.active) {
                (_, false) => ("0", String::new()),
                (Some(o), true) if o.policy == Policy::Suspend => {
                    ("b", format!("|{}", o.retry_after()))
                }
                _ => ("1", String::new()),
            };
            let moved = table.redirects.iter().any(|(h, _)| h == host);
            let flag = format!(
                "{}{}",
                if moved { "r" } else { "" },
                if route.hsts { "h" } else { "" }
            );
            (
                host.clone(),
                format!("{active}{flag} {}{until}", Table::prefix(route)),
            )
        })
        .collect();
    for (host, redirects) in &table.redirects {
        for r in redirects.iter() {
            let key = format!("{host}{}", r.from);
            if key.len() <= MAX_KEY {
                data.push((key, r.to.clone()));
            }
        }
    }
    data
}
