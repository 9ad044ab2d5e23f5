//! Automatic TLS against a real ACME CA: Pebble (with pebble-challtestsrv as its DNS) issues
//! certificates over HTTP-01, answered by `t8k serve` from the data root, and over DNS-01 for
//! the subdomains' wildcard through the operator's hook; `t8k serve --tls-port` serves them by
//! SNI, checked with curl against Pebble's issuing root. With `auto_ssl`, a custom domain is
//! served only once it has its certificate.

mod common;

use std::path::Path;

use common::{Pebble, Root, get};

/// `curl https://HOST:PORT/` to 127.0.0.1, trusting `root_pem` only: (exit code, body).
fn https(root_pem: &Path, host: &str, port: u16) -> (i32, String) {
    let (code, _, body) = common::https_get(root_pem, host, port, "/");
    (code, body)
}

fn outcome<'a>(outcomes: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    outcomes
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no outcome for {name}: {outcomes}"))
}

fn domain_state(root: &Root, host: &str) -> serde_json::Value {
    let entry = root.entry("acme").unwrap();
    entry["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["host"] == host)
        .cloned()
        .unwrap_or_else(|| panic!("{host} not in {entry}"))
}

#[test]
fn custom_domains_and_the_wildcard_get_certificates_and_are_served_over_https() {
    let mut root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&["--tls-port", "0"]);
    let tls = srv.tls_port.expect("serve announces its HTTPS port");
    let Some(pebble) = Pebble::start(srv.port) else {
        return;
    };
    root.env.push((
        "T8K_ACME_CA_CERT".into(),
        pebble.listener_ca.display().to_string(),
    ));

    // auto_ssl off: nothing to renew, and the command says how to turn it on.
    root.run(&["certs", "renew"])
        .fails(2, "t8k config acme --auto-ssl on");
    root.run(&[
        "config",
        "acme",
        "--auto-ssl",
        "on",
        "--directory",
        &pebble.directory,
        "--email",
        "ops@example.com",
    ])
    .ok();

    // Vouched for, but with auto_ssl not served before its certificate exists.
    let added = root
        .run(&[
            "--json",
            "domain",
            "add",
            "acme",
            "shop.acme.test",
            "--trust",
        ])
        .ok()
        .json();
    assert_eq!(added["domains"][0]["status"], "verified", "{added}");
    assert_eq!(get(srv.port, "shop.acme.test", "/").status, 404);
    // One the CA cannot reach: no address in its DNS (shop.acme.test points here).
    root.run(&["domain", "add", "acme", "lost.acme.test", "--trust"])
        .ok();
    pebble.resolves("shop.acme.test");

    let run = root
        .run(&["--json", "certs", "renew"])
        .fails(1, "could not be obtained");
    let outcomes = run.json();
    assert_eq!(outcome(&outcomes, "shop.acme.test")["action"], "obtained");
    let lost = outcome(&outcomes, "lost.acme.test");
    assert_eq!(lost["action"], "failed");
    assert!(
        lost["error"].as_str().unwrap().contains("lost.acme.test"),
        "{lost}"
    );

    // Obtained: active and served, over HTTP and over HTTPS with Pebble's chain.
    assert_eq!(domain_state(&root, "shop.acme.test")["status"], "active");
    assert_eq!(get(srv.port, "shop.acme.test", "/").status, 200);
    let issuing = pebble.issuing_root();
    let (code, body) = https(&issuing, "shop.acme.test", tls);
    assert_eq!(code, 0, "HTTPS to shop.acme.test: curl exit {code}");
    assert!(body.contains("Test Site"), "{body}");
    let key = root.path().join("certs/shop.acme.test/key.pem");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600,
        "a private key is readable by its owner only"
    );
    // The failed one stays unserved, with no certificate; nor does an unknown name get one.
    assert_eq!(domain_state(&root, "lost.acme.test")["status"], "verified");
    assert_ne!(https(&issuing, "lost.acme.test", tls).0, 0);
    assert_ne!(https(&issuing, "nobody.test", tls).0, 0);

    // The failure is listed and reported, and not retried before its backoff.
    let list = root.run(&["--json", "certs", "list"]).ok().json();
    let row = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("shop.acme.test")["due"], "valid");
    assert_eq!(row("shop.acme.test")["names"][0], "shop.acme.test");
    assert_eq!(row("lost.acme.test")["failures"], 1);
    let report = root.run(&["--json", "report"]).ok().json();
    let problems = common::report_row(&report, "acme")["problems"].to_string();
    assert!(
        problems.contains("certificate for lost.acme.test failed 1 time"),
        "{problems}"
    );
    let again = root.run(&["--json", "certs", "renew"]).ok().json();
    assert_eq!(outcome(&again, "shop.acme.test")["action"], "valid");
    assert_eq!(outcome(&again, "lost.acme.test")["action"], "waiting");

    // A forced renewal replaces the certificate; the server picks it up without a restart.
    let before = std::fs::read(root.path().join("certs/shop.acme.test/cert.pem")).unwrap();
    let forced = root
        .run(&["--json", "certs", "renew", "--force"])
        .fails(1, "could not be obtained")
        .json();
    assert_eq!(outcome(&forced, "shop.acme.test")["action"], "renewed");
    let after = std::fs::read(root.path().join("certs/shop.acme.test/cert.pem")).unwrap();
    assert_ne!(before, after);
    assert_eq!(https(&issuing, "shop.acme.test", tls).0, 0);

    // The subdomains' wildcard over DNS-01, through the operator's hook.
    root.run(&["certs", "renew", "--wildcard"])
        .fails(2, "--dns-hook");
    let hook = pebble.dns_hook();
    root.run(&["config", "acme", "--dns-hook", hook.to_str().unwrap()])
        .ok();
    let wild = root
        .run(&["--json", "certs", "renew", "--wildcard"])
        .ok()
        .json();
    assert_eq!(
        outcome(&wild, "_wildcard.example.com")["action"],
        "obtained"
    );
    let (code, body) = https(&issuing, "acme.example.com", tls);
    assert_eq!(code, 0, "HTTPS to a tenant subdomain: curl exit {code}");
    assert!(body.contains("Test Site"), "{body}");

    // A removed domain loses its certificate and its HTTPS at once.
    root.run(&["domain", "remove", "acme", "shop.acme.test"])
        .ok();
    assert!(!root.path().join("certs/shop.acme.test/cert.pem").exists());
    assert_ne!(https(&issuing, "shop.acme.test", tls).0, 0);
}
