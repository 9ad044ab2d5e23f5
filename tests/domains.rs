//! Custom domains proved in DNS, against a real DNS server (dnsmasq on loopback): a domain is
//! `pending` until its TXT record holds the tenant's token, `verified` until it also points at
//! the installation, then `active` — the only state `t8k serve` routes. A server that does not
//! answer changes nothing.

mod common;

use common::{Dnsmasq, Root, get};

#[test]
fn a_domain_goes_live_only_once_dns_proves_ownership_and_routing() {
    let Some(mut dns) = Dnsmasq::start(&[]) else {
        return;
    };
    let mut root = Root::new();
    root.env.push(("T8K_DNS_SERVERS".into(), dns.servers()));
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);

    // Added: pending, with the records to create; not routed.
    let added = root
        .run(&["--json", "domain", "add", "acme", "Shop.Acme.test"])
        .ok()
        .json();
    let d = &added["domains"][0];
    assert_eq!(
        (d["host"].as_str(), d["status"].as_str()),
        (Some("shop.acme.test"), Some("pending"))
    );
    let (txt_name, token) = (
        d["records"]["txt_name"].as_str().unwrap().to_owned(),
        d["records"]["txt_value"].as_str().unwrap().to_owned(),
    );
    assert_eq!(txt_name, "_t8k-verify.shop.acme.test");
    assert_eq!(d["records"]["cname_target"], "example.com");
    assert_eq!(get(srv.port, "shop.acme.test", "/").status, 404);

    // No records yet: still pending, and the command (and the report) says what is missing.
    root.run(&["domain", "verify", "acme", "shop.acme.test"])
        .fails(1, &token);
    let report = root.run(&["--json", "report"]).ok().json();
    let problems = common::report_row(&report, "acme")["problems"].to_string();
    assert!(
        problems.contains("domain shop.acme.test is pending") && problems.contains(&token),
        "{problems}"
    );

    // Another tenant's token, or the right one on the wrong name, proves nothing.
    root.create("rival").ok();
    let rival = root
        .run(&["--json", "domain", "add", "rival", "rival.test"])
        .ok()
        .json();
    let rival_token = rival["domains"][0]["records"]["txt_value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rival_token, token, "tokens are per tenant and host");
    dns.replace(&[format!("--txt-record={txt_name},{rival_token}")]);
    root.run(&["domain", "verify", "acme", "shop.acme.test"])
        .fails(1, "Pending");

    // Ownership proved, routing not yet: verified, still not served.
    dns.replace(&[format!("--txt-record={txt_name},{token}")]);
    root.run(&["domain", "verify", "acme", "shop.acme.test"])
        .fails(1, "Verified");
    assert_eq!(get(srv.port, "shop.acme.test", "/").status, 404);

    // A CNAME chain to the installation: active, and served at once.
    dns.replace(&[
        format!("--txt-record={txt_name},{token}"),
        "--host-record=example.com,127.0.0.1".into(),
        "--cname=edge.acme.test,example.com".into(),
        "--cname=shop.acme.test,edge.acme.test".into(),
    ]);
    let live = root
        .run(&["--json", "domain", "verify", "acme", "shop.acme.test"])
        .ok()
        .json();
    assert_eq!(live["custom_domains"][0], "shop.acme.test");
    assert!(common::eventually(5, || get(
        srv.port,
        "shop.acme.test",
        "/"
    )
    .status
        == 200));
    // The admin's dashboard lists it beside the site's own address.
    let cookie = common::login_cookie(srv.port, "acme.localhost", "admin", common::PASSWORD);
    let status = common::http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/status",
        &[("Cookie", &cookie)],
    );
    assert_eq!(
        status.json()["custom_domains"],
        serde_json::json!(["shop.acme.test"])
    );

    // Its records gone, it stays up through a grace period (a DNS hiccup must not take a
    // site down)...
    dns.replace(&[]);
    let checked = root.run(&["--json", "domain", "check"]).ok().json();
    assert_eq!(checked[0]["status"], "active", "{checked}");
    assert_eq!(checked[0]["detached"], false);
    let entry = root.entry("acme").unwrap();
    assert!(entry["domains"][0]["failing_since"].is_string(), "{entry}");
    let report = root.run(&["--json", "report"]).ok().json();
    let problems = common::report_row(&report, "acme")["problems"].to_string();
    assert!(problems.contains("has lost its DNS records"), "{problems}");
    assert_eq!(get(srv.port, "shop.acme.test", "/").status, 200);
    // ...and is detached once the grace period is over: the host is free, the admin told.
    age(&root, "acme", "failing_since", 4);
    let checked = root.run(&["--json", "domain", "check", "acme"]).ok().json();
    assert_eq!(checked[0]["detached"], true, "{checked}");
    assert_eq!(
        root.entry("acme").unwrap()["custom_domains"],
        serde_json::json!([])
    );
    assert!(!root.file("config/t8k/hosts/shop.acme.test.json").exists());
    assert!(common::eventually(5, || get(
        srv.port,
        "shop.acme.test",
        "/"
    )
    .status
        == 404));
    let mail: String = std::fs::read_dir(root.file("outbox"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert!(
        mail.contains("shop.acme.test") && mail.contains("owner@example.com"),
        "{mail}"
    );

    // A domain pending for over a week expires.
    root.run(&["domain", "add", "acme", "later.acme.test"]).ok();
    age(&root, "acme", "added", 8);
    let checked = root.run(&["--json", "domain", "check"]).ok().json();
    let later = checked
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["host"] == "later.acme.test");
    assert_eq!(later.unwrap()["detached"], true, "{checked}");

    // A server that does not answer is "try again later", never a change of state.
    root.run(&["domain", "add", "acme", "kept.acme.test", "--trust"])
        .ok();
    drop(dns);
    let out = root.run(&["domain", "verify", "acme", "kept.acme.test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("try again later"), "{}", out.stderr);
    let entry = root.entry("acme").unwrap();
    assert_eq!(entry["domains"][0]["status"], "active", "{entry}");
    assert_eq!(
        entry["custom_domains"],
        serde_json::json!(["kept.acme.test"])
    );

    // Bad input changes nothing.
    for bad in [
        "10.0.0.1",
        "acme.example.com",
        "*.acme.test",
        "no_underscores.test",
    ] {
        root.run(&["domain", "add", "acme", bad])
            .fails(1, bad.trim_start_matches("*."));
    }
}

/// Moves a time field of the tenant's first domain `days` into the past (the grace periods
/// are days long; the test cannot wait them out).
fn age(root: &Root, tenant: &str, field: &str, days: i64) {
    let path = root.file(&format!("config/t8k/tenants/{tenant}"));
    let mut entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let then = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    let stamp = then
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let domains = entry["domains"].as_array_mut().unwrap();
    let d = domains.last_mut().unwrap();
    d[field] = stamp.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&entry).unwrap()).unwrap();
}

#[test]
fn without_enable_custom_domains_a_domain_is_refused_and_nothing_is_written() {
    let root = Root::new();
    root.run(&[
        "init",
        "--multi",
        "--domain",
        "example.com",
        "--no-custom-domains",
    ])
    .ok();
    root.create("acme").ok();
    let before = root.entry("acme").unwrap();
    root.run(&["domain", "add", "acme", "shop.acme.test"])
        .fails(1, "enable_custom_domains is false");
    root.run(&["domain", "add", "acme", "shop.acme.test", "--trust"])
        .fails(1, "enable_custom_domains is false");
    assert_eq!(root.entry("acme").unwrap(), before);
    assert!(!root.file("config/t8k/hosts/shop.acme.test.json").exists());
}
