//! `t8k edge cloudfront`: a viewer-request CloudFront Function (`function.js`) that rewrites
//! each request to its tenant's live prefix in the bundle bucket, and the KeyValueStore import
//! file it reads (`kvs.json`, host → `"1 tenant/deploy"`, `"0 …"` when the tenant is
//! inactive). The function holds no routes itself, so a publish or a deactivation is one
//! KeyValueStore update, never a function deploy.

use serde_json::json;

use super::{Output, Table};

const FUNCTION: &str = include_str!("cloudfront.js");

pub fn render(table: &Table, kvs_id: &str) -> Vec<Output> {
    let data: Vec<_> = table
        .routes
        .iter()
        .map(|(host, route)| {
            let active = if route.active { 1 } else { 0 };
            json!({"key": host, "value": format!("{active} {}", Table::prefix(route))})
        })
        .collect();
    let kvs =
        serde_json::to_string_pretty(&json!({ "data": data })).expect("JSON values serialise");
    let id = kvs_id.replace(['\'', '\\', '\n'], "");
    vec![
        Output::text("function.js", FUNCTION.replace("__KVS_ID__", &id)),
        Output::text("kvs.json", kvs + "\n"),
    ]
}
