//! The data root in a bucket (moto's S3 server): every foundation command, the concurrency
//! proofs, and the start-up probe that refuses a store without conditional writes.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{Moto, PASSWORD, Root, write_files};

/// moto's conditional writes lose updates under heavy load (bench/s3-cas-probe.py: 394 of 400
/// with 120 racing threads; AWS S3 and MinIO do not), so these tests take turns rather than
/// load one moto process each at once, and keep races to 20 clients, where it held every time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn foundation_commands_work_on_a_bucket_root() {
    let _turn = turn();
    let Some(s3) = Moto::start() else { return };
    let root = Root::s3(&s3, "platform");
    root.init_multi(100);
    root.run(&["init", "--multi", "--domain", "example.com"])
        .fails(1, "already exists");
    root.create("acme").ok();
    root.create("acme").fails(1, "already taken");
    root.create("bakery").ok();
    assert_eq!(root.listed_ids(), ["acme", "bakery"]);
    assert!(
        s3.object("t8k-test", "platform/config/acme/env.json")
            .is_some(),
        "env.json is in the bucket"
    );
    assert!(
        s3.object("t8k-test", "platform/db/acme/site.db").is_some(),
        "site.db is in the bucket"
    );

    let src = root.dir.path().join("src");
    write_files(
        &src,
        &[
            ("about.md", "+++\ntitle = \"About\"\n+++\nHi.\n"),
            (
                "news.md",
                "+++\ntitle = \"News\"\ndate = 2024-02-02\n+++\nNew.\n",
            ),
        ],
    );
    let r = root
        .run(&["--json", "content", "import", "acme", src.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(r["created"].as_array().unwrap().len(), 2);
    // A second machine (fresh cache) sees the imported pages: the database was written back.
    let mut other = Root::s3(&s3, "platform");
    other.env.retain(|(k, _)| k != "T8K_CACHE");
    other.env.push((
        "T8K_CACHE".into(),
        root.dir.path().join("cache2").display().to_string(),
    ));
    let usage = other
        .run(&["--json", "tenant", "usage", "acme"])
        .ok()
        .json();
    assert_eq!(usage["pages"], 3);
    let out = root.dir.path().join("export");
    other
        .run(&["content", "export", "acme", out.to_str().unwrap()])
        .ok();
    assert!(out.join("news.md").is_file());

    let pw = root.password_file();
    root.run(&[
        "user",
        "add",
        "acme",
        "jo",
        "--password-file",
        pw.to_str().unwrap(),
    ])
    .ok();
    other
        .run(&[
            "user",
            "verify",
            "acme",
            "jo",
            "--password-file",
            pw.to_str().unwrap(),
        ])
        .ok();
    root.run(&["tenant", "set-quota", "acme", "--pages", "50"])
        .ok();
    root.run(&["tenant", "deactivate", "acme"]).ok();
    assert_eq!(
        other.run(&["--json", "tenant", "show", "acme"]).ok().json()["entry"]["active"],
        false
    );
    root.run(&["tenant", "activate", "acme"]).ok();
    root.run(&["tenant", "delete", "bakery", "--yes"]).ok();
    assert_eq!(root.listed_ids(), ["acme"]);
    assert!(
        s3.object("t8k-test", "platform/db/bakery/site.db")
            .is_none()
    );
    root.run(&["tenant", "restore", "bakery"]).ok();
    other
        .run_stdin(
            &["user", "verify", "bakery", "admin", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .ok();
}

#[test]
fn concurrency_proofs_hold_on_the_bucket() {
    let _turn = turn();
    let Some(s3) = Moto::start() else { return };
    let root = Root::s3(&s3, "race");
    root.init_multi(10);
    let spawn = |id: &str| {
        let args = root.create_args(id);
        root.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let same: Vec<_> = (0..20).map(|_| spawn("same-id")).collect();
    let results: Vec<_> = same
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|o| o.status.success()).count(), 1);
    for o in results.iter().filter(|o| !o.status.success()) {
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("already taken"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // 9 slots left of 10; 20 racing distinct creates.
    let many: Vec<_> = (0..20).map(|i| spawn(&format!("t-{i:02}"))).collect();
    let won = many
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .filter(|o| o.status.success())
        .count();
    let registry = String::from_utf8(
        s3.object("t8k-test", "race/config/t8k/tenants.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(won, 9, "{registry}");
    let ids = root.listed_ids();
    assert_eq!(ids.len(), 10, "every winner is listed: {registry}");

    // The ten tenants race for one custom domain: its host key goes to exactly one.
    let adds: Vec<Vec<&str>> = ids
        .iter()
        .map(|id| vec!["domain", "add", id, "shop.bakery.test"])
        .collect();
    let outcomes = root.at_once(&adds);
    let holders: Vec<&String> = ids
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.status.success())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(holders.len(), 1, "{outcomes:#?}");
    let key = String::from_utf8(
        s3.object("t8k-test", "race/config/t8k/hosts/shop.bakery.test.json")
            .unwrap(),
    )
    .unwrap();
    assert!(key.contains(&format!("\"{}\"", holders[0])), "{key}");
}

/// A stand-in for Garage, which ignores If-None-Match / If-Match (verified; it takes 13 minutes
/// to compile, so it is not run here): this minimal HTTP server accepts every PUT. A mock is
/// the only way to exercise the refusal on this machine.
fn store_ignoring_conditions() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                loop {
                    let Ok(n) = conn.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    let status = if head.starts_with("GET") || head.starts_with("HEAD") {
                        "404 Not Found"
                    } else {
                        "200 OK"
                    };
                    let resp =
                        format!("HTTP/1.1 {status}\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n");
                    if conn.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_store_that_ignores_conditional_writes_is_refused_at_start() {
    let port = store_ignoring_conditions();
    let mut root = Root::new();
    root.spec = Some("s3://bucket/root".into());
    root.env = vec![
        (
            "AWS_ENDPOINT_URL".into(),
            format!("http://127.0.0.1:{port}"),
        ),
        ("AWS_ACCESS_KEY_ID".into(), "x".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "x".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
    ];
    let out = root.run(&["init", "--multi", "--domain", "example.com"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("ignores conditional writes"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Garage") || out.stderr.contains("MinIO"),
        "the message says which stores work: {}",
        out.stderr
    );
}
