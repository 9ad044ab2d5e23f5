//! Bandwidth as `t8k serve` counts it, reported by `/api/quota`: per response body, per month,
//! added up across servers, flushed every second and at a graceful stop; plus what an edge's
//! access log says (`t8k usage ingest`).

mod common;

use common::{PASSWORD, Server, http};

fn login(srv: &Server, host: &str, user: &str, password: &str) -> String {
    common::login_cookie(srv.port, host, user, password)
}

/// One request in the JSON access log `t8k edge nginx` configures, served now.
fn nginx_line(host: &str, bytes: u64) -> String {
    let now = t8k_core::timefmt::now_rfc3339();
    format!("{{\"time\":\"{now}\",\"host\":\"{host}\",\"status\":200,\"bytes\":{bytes}}}\n")
}

/// `t8k usage ingest --format nginx LOG`.
fn ingest_nginx(root: &common::Root, log: &std::path::Path) {
    root.run(&[
        "usage",
        "ingest",
        "--format",
        "nginx",
        log.to_str().unwrap(),
    ])
    .ok();
}

#[test]
fn bandwidth_served_by_t8k_serve_is_counted_and_reported() {
    let (root, srv) = common::served_platform();
    let c = login(&srv, "acme.localhost", "admin", PASSWORD);
    let quota = || {
        http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/quota",
            &[("Cookie", &c)],
        )
        .json()["bandwidth"]
            .clone()
    };
    assert!(
        quota()["used"].is_null(),
        "nothing served yet: not measured"
    );

    let mut sent = 0;
    for path in ["/", "/", "/nope/"] {
        sent += common::get(srv.port, "acme.localhost", path).body.len();
    }
    let head = http(srv.port, "HEAD", "acme.localhost", "/", &[]);
    assert!(head.body.is_empty());
    common::get(srv.port, "other.localhost", "/");
    assert!(
        common::eventually(5, || quota()["used"] == sent as u64),
        "counted within a second or so: {} of {sent}",
        quota()
    );
    assert_eq!(quota()["requests"], 4, "three GETs and a HEAD");
    assert!(quota()["limit"].is_null());

    // A second server counting into the same data root adds to the same month, and a
    // graceful stop (SIGTERM) flushes what it counted last.
    let mut srv2 = root.serve(&[]);
    let more = common::get(srv2.port, "acme.localhost", "/").body.len();
    unsafe { libc::kill(srv2.child.id() as i32, libc::SIGTERM) };
    assert!(srv2.child.wait().unwrap().success());
    assert_eq!(quota()["used"], (sent + more) as u64, "flushed at shutdown");

    // What an edge served, from its access log (`t8k usage ingest`), adds to the month.
    let log = root.dir.path().join("access.log");
    std::fs::write(&log, nginx_line("acme.localhost", 5000)).unwrap();
    ingest_nginx(&root, &log);
    let total = (sent + more + 5000) as u64;
    assert!(
        common::eventually(5, || quota()["used"] == total),
        "edge bytes reported: {}",
        quota()
    );
    assert_eq!(quota()["requests"], 6);
}

/// S3 server access logs read from a bucket prefix: attributed by the key of the deploy that
/// was read, once each.
#[test]
fn s3_access_logs_in_a_bucket_are_counted_once() {
    let Some(s3) = common::Moto::start() else {
        return;
    };
    s3.create_bucket("logs");
    let root = common::Root::new().with_s3(&s3);
    root.init_multi(10);
    root.create("acme").ok();
    let line = |key: &str, bytes: u64| {
        format!(
            "o bundles [30/Nov/2026:10:00:00 +0000] 192.0.2.3 - R1 REST.GET.OBJECT {key} \"GET /{key} HTTP/1.1\" 200 - {bytes} {bytes} 1 1 \"-\" \"curl\" -\n"
        )
    };
    s3.put(
        "logs",
        "s3/2026-11-30-10-00-00-A",
        &(line("root/sites/acme/d1/index.html", 700)
            + &line("root/sites/_shared/assets/x.css", 50)),
    );
    s3.put(
        "logs",
        "s3/2026-11-30-11-00-00-B",
        &line("root/sites/acme/d1/a/index.html", 300),
    );
    let ingest = [
        "--json",
        "usage",
        "ingest",
        "--format",
        "s3",
        "s3://logs/s3/",
    ];
    let r = root.run(&ingest).ok().json();
    assert_eq!(
        (
            r["sources"].as_u64(),
            r["counted"].as_u64(),
            r["unattributed"].as_u64()
        ),
        (Some(2), Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(r["tenants"]["acme"]["bytes"].as_u64(), Some(1000), "{r}");
    let again = root.run(&ingest).ok().json();
    assert_eq!(
        (again["counted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    root.run(&["usage", "ingest", "--format", "s3", "s3://logs"])
        .fails(2, "name the logs' prefix");
    root.run(&["usage", "ingest", "--format", "nginx", "/no/such.log"])
        .fails(2, "no such file or folder");
}

/// BANDWIDTH_QUOTA with the `suspend` policy, end to end: edge traffic ingested from a log
/// crosses 80% and then 100%, each told to the admin by one mail through a real SMTP server;
/// at 100% `t8k serve` and the nginx configuration `t8k edge nginx` generates refuse that
/// tenant's pages with 503 and `Retry-After` (another tenant is untouched); raising the limit
/// brings the same live deploy back without a rebuild.
#[test]
fn a_bandwidth_limit_mails_at_80_and_100_percent_and_suspend_refuses_pages_until_raised() {
    let Some(smtp) = common::Smtp::start() else {
        return;
    };
    if !common::needs(
        "nginx (apt install nginx)",
        common::on_path("nginx").is_some(),
    ) {
        return;
    }
    let root = common::Root::new();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    root.run(&["build"]).ok();
    root.run(&["publish"]).ok();
    root.use_smtp(smtp.port);
    let srv = root.serve(&[]);
    let live = || {
        let routes = std::fs::read(root.path().join("routes.json")).unwrap();
        let routes: serde_json::Value = serde_json::from_slice(&routes).unwrap();
        routes["routes"]["acme.example.com"]["deploy"].clone()
    };
    let deploy = live();
    assert!(deploy.is_string());
    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--bandwidth",
        "100KB",
        "--bandwidth-policy",
        "suspend",
    ])
    .ok();

    // nginx with the generated configuration, and t8k serve: both serve both tenants.
    let (edge_port, tls) = (common::free_port(), common::free_port());
    let out = root.dir.path().join("edge");
    let out_s = out.to_str().unwrap().to_owned();
    let (listen, tls_listen) = (format!("127.0.0.1:{edge_port}"), format!("127.0.0.1:{tls}"));
    let functions = format!("127.0.0.1:{}", srv.port);
    let log_s = root.dir.path().join("nginx.log").display().to_string();
    let edge = || {
        root.run(&[
            "edge",
            "nginx",
            "--out",
            &out_s,
            "--listen",
            &listen,
            "--tls-listen",
            &tls_listen,
            "--functions",
            &functions,
            "--access-log",
            &log_s,
        ])
        .ok();
    };
    edge();
    let nginx = common::Nginx::start(&root.dir.path().join("nginx"), &out.join("t8k.conf"));
    assert!(common::eventually(10, || {
        std::net::TcpStream::connect(("127.0.0.1", edge_port)).is_ok()
    }));
    let status = |port: u16, host: &str| http(port, "HEAD", host, "/", &[]).status;
    assert_eq!(status(edge_port, "acme.example.com"), 200);
    assert_eq!(status(srv.port, "acme.localhost"), 200);

    // 85 KB of 100 KB: one mail, "80%"; pages still served.
    let log = root.dir.path().join("edge-access.log");
    let (line, ingest) = (nginx_line, || ingest_nginx(&root, &log));
    std::fs::write(
        &log,
        line("acme.example.com", 85_000) + &line("other.example.com", 1 << 40),
    )
    .unwrap();
    ingest();
    let subjects = || {
        let mut s: Vec<String> = smtp
            .messages()
            .iter()
            .map(|m| {
                assert!(m.contains("To: owner@example.com"), "{m}");
                m.lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap()
                    .to_owned()
            })
            .collect();
        s.sort();
        s
    };
    assert_eq!(subjects(), ["acme: 80% of this month's bandwidth used"]);
    assert_eq!(status(srv.port, "acme.localhost"), 200);

    // 105 KB: the "100%" mail, once, however often the limit is checked again.
    let mut more = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut more, line("acme.example.com", 20_000).as_bytes()).unwrap();
    ingest();
    root.run(&["usage", "check"]).ok();
    ingest();
    assert_eq!(
        subjects(),
        [
            "acme: 100% of this month's bandwidth used",
            "acme: 80% of this month's bandwidth used"
        ]
    );

    // Suspended: 503 "bandwidth limit reached" until the first of next month, at t8k serve
    // and at nginx once its configuration is regenerated; the other tenant is served.
    let now = t8k_core::timefmt::now();
    let first = time::Date::from_calendar_date(now.year(), now.month(), 1).unwrap();
    let next = first.replace_month(now.month().next()).unwrap();
    let next = if now.month() == time::Month::December {
        next.replace_year(now.year() + 1).unwrap()
    } else {
        next
    };
    let retry = t8k_core::bandwidth::limit::http_date(next.midnight().assume_utc());
    // t8k serve follows the registry; nginx once its configuration is made again.
    let both_answer = |code: u16| {
        assert!(common::eventually(10, || status(
            srv.port,
            "acme.localhost"
        ) == code));
        edge();
        nginx.run_checked(&["-s", "reload"]);
        assert!(common::eventually(10, || status(
            edge_port,
            "acme.example.com"
        ) == code));
    };
    both_answer(503);
    for (port, host) in [
        (srv.port, "acme.localhost"),
        (edge_port, "acme.example.com"),
    ] {
        // An old nginx worker may answer a request or two while a reload settles: the
        // answer checked is the first 503.
        let mut refused = None;
        let came = common::eventually(10, || {
            let r = common::get(port, host, "/about/");
            let is = r.status == 503;
            refused = Some(r).filter(|_| is);
            is
        });
        assert!(came, "{host}");
        let r = refused.unwrap();
        assert_eq!(r.header("retry-after"), Some(retry.as_str()), "{host}");
        assert!(r.text().contains("Bandwidth limit reached"), "{host}");
    }
    assert_eq!(status(srv.port, "other.localhost"), 200);
    assert_eq!(status(edge_port, "other.example.com"), 200);
    let usage = root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    assert_eq!(usage["bandwidth"]["used"], 105_000, "{usage}");
    assert_eq!(usage["bandwidth"]["over"]["policy"], "suspend", "{usage}");

    // Raised: served again, from the same deploy (nothing was rebuilt or published).
    root.run(&["tenant", "set-quota", "acme", "--bandwidth", "1GB"])
        .ok();
    both_answer(200);
    assert_eq!(live(), deploy);
    assert_eq!(smtp.messages().len(), 2, "raising the limit sends nothing");
}
