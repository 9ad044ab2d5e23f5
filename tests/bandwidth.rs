//! Bandwidth as `t8k serve` counts it, reported by `/api/quota`: per response body, per month,
//! added up across servers, flushed every second and at a graceful stop; plus what an edge's
//! access log says (`t8k usage ingest`).

mod common;

use common::{PASSWORD, Server, http};

fn login(srv: &Server, host: &str, user: &str, password: &str) -> String {
    common::login_cookie(srv.port, host, user, password)
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
    let now = t8k_core::timefmt::now_rfc3339();
    std::fs::write(
        &log,
        format!(
            "{{\"time\":\"{now}\",\"host\":\"acme.localhost\",\"status\":200,\"bytes\":5000}}\n"
        ),
    )
    .unwrap();
    root.run(&[
        "usage",
        "ingest",
        "--format",
        "nginx",
        log.to_str().unwrap(),
    ])
    .ok();
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
