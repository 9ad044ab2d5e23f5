//! Maintenance notices: each concerned tenant's admins get one mail (a real SMTP server), the
//! banner shows on their sites and not on others' and goes at the first build after `--ends`,
//! the main domain's `/status/` lists it, a tenant's admins read it at `/api/notices`, and the
//! installation admin records one with `PUT /api/admin/notices`.

mod common;

use common::{PASSWORD, Root, Smtp, http, send_json};

fn home(root: &Root, id: &str) -> String {
    std::fs::read_to_string(root.file(&format!("build/{id}/index.html"))).unwrap()
}

fn subjects(smtp: &Smtp) -> Vec<String> {
    let mut s: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
        })
        .collect();
    s.sort();
    s
}

#[test]
fn notices_reach_each_admin_once_and_banners_follow_their_window() {
    let Some(smtp) = Smtp::start() else { return };
    let root = Root::new();
    root.init_multi(10);
    for id in ["acme", "harbor", "cafe"] {
        root.create(id).ok();
    }
    root.use_smtp(smtp.port);
    root.run(&["build", "--changed"]).ok();
    let ends = (time::OffsetDateTime::now_utc() + time::Duration::seconds(6))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let made = root
        .run(&[
            "--json",
            "notice",
            "create",
            "--message",
            "Database upgrade tonight",
            "--starts",
            "now",
            "--ends",
            &ends,
            "--tenants",
            "acme,harbor",
            "--banner",
        ])
        .ok()
        .json();
    let id = made["notice"]["id"].as_str().unwrap().to_owned();
    let sent = subjects(&smtp);
    assert_eq!(sent.len(), 2, "one mail per concerned tenant: {sent:?}");
    assert!(
        sent[0].starts_with("acme: scheduled maintenance"),
        "{sent:?}"
    );
    assert!(
        sent[1].starts_with("harbor: scheduled maintenance"),
        "{sent:?}"
    );
    let report = root.run(&["--json", "report"]).ok().json();
    assert_eq!(report["notices"][0]["message"], "Database upgrade tonight");
    assert_eq!(report["notices"][0]["phase"], "current");
    let row = |id: &str| {
        common::report_row(&report, id)["notices"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((row("acme"), row("harbor"), row("cafe")), (1, 1, 0));
    root.run(&["notice", "announce", &id]).ok();
    assert_eq!(
        smtp.messages().len(),
        2,
        "announcing again mails nobody twice"
    );

    root.run(&["build", "--changed"]).ok();
    for id in ["acme", "harbor"] {
        assert!(home(&root, id).contains("Database upgrade tonight"), "{id}");
    }
    let cafe_record = std::fs::read(root.file("build/cafe.build.json")).unwrap();
    assert!(!home(&root, "cafe").contains("Database upgrade"));
    let status = std::fs::read_to_string(root.file("build/_main/status/index.html")).unwrap();
    assert!(status.contains("Maintenance now") && status.contains("Database upgrade tonight"));

    // The tenant's admin reads its notices; another tenant sees none of them.
    let srv = root.serve(&[]);
    let notices_of = |host: &str| {
        let cookie = common::login_cookie(srv.port, host, "admin", PASSWORD);
        let r = http(
            srv.port,
            "GET",
            host,
            "/api/notices",
            &[("Cookie", &cookie)],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["notices"].as_array().unwrap().clone()
    };
    let acme = notices_of("acme.localhost");
    assert_eq!(acme.len(), 1);
    assert_eq!(acme[0]["phase"], "current");
    assert!(notices_of("cafe.localhost").is_empty());
    assert_eq!(
        http(srv.port, "GET", "acme.localhost", "/api/notices", &[]).status,
        401
    );

    // The installation admin schedules one for everyone over the API.
    let key = root.admin_key();
    let bearer = format!("Bearer {key}");
    let put = |body: serde_json::Value| {
        let auth = [("Authorization", bearer.as_str())];
        send_json(
            srv.port,
            "PUT",
            "example.com",
            "/api/admin/notices",
            &auth,
            &body.to_string(),
        )
    };
    let later = ("2099-01-01T01:00:00Z", "2099-01-01T02:00:00Z");
    let r = put(
        serde_json::json!({"message": "Network move", "starts": later.0, "ends": later.1, "all": true}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(smtp.messages().len(), 5, "three more, one per tenant");
    let r = put(
        serde_json::json!({"message": "x", "starts": "tomorrow", "ends": later.1, "all": true}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("RFC 3339"), "{}", r.text());
    let upcoming = notices_of("cafe.localhost");
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0]["phase"], "upcoming");
    drop(srv);

    // After the window, the next `--changed` build takes the banner down (and only there).
    while time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        < ends
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let built = root.run(&["--json", "build", "--changed"]).ok().json();
    for id in ["acme", "harbor"] {
        assert!(
            !home(&root, id).contains("Database upgrade"),
            "{id}: {built:#}"
        );
    }
    assert_eq!(
        std::fs::read(root.file("build/cafe.build.json")).unwrap(),
        cafe_record,
        "cafe was not rebuilt"
    );
    let status = std::fs::read_to_string(root.file("build/_main/status/index.html")).unwrap();
    assert!(!status.contains("Database upgrade") && status.contains("Network move"));
}
