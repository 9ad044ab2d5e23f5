//! The Lambda builder (`t8k-build`) under the runtime API stand-in ([`runtime_api`]): an S3
//! event for a tenant's build request builds and publishes that tenant and clears the request;
//! an SQS batch reports the record whose build failed in `batchItemFailures` (so SQS retries
//! only it); a scheduled event serves whatever is queued.

mod runtime_api;

use std::path::Path;

use runtime_api::RuntimeApi;
use serde_json::{Value, json};
use t8k_core::TenantId;
use t8k_core::lifecycle::{Installation, NewTenant};

fn tenant(inst: &Installation, name: &str) -> TenantId {
    inst.create_tenant(name, |id| NewTenant {
        id,
        site_name: name.into(),
        email: "a@example.test".into(),
        admin_password: None,
        editor_password: None,
        theme: None,
        organisation: None,
    })
    .unwrap();
    let id = TenantId::trusted(name).unwrap();
    t8k_core::queue::request_build(inst.store(), &id, "test").unwrap();
    id
}

fn s3_event(key: &str) -> Value {
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "t8k"}, "object": {"key": key, "size": 100}}}]})
}

#[test]
fn builds_and_publishes_the_tenants_its_events_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let inst = runtime_api::platform(&root);
    let acme = tenant(&inst, "acme");
    let broken = tenant(&inst, "broken");
    let later = tenant(&inst, "later");
    // A site whose theme is gone cannot be built.
    let env = root.join("config/broken/env.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&env).unwrap()).unwrap();
    cfg["THEME"] = json!("no-such-theme");
    std::fs::write(&env, cfg.to_string()).unwrap();

    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let cache = dir.path().join("tmp");
    let mut api = RuntimeApi::start();
    api.exec(
        env!("CARGO_BIN_EXE_t8k-build"),
        &root,
        &[
            ("T8K_THEMES", themes.to_str().unwrap()),
            ("T8K_CACHE", cache.to_str().unwrap()),
        ],
    );

    let (kind, answer) = api.invoke(s3_event("queue/builds/acme"));
    assert_eq!(kind, "response", "{answer}");
    assert_eq!(answer["served"][0]["tenant"], "acme", "{answer}");
    assert_eq!(answer["served"][0]["publish"]["status"], "published");
    assert!(
        t8k_core::routes::read_live(inst.store(), &acme.clone().into())
            .unwrap()
            .is_some(),
        "acme is live"
    );
    assert!(
        t8k_core::queue::request_version(inst.store(), &acme)
            .unwrap()
            .is_none(),
        "its request is cleared"
    );

    // SQS: two records, one fails; only its message is handed back for a retry.
    let sqs = json!({"Records": [
        {"messageId": "m-ok", "eventSource": "aws:sqs", "body": s3_event("queue/builds/later").to_string()},
        {"messageId": "m-bad", "eventSource": "aws:sqs", "body": s3_event("queue/builds/broken").to_string()},
    ]});
    let (_, answer) = api.invoke(sqs);
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "m-bad"}]),
        "{answer}"
    );
    assert_eq!(answer["served"][0]["tenant"], "later");
    assert!(
        answer["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-theme"),
        "{answer}"
    );
    assert!(
        t8k_core::queue::request_version(inst.store(), &broken)
            .unwrap()
            .is_some(),
        "a failed build stays queued"
    );

    // A schedule serves the queue: acme again after an edit; the broken site still fails.
    t8k_core::queue::request_build(inst.store(), &acme, "edit").unwrap();
    let (_, answer) = api.invoke(json!({"source": "aws.events", "detail-type": "Scheduled Event"}));
    let served: Vec<&str> = answer["served"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(served, ["acme"], "{answer}");
    assert_eq!(answer["errors"][0]["tenant"], "broken");
    assert!(
        t8k_core::queue::request_version(inst.store(), &later)
            .unwrap()
            .is_none(),
        "later was served by the SQS batch"
    );
}
