//! The analytics beacon over real HTTP: accepted events are stored (batched by `t8k serve`,
//! written at the latest at a graceful stop) with a cookieless visitor id and without the
//! client's address or user agent; events claiming another tenant's page, bots, malformed and
//! oversize beacons are refused or dropped and store nothing; the per-tenant bucket answers 429.

mod common;

use common::{Root, Server, http_with_body};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn platform(env: &[(&str, &str)]) -> (Root, Server) {
    let mut root = Root::new();
    for (k, v) in env {
        root.env.push((k.to_string(), v.to_string()));
    }
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let srv = root.serve(&[]);
    (root, srv)
}

fn send(srv: &Server, host: &str, ua: &str, body: &str) -> u16 {
    http_with_body(
        srv.port,
        "POST",
        host,
        "/api/beacon",
        &[
            ("Content-Type", "text/plain;charset=UTF-8"),
            ("User-Agent", ua),
        ],
        body.as_bytes(),
    )
    .status
}

fn event(verb: &str, url: &str) -> String {
    serde_json::json!({"event": verb, "url": url, "referrer": "https://search.example/?q=private"})
        .to_string()
}

/// Stops the server as an operator would (SIGTERM), so it writes what it buffered.
fn stop(mut srv: Server) {
    unsafe { libc::kill(srv.child.id() as i32, libc::SIGTERM) };
    assert!(srv.child.wait().unwrap().success());
}

#[test]
fn accepted_events_are_stored_without_address_or_user_agent_and_others_are_not() {
    let (root, srv) = platform(&[]);
    let page = "https://acme.example.com/hello/?utm=x#top";
    assert_eq!(
        send(&srv, "acme.localhost", BROWSER, &event("PAGEVIEWED", page)),
        202
    );
    assert_eq!(
        send(
            &srv,
            "acme.localhost",
            BROWSER,
            &event("READ", "http://acme.localhost:8080/hello/")
        ),
        202,
        "the preview host is the same site"
    );

    // Refused, nothing stored: another tenant's page, unknown verb, bad and oversize bodies.
    for (body, status) in [
        (event("PAGEVIEWED", "https://other.example.com/"), 400),
        (event("PAGEVIEWED", "https://evil.test/"), 400),
        (event("HACKED", page), 400),
        (event("PAGEVIEWED", "javascript:alert(1)"), 400),
        (
            r#"{"event": "PAGEVIEWED", "url": "https://acme.example.com/", "extra": 1}"#.into(),
            400,
        ),
        ("not json".into(), 400),
        (
            format!(
                r#"{{"event": "CLICKED", "url": "{page}", "target": "{}"}}"#,
                "x".repeat(5000)
            ),
            413,
        ),
    ] {
        assert_eq!(
            send(&srv, "acme.localhost", BROWSER, &body),
            status,
            "{body:.80}"
        );
    }
    assert_eq!(
        send(
            &srv,
            "nobody.localhost",
            BROWSER,
            &event("PAGEVIEWED", page)
        ),
        404
    );
    // Bots get 202 and are dropped.
    assert_eq!(
        send(
            &srv,
            "acme.localhost",
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            &event("PAGEVIEWED", page)
        ),
        202
    );
    assert_eq!(
        send(&srv, "acme.localhost", "", &event("PAGEVIEWED", page)),
        202
    );
    stop(srv);

    let lines = root.event_lines("acme");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["event"], "PAGEVIEWED");
    assert_eq!(first["path"], "/hello/", "no query string, no fragment");
    assert_eq!(
        first["referrer"], "search.example/",
        "the referrer's query is dropped"
    );
    let visitor = first["visitor"].as_str().unwrap();
    assert_eq!(visitor.len(), 16);
    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        second["visitor"], visitor,
        "same browser, same day, same id"
    );
    for line in &lines {
        assert!(
            !line.contains("127.0.0.1") && !line.contains("Firefox"),
            "{line}"
        );
    }
    assert!(root.event_lines("other").is_empty());
    let salts = std::fs::read_to_string(root.file("config/t8k/analytics-salts.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&salts).unwrap()["salts"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn each_tenant_has_a_bucket_that_answers_429_when_empty() {
    let (root, srv) = platform(&[("T8K_BEACON_PER_SECOND", "5")]);
    let body = event("PAGEVIEWED", "https://acme.example.com/");
    let statuses: Vec<u16> = (0..30)
        .map(|_| send(&srv, "acme.localhost", BROWSER, &body))
        .collect();
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        (10..30).contains(&accepted),
        "a burst of 10, then ~5 a second: {accepted}"
    );
    // Another tenant's bucket is its own.
    let other = event("PAGEVIEWED", "https://other.example.com/");
    assert_eq!(send(&srv, "other.localhost", BROWSER, &other), 202);
    stop(srv);
    assert_eq!(
        root.event_lines("acme").len(),
        accepted,
        "every 202 was stored, no 429 was"
    );
}

/// The analytics database's figures: (events counted, visitors of the day, entry pageviews).
fn figures(root: &Root) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(root.file("db/acme/analytics.db")).unwrap();
    let q = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .unwrap()
            .unwrap_or(0)
    };
    (
        q("SELECT sum(count) FROM hourly"),
        q("SELECT count(*) FROM visitors"),
        q("SELECT sum(count) FROM entries"),
    )
}

#[test]
fn rollup_counts_every_event_once_even_when_rerun_or_interrupted() {
    let (root, srv) = platform(&[]);
    let page = |p: &str| format!("https://acme.example.com/{p}");
    let mut sent = 0;
    for (ua, verb, p) in [
        (BROWSER, "PAGEVIEWED", "a/"),
        (BROWSER, "GLOSSED", "a/"),
        (BROWSER, "PAGEVIEWED", "b/"),
        (
            "Mozilla/5.0 (Macintosh) Safari/605.1.15",
            "PAGEVIEWED",
            "b/",
        ),
        ("Mozilla/5.0 (Macintosh) Safari/605.1.15", "READ", "b/"),
    ] {
        assert_eq!(
            send(&srv, "acme.localhost", ua, &event(verb, &page(p))),
            202
        );
        sent += 1;
    }
    stop(srv);
    let raw = root.event_files("acme");
    let saved: Vec<(std::path::PathBuf, Vec<u8>)> = raw
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();

    let first = root.run(&["--json", "analytics", "rollup"]).ok().json();
    let acme = first["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "acme")
        .unwrap()
        .clone();
    assert_eq!(acme["events"], sent);
    assert_eq!(
        figures(&root),
        (sent, 2, 2),
        "5 events, 2 visitors, 2 entry pages"
    );
    assert!(
        root.event_lines("acme").is_empty(),
        "merged raw events are removed"
    );

    // A rollup that died after committing but before deleting leaves its raw objects behind:
    // the next run recognises them as merged and only deletes them.
    for (p, bytes) in &saved {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let again = root
        .run(&["--json", "analytics", "rollup", "acme"])
        .ok()
        .json();
    assert_eq!(again["tenants"][0]["events"], 0);
    assert_eq!(again["tenants"][0]["cleaned"], saved.len());
    assert_eq!(figures(&root), (sent, 2, 2));
    assert!(root.event_lines("acme").is_empty());

    // Run again: nothing new, nothing counted twice.
    root.run(&["analytics", "rollup", "acme"]).ok();
    assert_eq!(figures(&root), (sent, 2, 2));

    root.run(&["analytics", "rollup", "nobody"])
        .fails(1, "nobody");
}
