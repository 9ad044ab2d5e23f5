//! The edge configurations `t8k edge` writes, run by the real servers: nginx (started on
//! loopback with the generated include, TLS from certs/ checked against the test's CA), Caddy
//! (on-demand TLS from Pebble, authorised by /api/edge/ask) and the CloudFront Function (under
//! node, with a stand-in for the `cloudfront` KeyValueStore module — CloudFront itself cannot
//! run here). Each serves tenants by subdomain and custom domain, 404 for unknown hosts, 503
//! for inactive tenants, and follows a republish and a deactivation once regenerated.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    Nginx, Pebble, Root, Stopped, TestCa, assert_moved, free_port, get, hashed_asset, https_get,
    https_headers, needs, on_path, published, republish_with_news, settles,
};

/// A folder without its slash is redirected; a missing page is the tenant's own 404 page.
fn folders_and_missing_pages(root: &Root, http: u16) {
    let folder = get(http, "acme.example.com", "/pages");
    assert_eq!(
        (folder.status, folder.header("location")),
        (301, Some("/pages/"))
    );
    let missing = get(http, "acme.example.com", "/no-such-page/");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        std::fs::read(root.path().join("build/acme/404.html")).unwrap()
    );
}

/// `t8k edge nginx` writing to `out` for nginx on `http` and `tls`, with the functions of the
/// `t8k serve` on `functions`, its access log beside `out`.
fn nginx_args(out: &Path, http: u16, tls: u16, functions: u16) -> Vec<String> {
    let log = out.with_file_name("nginx-access.log");
    [
        "edge",
        "nginx",
        "--out",
        out.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{http}"),
        "--tls-listen",
        &format!("127.0.0.1:{tls}"),
        "--functions",
        &format!("127.0.0.1:{functions}"),
        "--access-log",
        log.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// What nginx's log says it sent each tenant, read here line by line without t8k: the sum of
/// `$body_bytes_sent` per tenant, by the hosts the test gave them.
fn sent_per_tenant(log: &Path) -> std::collections::BTreeMap<&'static str, u64> {
    let tenant_of = |host: &str| match host {
        "acme.example.com" | "shop.acme.test" => Some("acme"),
        "bobs.example.com" => Some("bobs"),
        _ => None,
    };
    let mut sent = std::collections::BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(t) = tenant_of(v["host"].as_str().unwrap()) {
            *sent.entry(t).or_default() += v["bytes"].as_u64().unwrap();
        }
    }
    sent
}

#[test]
fn nginx_serves_every_tenant_by_host_with_tls_and_follows_changes_after_a_reload() {
    if !needs("nginx (apt install nginx)", on_path("nginx").is_some()) {
        return;
    }
    let (root, srv) = published();
    let ca = TestCa::new(root.dir.path());
    let (cert, key) = ca.issue(root.dir.path(), &["shop.acme.test"]);
    root.run(&[
        "certs",
        "import",
        "shop.acme.test",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ])
    .ok();
    let (http, tls) = (free_port(), free_port());
    let out = root.dir.path().join("edge");
    let args = nginx_args(&out, http, tls, srv.port);
    let edge = || {
        let mut run = vec!["--json"];
        run.extend(args.iter().map(String::as_str));
        root.run(&run).ok().json()
    };
    let wrote = edge();
    assert_eq!(
        (wrote["hosts"].as_u64(), wrote["certificates"].as_u64()),
        (Some(5), Some(1)),
        "{wrote}"
    );
    let nginx = Nginx::start(&root.dir.path().join("nginx"), &out.join("t8k.conf"));
    settles("nginx listens", || {
        std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
    });

    // By subdomain; unknown hosts get the not-found page.
    let r = get(http, "acme.example.com", "/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Test Site"));
    // A host with a certificate is served over HTTPS only: plain HTTP is sent there with the
    // same path and query, except the ACME challenge, which a renewal needs over HTTP.
    let r = get(http, "shop.acme.test", "/guide/?from=mail");
    let https = format!("https://shop.acme.test:{tls}/guide/?from=mail");
    assert_eq!(
        (r.status, r.header("location")),
        (308, Some(https.as_str()))
    );
    let challenge = get(http, "shop.acme.test", "/.well-known/acme-challenge/none");
    assert_eq!(
        challenge.status, 404,
        "answered by the functions, not redirected"
    );
    let unknown = get(http, "nobody.test", "/");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("Site not found"));
    folders_and_missing_pages(&root, http);
    // Cache headers as t8k serve sends them; the functions behind /api/ with the Host kept.
    let css = format!("/_t8k/assets/{}", hashed_asset(&root));
    let asset = get(http, "acme.example.com", &css);
    assert_eq!(
        asset.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(asset.text().contains("--measure"), "the theme's stylesheet");
    assert_eq!(
        https_get(&ca.pem, "shop.acme.test", tls, &css).2,
        asset.text(),
        "one shared copy for every host"
    );
    assert_eq!(get(http, "nobody.test", &css).status, 404);
    assert_eq!(
        get(http, "acme.example.com", "/").header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert_eq!(get(http, "acme.example.com", "/api/auth/me").status, 401);
    assert_eq!(get(http, "nobody.test", "/api/auth/me").status, 404);
    assert_moved(http, &["acme.example.com"]);

    // TLS with the certificate from certs/, verified against the CA; no certificate, no TLS.
    let (code, status, body) = https_get(&ca.pem, "shop.acme.test", tls, "/");
    assert_eq!((code, status), (0, 200), "{body}");
    assert!(body.contains("Test Site"));
    assert_ne!(https_get(&ca.pem, "nobody.test", tls, "/").0, 0);

    assert!(!https_headers(&ca.pem, "shop.acme.test", tls, "/").contains("strict-transport"));
    root.run(&["domain", "hsts", "acme", "shop.acme.test", "on"])
        .ok();

    // A republish, HSTS and a deactivation show once the configuration is regenerated and
    // reloaded.
    republish_with_news(&root);
    assert_eq!(get(http, "acme.example.com", "/news/").status, 404);
    edge();
    nginx.run_checked(&["-s", "reload"]);
    settles("nginx serves the new deploy", || {
        get(http, "acme.example.com", "/news/").status == 200
    });
    // Over HTTPS on every kind of answer (a page, an asset, a 404, the functions); an old
    // worker may answer once more during the reload.
    settles("HSTS on the custom domain", || {
        ["/", "/guide/", &css, "/no-such-page/", "/api/auth/me"]
            .iter()
            .all(|path| {
                https_headers(&ca.pem, "shop.acme.test", tls, path)
                    .contains("strict-transport-security: max-age=31536000")
            })
    });
    assert!(
        get(http, "acme.example.com", "/")
            .header("strict-transport-security")
            .is_none()
    );
    // From here `t8k edge nginx --watch` keeps nginx current on its own.
    let reload = format!(
        "nginx -s reload -c {} -p {}",
        nginx.conf.display(),
        nginx.prefix.display()
    );
    // A change made before the watch starts is applied by its first regeneration...
    root.run(&["tenant", "deactivate", "bobs"]).ok();
    let mut watching: Vec<&str> = args.iter().map(String::as_str).collect();
    watching.extend(["--watch", "--reload", &reload]);
    let _watch = Stopped(root.cmd(&watching).stdout(Stdio::null()).spawn().unwrap());
    settles("the watch applies what changed before it started", || {
        get(http, "bobs.example.com", "/").status == 503
    });
    // ...and one made while it runs, within a second or two.
    assert_eq!(get(http, "acme.example.com", "/").status, 200);
    root.run(&["tenant", "deactivate", "acme"]).ok();
    settles("nginx answers 503 for the inactive tenant", || {
        let r = get(http, "acme.example.com", "/");
        r.status == 503 && r.text().contains("Site unavailable")
    });

    // Bandwidth from nginx's own log: each tenant's bytes are what nginx says it sent them.
    let log = out.with_file_name("nginx-access.log");
    // nginx writes a request's line after its response: let the last ones land first.
    let size = || std::fs::metadata(&log).map_or(0, |m| m.len());
    settles("the access log settles", || {
        let before = size();
        std::thread::sleep(Duration::from_millis(300));
        size() == before
    });
    let sent = sent_per_tenant(&log);
    assert!(sent["acme"] > 10_000, "{sent:?}");
    let ingest = [
        "--json",
        "usage",
        "ingest",
        "--format",
        "nginx",
        log.to_str().unwrap(),
    ];
    let counted = root.run(&ingest).ok().json();
    assert_eq!(counted["malformed"].as_u64(), Some(0), "{counted}");
    for (tenant, bytes) in &sent {
        assert_eq!(
            counted["tenants"][tenant]["bytes"].as_u64(),
            Some(*bytes),
            "{counted}"
        );
    }
    let again = root.run(&ingest).ok().json();
    assert_eq!(
        (again["counted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
    let report = root.run(&["--json", "report"]).ok().json();
    let acme = common::report_row(&report, "acme");
    assert_eq!(
        acme["bandwidth_month"].as_u64(),
        Some(sent["acme"]),
        "{acme}"
    );
}

#[test]
fn nginx_proxies_to_a_bucket_bundle_store_path_style() {
    if !needs("nginx (apt install nginx)", on_path("nginx").is_some()) {
        return;
    }
    let Some(s3) = common::Moto::start() else {
        return;
    };
    s3.create_bucket("t8k-edge");
    s3.public_read("t8k-edge", "bundles/sites/");
    let root = Root::new().with_s3(&s3);
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build"]).ok();
    let to = "s3://t8k-edge/bundles";
    root.run(&["publish", "--to", to]).ok();
    let srv = root.serve(&[]);
    let http = free_port();
    let out = root.dir.path().join("edge");
    root.run(&[
        "edge",
        "nginx",
        "--out",
        out.to_str().unwrap(),
        "--from",
        to,
        "--origin",
        &format!("{}/t8k-edge/bundles", s3.endpoint()),
        "--listen",
        &format!("127.0.0.1:{http}"),
        "--tls-listen",
        &format!("127.0.0.1:{}", free_port()),
        "--functions",
        &format!("127.0.0.1:{}", srv.port),
    ])
    .ok();
    let _nginx = Nginx::start(&root.dir.path().join("nginx"), &out.join("t8k.conf"));
    settles("nginx listens", || {
        std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
    });
    let home = get(http, "acme.example.com", "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Test Site"));
    // The object's own Cache-Control, set at publish, passes through.
    assert_eq!(
        home.header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert_eq!(get(http, "acme.example.com", "/pages/").status, 200);
    // The shared stylesheet, from the bucket's one copy, with the metadata publish gave it.
    let css = get(
        http,
        "acme.example.com",
        &format!("/_t8k/assets/{}", hashed_asset(&root)),
    );
    assert!(css.text().contains("--measure"), "{}", css.text());
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    folders_and_missing_pages(&root, http);
    assert_eq!(get(http, "nobody.test", "/").status, 404);
}

#[test]
fn caddy_gets_certificates_on_demand_only_for_hosts_the_installation_serves() {
    if !needs("caddy (apt install caddy)", on_path("caddy").is_some()) {
        return;
    }
    let (root, srv) = published();
    let (http, https, admin) = (free_port(), free_port(), free_port());
    let Some(pebble) = Pebble::start_for(http, https) else {
        return;
    };
    pebble.resolves("shop.acme.test");
    root.run(&["domain", "hsts", "acme", "shop.acme.test", "on"])
        .ok();
    let out = root.dir.path().join("caddy");
    let edge = || {
        root.run(&[
            "edge",
            "caddy",
            "--out",
            out.to_str().unwrap(),
            "--http-port",
            &http.to_string(),
            "--https-port",
            &https.to_string(),
            "--admin",
            &format!("127.0.0.1:{admin}"),
            "--functions",
            &format!("127.0.0.1:{}", srv.port),
            "--acme-ca",
            &pebble.directory,
            "--acme-ca-root",
            pebble.listener_ca.to_str().unwrap(),
        ])
        .ok();
    };
    edge();
    let caddyfile = out.join("Caddyfile");
    let caddy = |args: &[&str]| {
        let mut c = Command::new("caddy");
        c.args(args)
            .args([
                "--config",
                caddyfile.to_str().unwrap(),
                "--adapter",
                "caddyfile",
            ])
            .env("XDG_DATA_HOME", root.dir.path().join("caddy-data"))
            .env("XDG_CONFIG_HOME", root.dir.path().join("caddy-config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    assert!(caddy(&["validate"]).status().unwrap().success());
    let _server = Stopped(caddy(&["run"]).spawn().expect("caddy starts"));
    settles("caddy listens", || {
        std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
    });

    assert_eq!(get(http, "acme.example.com", "/").status, 200);
    assert_eq!(get(http, "nobody.test", "/").status, 404);
    let css = get(
        http,
        "acme.example.com",
        &format!("/_t8k/assets/{}", hashed_asset(&root)),
    );
    assert!(css.text().contains("--measure"), "shared theme assets");
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_moved(http, &["acme.example.com", "shop.acme.test"]);
    // An active host: the ask endpoint allows it, Caddy obtains a certificate from Pebble.
    let issuing = pebble.issuing_root();
    let (code, status, body) = https_get(&issuing, "shop.acme.test", https, "/");
    assert_eq!((code, status), (0, 200), "{body}");
    assert!(body.contains("Test Site"));
    // It asked for HSTS: sent over HTTPS, never over HTTP, never for another host.
    let headers = https_headers(&issuing, "shop.acme.test", https, "/guide/");
    assert!(
        headers.contains("strict-transport-security: max-age=31536000"),
        "{headers}"
    );
    for host in ["shop.acme.test", "acme.example.com"] {
        let plain = get(http, host, "/guide/");
        assert!(
            plain.header("strict-transport-security").is_none(),
            "{host}"
        );
    }
    // An unknown host: refused by the ask endpoint, so no certificate and no handshake.
    assert_ne!(https_get(&issuing, "nobody.test", https, "/").0, 0);

    // Deactivated: regenerate, reload through the admin endpoint, 503.
    root.run(&["tenant", "deactivate", "acme"]).ok();
    edge();
    let reloaded = caddy(&["reload", "--address", &format!("127.0.0.1:{admin}")])
        .status()
        .unwrap();
    assert!(reloaded.success());
    settles("caddy answers 503 for the inactive tenant", || {
        get(http, "acme.example.com", "/").status == 503
    });
}

/// A child process killed when the test ends, passed or not.
#[test]
fn the_cloudfront_function_rewrites_to_the_live_prefix_from_the_key_value_store() {
    if !needs("node (apt install nodejs)", on_path("node").is_some()) {
        return;
    }
    let (root, _srv) = published();
    root.run(&["tenant", "deactivate", "bobs"]).ok();
    root.run(&["domain", "hsts", "acme", "shop.acme.test", "on"])
        .ok();
    let out = root.dir.path().join("cloudfront");
    root.run(&[
        "edge",
        "cloudfront",
        "--out",
        out.to_str().unwrap(),
        "--kvs-id",
        "arn:aws:cloudfront::123:key-value-store/t8k",
    ])
    .ok();
    let kvs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("kvs.json")).unwrap()).unwrap();
    let value = |host: &str| {
        kvs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == host)
            .map(|e| e["value"].as_str().unwrap().to_owned())
    };
    let acme = value("acme.example.com").unwrap();
    let shop = value("shop.acme.test").unwrap();
    assert_eq!(
        shop,
        acme.replacen("1r ", "1rh ", 1),
        "the same route, with HSTS"
    );
    assert!(value("bobs.example.com").unwrap().starts_with("0 bobs/"));
    let prefix = acme.strip_prefix("1r ").expect("acme has an alias");
    assert_eq!(
        value("shop.acme.test/old-guide/").as_deref(),
        Some("/guide/")
    );

    // The stand-in module reads the import file, as the KeyValueStore would hold it.
    let run = root.dir.path().join("node");
    let module = run.join("node_modules/cloudfront");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("package.json"),
        r#"{"name":"cloudfront","type":"module","main":"index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        module.join("index.js"),
        format!(
            "import fs from 'fs';\nconst data = Object.fromEntries(JSON.parse(fs.readFileSync({:?}, 'utf8')).data.map(e => [e.key, e.value]));\n\
             export default {{ kvs(id) {{ if (!id.includes('key-value-store')) throw new Error('bad id ' + id); return {{ async get(k) {{ if (k in data) return data[k]; throw new Error('Key not found'); }} }}; }} }};\n",
            out.join("kvs.json")
        ),
    )
    .unwrap();
    let function = std::fs::read_to_string(out.join("function.js")).unwrap();
    std::fs::write(
        run.join("function.mjs"),
        function + "\nexport { handler };\n",
    )
    .unwrap();
    std::fs::write(
        run.join("run.mjs"),
        "import { handler } from './function.mjs';\nconst cases = JSON.parse(process.argv[2]);\nconst out = [];\n\
         for (const [host, uri, qs, eventType] of cases) {\n  const request = { uri, headers: host ? { host: { value: host } } : {}, querystring: qs || {} };\n\
           if (eventType) { const r = await handler({ context: { eventType }, request, response: { statusCode: 200, headers: {} } }); const h = r.headers['strict-transport-security']; out.push({ hsts: h ? h.value : null }); continue; }\n\
           const r = await handler({ context: { eventType: 'viewer-request' }, request });\n  const fwd = r.headers && r.headers['x-forwarded-host'];\n\
           out.push(r.statusCode ? { status: r.statusCode, location: r.headers.location && r.headers.location.value, body: r.body && r.body.data } : { uri: r.uri, forwarded: fwd ? fwd.value : null });\n}\n\
         console.log(JSON.stringify(out));\n",
    )
    .unwrap();
    let cases = serde_json::json!([
        ["acme.example.com", "/"],
        ["Shop.Acme.Test", "/pages/"],
        ["acme.example.com", "/assets/site.css"],
        ["acme.example.com", "/pages", {"a": {"value": "1"}}],
        ["bobs.example.com", "/"],
        ["nobody.test", "/"],
        ["acme.example.com", "/api/auth/me"],
        ["shop.acme.test", "/old-guide/"],
        ["acme.example.com", "/guide/"],
        ["shop.acme.test", "/_t8k/assets/style.1a2b3c4d.css"],
        ["nobody.test", "/_t8k/img/ab.webp"],
        ["Shop.Acme.Test", "/", {}, "viewer-response"],
        ["acme.example.com", "/", {}, "viewer-response"],
        ["nobody.test", "/", {}, "viewer-response"],
    ]);
    let ran = Command::new("node")
        .arg("run.mjs")
        .arg(cases.to_string())
        .current_dir(&run)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(
        (got[7]["status"].as_u64(), got[7]["location"].as_str()),
        (Some(301), Some("/guide/")),
        "an alias answers with a 301"
    );
    assert_eq!(got[8]["uri"], format!("/sites/{prefix}/guide/index.html"));
    assert_eq!(got[0]["uri"], format!("/sites/{prefix}/index.html"));
    assert_eq!(got[1]["uri"], format!("/sites/{prefix}/pages/index.html"));
    assert_eq!(got[2]["uri"], format!("/sites/{prefix}/assets/site.css"));
    assert_eq!(
        (got[3]["status"].as_u64(), got[3]["location"].as_str()),
        (Some(301), Some("/pages/?a=1"))
    );
    assert_eq!(got[4]["status"], 503);
    assert_eq!(got[5]["status"], 404);
    assert!(got[5]["body"].as_str().unwrap().contains("Site not found"));
    assert_eq!(got[6]["uri"], "/api/auth/me");
    assert_eq!(
        got[6]["forwarded"], "acme.example.com",
        "the functions learn the site's host from X-Forwarded-Host"
    );
    assert_eq!(
        got[11]["hsts"], "max-age=31536000",
        "HSTS for the domain that asks"
    );
    assert_eq!(
        got[12]["hsts"],
        serde_json::Value::Null,
        "none for the others"
    );
    assert_eq!(got[13]["hsts"], serde_json::Value::Null);
    assert_eq!(
        got[9]["uri"], "/sites/_shared/assets/style.1a2b3c4d.css",
        "shared objects come from one prefix for every host"
    );
    assert_eq!(got[10]["status"], 404);
}
