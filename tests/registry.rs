//! The registry as one entry per tenant: custom domains claimed atomically through host keys,
//! the generated view in tenants.json, and the migration of a wave-1 registry — including one
//! killed halfway.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Root;
use serde_json::{Value, json};

#[test]
fn twenty_tenants_racing_for_one_domain_leave_it_with_exactly_one() {
    let root = Root::new();
    root.init_multi(100);
    let ids: Vec<String> = (0..20).map(|i| format!("shop-{i:02}")).collect();
    for id in &ids {
        root.create(id).ok();
    }
    let adds: Vec<Vec<&str>> = ids
        .iter()
        .map(|id| vec!["domain", "add", id, "WWW.Bakery.test"])
        .collect();
    let outcomes = root.at_once(&adds);
    let winners: Vec<&String> = ids
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.status.success())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:#?}");
    let winner = winners[0];
    for o in outcomes.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "www.bakery.test is already a host of tenant '{winner}'"
            )),
            "a loser said: {err}"
        );
    }
    // The host key names the winner; only the winner's entry lists the domain.
    let key: Value = serde_json::from_slice(
        &std::fs::read(root.file("config/t8k/hosts/www.bakery.test.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(key["tenant"], winner.as_str());
    for id in &ids {
        let entry = root.entry(id).unwrap();
        let held: Vec<&str> = entry["domains"].as_array().map_or(vec![], |d| {
            d.iter().map(|d| d["host"].as_str().unwrap()).collect()
        });
        let want: &[&str] = if id == winner {
            &["www.bakery.test"]
        } else {
            &[]
        };
        assert_eq!(held, want, "{id}");
        assert_eq!(
            entry["custom_domains"],
            json!([]),
            "pending domains do not route"
        );
    }
    // Given up, the domain is free for another tenant at once.
    root.run(&["domain", "remove", winner, "www.bakery.test"])
        .ok();
    let other = ids.iter().find(|id| *id != winner).unwrap();
    let added = root
        .run(&[
            "--json",
            "domain",
            "add",
            other,
            "www.bakery.test",
            "--trust",
        ])
        .ok()
        .json();
    assert_eq!(added["custom_domains"], json!(["www.bakery.test"]));
    assert_eq!(added["domains"][0]["status"], "active");
    for bad in ["127.0.0.1", "x.example.com", "bad_name.test"] {
        root.run(&["domain", "add", other, bad]).fails(1, bad);
    }
}

#[test]
fn the_view_in_tenants_json_follows_changes_and_a_compact_rebuilds_it() {
    let root = Root::new();
    root.init_multi(10);
    for id in ["zeta", "acme"] {
        root.create(id).ok();
    }
    let view = |root: &Root| -> Vec<String> {
        root.registry()["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                format!(
                    "{}:{}",
                    t["id"].as_str().unwrap(),
                    t["status"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(view(&root), ["acme:active", "zeta:active"]);
    root.run(&["tenant", "deactivate", "zeta"]).ok();
    assert_eq!(view(&root), ["acme:active", "zeta:inactive"]);
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    assert_eq!(view(&root), ["zeta:inactive"]);
    let note = &root.registry()["tenants_view"];
    assert_eq!(note["complete"], true, "{note}");
    assert!(
        note["note"]
            .as_str()
            .unwrap()
            .contains("config/t8k/tenants/")
    );
    // A view spoilt by hand is regenerated from the entries.
    let mut reg = root.registry();
    reg["tenants"] = json!([]);
    std::fs::write(root.file("config/t8k/tenants.json"), reg.to_string()).unwrap();
    let done = root.run(&["--json", "registry", "compact"]).ok().json();
    assert_eq!(done, json!({"tenants": 1, "shown": 1, "complete": true}));
    assert_eq!(view(&root), ["zeta:inactive"]);
}

/// A wave-1 registry: every tenant in `tenants[]` (three real ones with files, `extra`
/// synthetic ones as entries only, a pending sign-up), unknown fields at both levels, none of
/// the per-tenant keys.
fn make_wave1(root: &Root, extra: usize) -> Value {
    root.init_multi(5000);
    for id in ["acme", "bravo", "gamma"] {
        root.create(id).ok();
    }
    let mut tenants: Vec<Value> = ["acme", "bravo", "gamma"]
        .iter()
        .map(|id| {
            let mut e = root.entry(id).unwrap();
            e.as_object_mut().unwrap().remove("slot");
            e["plan"] = json!("gold"); // a field t8k does not know
            e
        })
        .collect();
    for i in 0..extra {
        tenants.push(json!({"id": format!("old-{i:04}"), "domain": format!("old-{i:04}.example.com"),
            "custom_domains": [], "created": "2025-01-01T00:00:00Z", "active": true, "status": "active"}));
    }
    tenants.push(
        json!({"id": "waiting", "domain": "waiting.example.com", "custom_domains": [],
        "created": "2026-11-29T00:00:00Z", "active": false, "status": "pending",
        "claim": {"holder": "h", "process": "", "expires": 4102444800i64}}),
    );
    tenants[1]["custom_domains"] = json!(["www.bravo.test"]);
    let mut reg = root.registry();
    let obj = reg.as_object_mut().unwrap();
    obj.remove("registry_layout");
    obj.remove("tenants_view");
    obj.insert("operator_note".into(), json!("kept across the migration"));
    obj.insert("tenants".into(), Value::Array(tenants));
    for dir in ["config/t8k/tenants", "config/t8k/slots", "config/t8k/hosts"] {
        std::fs::remove_dir_all(root.file(dir)).unwrap();
    }
    std::fs::write(
        root.file("config/t8k/tenants.json"),
        serde_json::to_vec_pretty(&reg).unwrap(),
    )
    .unwrap();
    reg
}

#[test]
fn a_wave1_registry_migrates_on_first_use_even_after_a_crash_halfway() {
    const EXTRA: usize = 400;
    let root = Root::new();
    let before = make_wave1(&root, EXTRA);

    // Kill the first command to touch the registry partway through its migration: retried
    // with shorter delays until a kill lands after some entries and before the end.
    let mut delay = 400u64;
    let mut crashed = false;
    for _ in 0..12 {
        let mut child = root
            .cmd(&["tenant", "list"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while root.entries().is_empty() && t0.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        let done = root.registry().get("registry_layout").is_some();
        let made = root.entries().len();
        if !done && made > 0 && made < EXTRA + 4 {
            crashed = true;
            break;
        }
        assert!(
            done || made > 0,
            "a command made no entries and did not finish"
        );
        // Finished, or killed after its last entry, before the kill: start again from a
        // wave-1 root.
        std::fs::write(
            root.file("config/t8k/tenants.json"),
            serde_json::to_vec_pretty(&before).unwrap(),
        )
        .unwrap();
        for dir in ["config/t8k/tenants", "config/t8k/slots", "config/t8k/hosts"] {
            std::fs::remove_dir_all(root.file(dir)).unwrap();
        }
        delay /= 2;
    }
    assert!(crashed, "no kill landed inside the migration");
    let partial = root.entries().len();
    assert!(
        partial > 0 && partial < EXTRA + 4,
        "{partial} entries after the crash"
    );

    // The next command completes it: every tenant, its fields and the settings survive.
    let listed = root.listed_ids();
    assert_eq!(listed.len(), EXTRA + 3, "every complete tenant is listed");
    let reg = root.registry();
    assert_eq!(reg["registry_layout"], 2);
    assert_eq!(reg["operator_note"], "kept across the migration");
    assert_eq!(reg["max_tenants"], before["max_tenants"]);
    assert_eq!(root.entry("bravo").unwrap()["plan"], "gold");
    assert_eq!(root.entry("waiting").unwrap()["status"], "pending");
    assert_eq!(root.entries().len(), EXTRA + 4);
    // One place each, and the custom domain's host key.
    let mut places: Vec<u64> = root
        .entries()
        .iter()
        .map(|e| e["slot"].as_u64().unwrap())
        .collect();
    places.sort();
    places.dedup();
    assert_eq!(places.len(), EXTRA + 4);
    let bravo: Value = serde_json::from_slice(
        &std::fs::read(root.file("config/t8k/hosts/www.bravo.test.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(bravo["tenant"], "bravo");

    // A rerun changes nothing; the migrated tenants work as before.
    let registry_bytes = std::fs::read(root.file("config/t8k/tenants.json")).unwrap();
    root.run(&["tenant", "list"]).ok();
    assert_eq!(
        std::fs::read(root.file("config/t8k/tenants.json")).unwrap(),
        registry_bytes
    );
    root.run(&["tenant", "show", "acme"]).ok();
    root.create("waiting").fails(1, "already taken");
    root.create("delta").ok();
    root.run(&["tenant", "delete", "gamma", "--yes"]).ok();
    assert!(root.entry("gamma").is_none());
}
