//! Attacks and faults a hostile user or an unlucky operator would try, each against the
//! mechanism that stops it: nothing of a deleted tenant survives into a new tenant of the same
//! name (and a restore brings all of it back); quotas and the login limit hold under 20-way
//! races; image decoding stays inside its memory budget; cross-site writes from sibling tenants
//! are refused; a request names exactly one host; user text cannot pose as the platform's
//! words in mail; menu links cannot smuggle `//host` through a backslash.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::Path;

use common::{
    PASSWORD, Root, Server, eventually, get, http_with_body, login_cookie, send_json, write_files,
};
use t8k_core::key::layout::{Owner, owner_of};

/// Every key of a local data root, with who owns it. Panics on a key family no code declares
/// in `layout::owner_of`: a feature that stores something new per tenant must classify it,
/// or delete would leave it behind for the next tenant of that name.
fn owners(root: &Path) -> Vec<(String, Owner)> {
    let mut out = vec![];
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap().to_str().unwrap();
        // Temp, lock and staging files are not keys (dot-led segments); `-shm`/`-wal` are
        // SQLite's, beside their database.
        let Ok(key) = t8k_core::Key::new(rel) else {
            continue;
        };
        let owner = owner_of(&key).unwrap_or_else(|| {
            panic!("{rel}: a key family that layout::owner_of does not classify")
        });
        out.push((rel.to_owned(), owner));
    }
    out
}

fn of_tenant(root: &Root, id: &str) -> Vec<String> {
    owners(&root.path())
        .into_iter()
        .filter(|(k, o)| *o == Owner::Tenant(id.into()) && !k.starts_with("trash/"))
        .map(|(k, _)| k)
        .collect()
}

fn report_row(root: &Root, id: &str) -> serde_json::Value {
    let r = root.run(&["--json", "report"]).ok().json();
    r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == id)
        .cloned()
        .unwrap()
}

fn routes(root: &Root) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(root.file("routes.json")).unwrap()).unwrap()
}

#[test]
fn a_recreated_tenant_inherits_nothing_and_restore_brings_everything_back() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let content = root.dir.path().join("content");
    write_files(
        &content,
        &[(
            "secret-recipe.md",
            "+++\ntitle = \"Secret recipe\"\n+++\nThe old owner's sourdough.\n",
        )],
    );
    root.run(&["content", "import", "acme", content.to_str().unwrap()])
        .ok();
    root.run(&["build"]).ok();
    root.run(&["publish"]).ok();
    let srv = root.serve(&[]);
    let page = get(srv.port, "acme.localhost", "/secret-recipe/");
    assert!(page.status == 200 && page.text().contains("sourdough"));
    // A visit, a content edit (queues a build), bandwidth counted by the server.
    let beacon = serde_json::json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/secret-recipe/"});
    let r = http_with_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/beacon",
        &[
            ("Content-Type", "text/plain"),
            ("User-Agent", "Mozilla/5.0 Firefox/133.0"),
        ],
        beacon.to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let c = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let edit = serde_json::json!({"slug": "secret-recipe", "title": "Secret recipe", "panes": [{"markdown": "Edited.", "options": {}}]});
    let r = send_json(
        srv.port,
        "PUT",
        "acme.localhost",
        "/api/pages/secret-recipe",
        &[("Cookie", &c)],
        &edit.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Written in the background (events batched each second, bandwidth flushed each
    // second): wait for the objects themselves, not their temp files.
    let has = |prefix: &str| {
        of_tenant(&root, "acme")
            .iter()
            .any(|k| k.starts_with(prefix))
    };
    assert!(eventually(10, || has("events/acme/") && has("stats/acme/bandwidth/")));
    let before = of_tenant(&root, "acme");
    for family in [
        "build/acme/",
        "build/acme.build.json",
        "build/acme.history.jsonl",
        "sites/acme/",
        "events/acme/",
        "stats/acme/",
        "queue/builds/acme",
        "db/acme/",
        "media/acme/",
    ] {
        if family == "media/acme/" {
            continue; // no uploads here; media is covered by the unit test of the families
        }
        assert!(
            before.iter().any(|k| k.starts_with(family)),
            "{family} in {before:?}"
        );
    }
    assert!(routes(&root)["routes"]["acme.example.com"].is_object());

    let deleted = root
        .run(&["--json", "tenant", "delete", "acme", "--yes"])
        .ok()
        .json();
    let trash = deleted["trash"].as_str().unwrap().to_owned();
    assert_eq!(of_tenant(&root, "acme"), Vec::<String>::new());
    assert!(routes(&root)["routes"].get("acme.example.com").is_none());

    // Another owner takes the name. The server that was running all along serves nothing
    // of the old site, and every figure of the new one starts at zero.
    root.run(&[
        "tenant",
        "create",
        "acme",
        "--name",
        "New Owner",
        "--email",
        "new@example.org",
        "--admin-password-file",
        root.password_file().to_str().unwrap(),
    ])
    .ok();
    // Figures first, before the new site has any traffic of its own.
    root.run(&["analytics", "rollup"]).ok();
    let row = report_row(&root, "acme");
    assert_eq!(row["pageviews_30d"], 0, "{row}");
    assert_eq!(row["failures_30d"], 0, "{row}");
    assert!(
        row["built"].is_null() && row["published"].is_null(),
        "{row}"
    );
    assert!(
        row["bandwidth_month"].is_null() || row["bandwidth_month"] == 0,
        "{row}"
    );
    assert_eq!(row["build_queued"], false, "{row}");
    let deploys = root.run(&["--json", "deploys", "acme"]).ok().json();
    assert_eq!(deploys.as_array().map_or(0, Vec::len), 0, "{deploys}");
    assert!(eventually(10, || get(srv.port, "acme.localhost", "/")
        .text()
        .contains("Site not built yet")));
    let old = get(srv.port, "acme.localhost", "/secret-recipe/");
    assert!(!old.text().contains("sourdough"), "{}", old.text());
    let me = common::http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/auth/me",
        &[("Cookie", &c)],
    );
    assert_eq!(me.status, 401, "the old owner's session: {}", me.text());
    root.run(&["build", "acme"]).ok();
    let home = get(srv.port, "acme.localhost", "/");
    assert!(home.status == 200 && home.text().contains("New Owner"));
    assert_eq!(
        get(srv.port, "acme.localhost", "/secret-recipe/").status,
        404
    );

    // The old owner's tenant comes back whole: pages, deploys, events, usage, queue.
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    root.run(&["tenant", "restore", "acme", "--from", &trash])
        .ok();
    let restored = of_tenant(&root, "acme");
    for k in &before {
        // SQLite may fold its WAL on close; everything else comes back key for key.
        if !k.ends_with("-wal") {
            assert!(restored.contains(k), "{k} not restored: {restored:?}");
        }
    }
    assert!(routes(&root)["routes"]["acme.example.com"].is_object());
    assert!(eventually(10, || get(
        srv.port,
        "acme.localhost",
        "/secret-recipe/"
    )
    .text()
    .contains("sourdough")));
    drop(srv);
}

/// A request sent byte for byte as given (two Host headers, absolute-form targets).
fn raw(port: u16, request: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

fn page_body(slug: &str) -> String {
    serde_json::json!({"slug": slug, "title": "Planted", "panes": [{"markdown": "x", "options": {}}]})
        .to_string()
}

#[test]
fn cross_site_writes_ambiguous_hosts_and_smuggled_text_are_refused() {
    let (root, srv) = common::served_platform();
    let port = srv.port;
    let c = login_cookie(port, "acme.localhost", "admin", PASSWORD);
    let cookie = ("Cookie", c.as_str());
    let pages = || root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"].clone();
    let users = || root.run(&["--json", "user", "list", "acme"]).ok().json();
    let (pages_before, users_before) = (pages(), users());

    // A page of a sibling tenant, another site, an opaque origin, fetch metadata from another
    // site, and no evidence at all: each refused, nothing written.
    for origin in [
        "http://other.localhost",
        "https://evil.test",
        "null",
        "http://acme.localhost.evil.test",
    ] {
        let r = send_json(
            port,
            "POST",
            "acme.localhost",
            "/api/pages",
            &[cookie, ("Origin", origin)],
            &page_body("planted"),
        );
        assert_eq!(r.status, 403, "{origin}: {}", r.text());
        let form = http_with_body(
            port,
            "POST",
            "acme.localhost",
            "/api/users",
            &[
                cookie,
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            b"username=mallory&role=admin&email=m%40evil.test&password=correct+horse+battery",
        );
        assert_eq!(form.status, 403, "{origin}: {}", form.text());
    }
    for extra in [
        [("Sec-Fetch-Site", "same-site"), ("Origin", "")],
        [("Sec-Fetch-Site", "cross-site"), ("Origin", "")],
        [("X-Nothing", "1"), ("Origin", "")],
    ] {
        let mut headers = vec![cookie];
        headers.extend_from_slice(&extra);
        let r = send_json(
            port,
            "POST",
            "acme.localhost",
            "/api/pages",
            &headers,
            &page_body("planted"),
        );
        assert_eq!(r.status, 403, "{extra:?}: {}", r.text());
    }
    // JSON endpoints take JSON only: a form or text/plain body (which a cross-site form can
    // send without asking) is refused even from the right origin.
    for ctype in ["application/x-www-form-urlencoded", "text/plain", ""] {
        let r = http_with_body(
            port,
            "POST",
            "acme.localhost",
            "/api/pages",
            &[cookie, ("Content-Type", ctype)],
            page_body("planted").as_bytes(),
        );
        assert_eq!(r.status, 415, "{ctype:?}: {}", r.text());
    }
    assert_eq!((pages(), users()), (pages_before.clone(), users_before));
    // The tenant's own page may write, by Origin or by fetch metadata.
    let own = send_json(
        port,
        "POST",
        "acme.localhost",
        "/api/pages",
        &[cookie],
        &page_body("mine"),
    );
    assert_eq!(own.status, 201, "{}", own.text());
    let fetched = send_json(
        port,
        "DELETE",
        "acme.localhost",
        "/api/pages/mine",
        &[cookie, ("Origin", ""), ("Sec-Fetch-Site", "same-origin")],
        "",
    );
    assert_eq!(fetched.status, 204, "{}", fetched.text());
    // Sign-up on the main domain from a tenant's page is a cross-site write too.
    let signup = |name: &str, org: &str, origin: &str| {
        let body = serde_json::json!({"subdomain": "newco", "name": name, "email": "n@example.org", "organisation": org, "password": "correct horse battery"});
        send_json(
            port,
            "POST",
            "example.com",
            "/api/register",
            &[("Origin", origin)],
            &body.to_string(),
        )
    };
    assert_eq!(signup("Nia", "", "http://acme.localhost").status, 403);

    // User text that would read as the platform's own words in a mail, or differently from
    // what it is, is refused where it is accepted, with the rule named.
    for (name, org) in [
        (
            "Nia\r\n\r\nYour account is locked. Log in at https://evil.test to unlock it.",
            "",
        ),
        ("Nia", "Acme\u{202E}kcab"),
        (&"N".repeat(101) as &str, ""),
    ] {
        let r = signup(name, org, "http://example.com");
        assert_eq!(r.status, 400, "{name:?} {org:?}: {}", r.text());
    }
    assert!(!root.listed_ids().contains(&"newco".to_owned()));
    let r = root.run(&[
        "tenant",
        "create",
        "newco",
        "--name",
        "Evil\u{2066}Co",
        "--email",
        "n@example.org",
        "--no-admin-password",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("site name"), "{}", r.stderr);

    // A menu link with a backslash, which browsers read as `//evil.test`.
    let menu =
        serde_json::json!({"title": "Main", "items": [{"label": "Home", "url": "/\\evil.test/"}]});
    let r = send_json(
        port,
        "PUT",
        "acme.localhost",
        "/api/menus/main",
        &[cookie],
        &menu.to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("backslash"), "{}", r.text());

    // One request, one host (RFC 9112 §3.2), the same on the static side and the API.
    for path in ["/", "/api/auth/me"] {
        let two = format!(
            "GET {path} HTTP/1.1\r\nHost: acme.localhost\r\nHost: other.localhost\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw(port, &two), 400, "two Host headers on {path}");
        let disagree = format!(
            "GET http://other.localhost{path} HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw(port, &disagree), 400, "absolute form vs Host on {path}");
        let none = format!("GET {path} HTTP/1.0\r\n\r\n");
        assert_eq!(raw(port, &none), 400, "no host on {path}");
    }
    let absolute =
        "GET http://acme.localhost/ HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(port, absolute), 200);

    // Login throttling counts the attempt before the hash: 20 concurrent wrong passwords for
    // one account get exactly five password checks; the rest wait. (Last: it locks this
    // address out for a minute.)
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..20)
            .map(|_| {
                s.spawn(|| {
                    let body =
                        serde_json::json!({"username": "admin", "password": "wrong password!"});
                    send_json(
                        port,
                        "POST",
                        "other.localhost",
                        "/api/auth/login",
                        &[],
                        &body.to_string(),
                    )
                    .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&s| s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        15,
        "{statuses:?}"
    );
    drop(srv);
}

fn png(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([shade, 90, 200]));
    let mut out = Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Noise PNG cannot compress: about 3 bytes a pixel, different for every `seed`.
fn noisy_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32 ^ seed.wrapping_mul(0x9e37_79b9);
    let img = image::RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut out = Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn upload(srv: &Server, host: &str, cookie: &str, bytes: &[u8]) -> common::HttpResponse {
    http_with_body(
        srv.port,
        "POST",
        host,
        "/api/media",
        &[("Content-Type", "image/png"), ("Cookie", cookie)],
        bytes,
    )
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn concurrent_uploads_hold_the_storage_quota_and_the_decode_memory_budget() {
    const BUDGET_MIB: u64 = 64;
    let mut root = Root::new();
    root.env
        .push(("T8K_DECODE_BUDGET".into(), format!("{BUDGET_MIB}MiB")));
    root.env.push(("T8K_DECODE_WAIT_MS".into(), "60000".into()));
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let srv = root.serve(&[]);
    let pid = srv.child.id();

    // Memory: eight concurrent 4000 × 4000 images (48 MB each decoded, a few KB sent). Without
    // a shared budget they decode side by side (~384 MB); with 64 MiB, one at a time.
    let c = login_cookie(srv.port, "other.localhost", "admin", PASSWORD);
    let images: Vec<Vec<u8>> = (0..8).map(|i| png(4000, 4000, i as u8 * 20)).collect();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap(); // reset the peak
    let base = status_kib(pid, "VmRSS:");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = images
            .iter()
            .map(|img| s.spawn(|| upload(&srv, "other.localhost", &c, img).status))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    let peak = status_kib(pid, "VmHWM:");
    let grown_mib = peak.saturating_sub(base) / 1024;
    println!(
        "decode burst: RSS {} MiB → peak {} MiB (+{grown_mib} MiB)",
        base / 1024,
        peak / 1024
    );
    assert!(
        grown_mib < BUDGET_MIB + 40,
        "RSS grew by {grown_mib} MiB with a {BUDGET_MIB} MiB decode budget"
    );

    // Pages and users: room for three more of each, 20 racing creates of each.
    let usage_of = |id: &str| root.run(&["--json", "tenant", "usage", id]).ok().json();
    let now = usage_of("other");
    let (pages, users) = (
        now["pages"].as_u64().unwrap(),
        now["users"].as_u64().unwrap(),
    );
    root.run(&[
        "tenant",
        "set-quota",
        "other",
        "--pages",
        &(pages + 3).to_string(),
        "--users",
        &(users + 3).to_string(),
    ])
    .ok();
    let race = |path: &str, body: &dyn Fn(usize) -> String| -> Vec<u16> {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..20)
                .map(|i| {
                    let b = body(i);
                    let c = c.clone();
                    s.spawn(move || {
                        send_json(
                            srv.port,
                            "POST",
                            "other.localhost",
                            path,
                            &[("Cookie", &c)],
                            &b,
                        )
                        .status
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    let created = race("/api/pages", &|i| page_body(&format!("race-{i}")));
    assert_eq!(
        created.iter().filter(|&&s| s == 201).count(),
        3,
        "{created:?}"
    );
    let added = race("/api/users", &|i| {
        serde_json::json!({"username": format!("racer{i}"), "role": "editor", "email": format!("r{i}@example.org"), "password": PASSWORD}).to_string()
    });
    assert_eq!(added.iter().filter(|&&s| s == 201).count(), 3, "{added:?}");
    let now = usage_of("other");
    assert_eq!(
        (now["pages"].as_u64(), now["users"].as_u64()),
        (Some(pages + 3), Some(users + 3))
    );

    // Storage: little quota left, 20 concurrent uploads of distinct images: never above it.
    let c = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let images: Vec<Vec<u8>> = (0..20).map(|i| noisy_png(120, 120, i)).collect();
    let size = images[0].len() as u64;
    let usage = |root: &Root| root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    let used = usage(&root)["storage_bytes"].as_u64().unwrap();
    let quota = used + 4 * size + size / 2;
    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--storage",
        &format!("{quota}B"),
    ])
    .ok();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = images
            .iter()
            .map(|img| s.spawn(|| upload(&srv, "acme.localhost", &c, img).status))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored = statuses.iter().filter(|&&s| s == 201).count();
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 413),
        "{statuses:?}"
    );
    assert!((1..=4).contains(&stored), "{stored} stored: {statuses:?}");
    // What STORAGE_QUOTA counts: the database's pages (its WAL file is scratch space that
    // holds the same pages) and the media objects.
    let media = usage(&root)["storage"]["media_bytes"].as_u64().unwrap();
    let db = rusqlite::Connection::open(root.file("db/acme/site.db")).unwrap();
    let db_bytes: u64 = db
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rows: u64 = db
        .query_row("SELECT count(*) FROM media_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        rows, stored as u64,
        "every accepted upload is listed, no other"
    );
    assert!(
        db_bytes + media <= quota,
        "{db_bytes} + {media} bytes stored, above the quota of {quota}"
    );
    drop(srv);
}

/// Staging folders of builds in `build/`.
fn staging_folders(root: &Root) -> Vec<String> {
    std::fs::read_dir(root.file("build"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".staging-") && !n.ends_with(".lease"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn builds_killed_mid_run_leave_folders_the_next_build_reclaims() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let content = root.dir.path().join("content");
    let body = "Words of a long page. ".repeat(400);
    let pages: Vec<(String, String)> = (0..1500)
        .map(|i| {
            (
                format!("page-{i:04}.md"),
                format!("+++\ntitle = \"Page {i}\"\n+++\n{body}\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = pages
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&content, &refs);
    root.run(&["tenant", "set-quota", "acme", "--pages", "2000"])
        .ok();
    root.run(&["content", "import", "acme", content.to_str().unwrap()])
        .ok();
    // Kill a build mid-run (at growing moments, until one leaves its staging folder).
    let quiet = |args: &[&str]| {
        let mut c = root.cmd(args);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c.spawn().unwrap()
    };
    let mut delay = 50;
    while staging_folders(&root).is_empty() && delay < 20_000 {
        let mut child = quiet(&["build", "acme"]);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        delay += 100;
    }
    let left = staging_folders(&root);
    assert_eq!(left.len(), 1, "no build was killed mid-run: {left:?}");
    // The next build reclaims it and says so; while that build runs, its own folder is never
    // taken by a third.
    let reclaiming = root
        .cmd(&["--json", "build", "acme"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(30, || {
        let now = staging_folders(&root);
        now.len() == 1 && now != left
    }));
    let third = root.run(&["--json", "build", "acme"]).ok().json();
    assert_eq!(third["reclaimed"]["folders"], 0, "{third}");
    let out = reclaiming.wait_with_output().unwrap();
    assert!(out.status.success(), "the running build was not disturbed");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["reclaimed"]["folders"], 1, "{r}");
    assert!(r["reclaimed"]["bytes"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(staging_folders(&root), Vec::<String>::new());
    let human = root.run(&["build", "acme"]).ok().stdout;
    assert!(
        !human.contains("Reclaimed"),
        "nothing left to reclaim: {human}"
    );
}

#[test]
fn deploys_in_a_separate_bundle_store_go_and_come_back_with_the_tenant() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let bundles = root.dir.path().join("bundles");
    let to = bundles.to_str().unwrap();
    root.run(&["build"]).ok();
    root.run(&["publish", "--to", to]).ok();
    let routes = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(bundles.join("routes.json")).unwrap()).unwrap()
    };
    assert!(routes()["routes"]["acme.example.com"].is_object());

    let deleted = root
        .run(&["--json", "tenant", "delete", "acme", "--yes", "--to", to])
        .ok()
        .json();
    let trash = deleted["trash"].as_str().unwrap();
    assert!(!bundles.join("sites/acme").exists());
    assert!(bundles.join(trash).join("sites/live.json").exists());
    assert!(routes()["routes"].get("acme.example.com").is_none());

    // A new owner of the name, then another tenant's publish: the edge map must not route
    // the name to the old owner's deploy.
    root.create("acme").ok();
    root.run(&["build", "other"]).ok();
    root.run(&["publish", "other", "--to", to]).ok();
    assert!(routes()["routes"].get("acme.example.com").is_none());

    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    root.run(&["tenant", "restore", "acme", "--from", trash, "--to", to])
        .ok();
    assert!(bundles.join("sites/acme/live.json").exists());
    assert!(routes()["routes"]["acme.example.com"].is_object());
}
