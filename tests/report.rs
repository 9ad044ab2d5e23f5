//! `t8k report`: every tenant's status, health, usage and traffic, the installation's capacity
//! and sign-ups per week — as a table, JSON and an HTML page with charts.

mod common;

use common::{Root, report_row};

#[test]
fn the_report_shows_health_usage_capacity_and_sign_ups() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("harbor").ok();
    root.run(&["build"]).ok();
    root.run(&["publish", "acme"]).ok();
    root.run(&["tenant", "deactivate", "harbor"]).ok();

    let r = root.run(&["--json", "report"]).ok().json();
    assert_eq!(
        (r["count"].as_u64(), r["max_tenants"].as_u64()),
        (Some(2), Some(10))
    );
    let acme = r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "acme")
        .unwrap();
    assert_eq!(acme["status"], "active");
    assert!(acme["published"].is_string(), "{acme}");
    assert_eq!(acme["problems"], serde_json::json!([]), "{acme}");
    assert!(acme["pages"][0].as_u64().unwrap() >= 1);
    assert!(acme["storage"][0].as_u64().unwrap() > 0);
    assert!(acme["built_pages"].as_u64().unwrap() >= 1);
    // The build's figures, checked against the bundle on disk: its files' bytes, and the
    // home page's weight (its HTML plus the stylesheet and script it loads) within p50..=max.
    let build = &acme["builds"][0];
    let bundle = root.path().join("build/acme");
    let files: u64 = walkdir::WalkDir::new(&bundle)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert_eq!(build["bundle_bytes"].as_u64(), Some(files), "{build}");
    assert_eq!(build["pages"], acme["built_pages"], "{build}");
    // Each page's weight, found here: its HTML plus the theme's stylesheet and script it
    // names (the default theme's pages load nothing else); p50 and p95 by nearest rank.
    let mut weights: Vec<u64> = walkdir::WalkDir::new(&bundle)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| {
            let html = std::fs::read_to_string(e.path()).unwrap();
            let mut assets: Vec<&str> = html
                .split('"')
                .filter(|s| s.starts_with("/_t8k/assets/"))
                .filter(|s| s.ends_with(".css") || s.ends_with(".js"))
                .collect();
            assets.sort();
            assets.dedup();
            assert!(!assets.is_empty(), "{}", e.path().display());
            let shared = root.path().join("build/_shared");
            let loaded: u64 = assets
                .iter()
                .map(|a| std::fs::metadata(shared.join(&a[6..])).unwrap().len())
                .sum();
            html.len() as u64 + loaded
        })
        .collect();
    weights.sort();
    let rank = |q: f64| weights[((q * weights.len() as f64).ceil() as usize).max(1) - 1];
    assert_eq!(
        build["page_weight_p50"].as_u64(),
        Some(rank(0.5)),
        "{build}"
    );
    assert_eq!(
        build["page_weight_p95"].as_u64(),
        Some(rank(0.95)),
        "{build}"
    );
    assert!(build["seconds"].as_f64().unwrap() > 0.0);
    let harbor = r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "harbor")
        .unwrap();
    assert_eq!(harbor["status"], "inactive");
    assert!(harbor["published"].is_null());

    // An active tenant never published is flagged.
    root.create("cove").ok();
    let r2 = root.run(&["--json", "report"]).ok().json();
    let cove = r2["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "cove")
        .unwrap();
    let problems = cove["problems"].to_string();
    assert!(
        problems.contains("never built") && problems.contains("never published"),
        "{problems}"
    );
    let weeks = r["signups_per_week"].as_object().unwrap();
    assert_eq!(weeks.len(), 8);
    assert_eq!(
        weeks.values().next_back().unwrap(),
        2,
        "both created this week"
    );
    assert!(r["storage_bytes"].as_u64().unwrap() > 0);

    let human = root.run(&["report"]).ok();
    assert!(
        human.stdout.contains("acme") && human.stdout.contains("of 10 tenants"),
        "{}",
        human.stdout
    );

    // A page of rows; the totals still count every tenant.
    let page = root
        .run(&["--json", "report", "--limit", "1", "--after", "acme"])
        .ok()
        .json();
    assert_eq!(page["tenants"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["tenants"][0]["tenant"], "cove");
    assert_eq!(page["next"], "cove", "harbor follows");
    assert_eq!(page["count"], 3);
    let last = root
        .run(&["--json", "report", "--limit", "5", "--after", "cove"])
        .ok()
        .json();
    assert_eq!(last["tenants"][0]["tenant"], "harbor");
    assert!(last.get("next").is_none(), "{last}");

    let html = root.dir.path().join("report.html");
    root.run(&["report", "--html", html.to_str().unwrap()]).ok();
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("<svg") && text.contains("harbor") && !text.contains("<script"));
}

#[test]
fn failed_builds_and_publishes_are_remembered_until_a_later_attempt_succeeds() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build", "acme"]).ok();
    let r = root.run(&["--json", "report"]).ok().json();
    let built = report_row(&r, "acme")["built"].as_str().unwrap().to_owned();
    assert!(built.starts_with("20") && built.ends_with('Z'), "{built}");
    assert_eq!(report_row(&r, "acme")["failures_30d"], 0);

    // A broken env.json fails the next build; the report names the failure and its cause, and
    // the previous bundle (with its build time) stays.
    let env = root.file("config/acme/env.json");
    let good = std::fs::read(&env).unwrap();
    std::fs::write(&env, b"{ not json").unwrap();
    root.run(&["build", "acme"]).fails(1, "acme");
    let r = root.run(&["--json", "report"]).ok().json();
    let acme = report_row(&r, "acme");
    assert_eq!(acme["built"], built.as_str(), "{acme}");
    assert_eq!(acme["failures_30d"], 1);
    assert_eq!(acme["recent_failures"][0]["stage"], "build");
    assert!(
        acme["recent_failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("env.json"),
        "{acme}"
    );
    let problems = acme["problems"].to_string();
    assert!(problems.contains("last build failed"), "{problems}");
    let human = root.run(&["report"]).ok().stdout;
    assert!(human.contains("last build failed"), "{human}");

    // A publish of a site that was never built fails and is remembered too.
    root.create("cove").ok();
    root.run(&["publish", "cove"]).fails(1, "cove");
    let r = root.run(&["--json", "report"]).ok().json();
    let cove = report_row(&r, "cove")["problems"].to_string();
    assert!(cove.contains("last publish failed"), "{cove}");

    // Fixed: the problem goes, the failure stays in the 30-day count.
    std::fs::write(&env, good).unwrap();
    root.run(&["build", "acme"]).ok();
    root.run(&["publish", "acme"]).ok();
    let r = root.run(&["--json", "report"]).ok().json();
    let acme = report_row(&r, "acme");
    assert_eq!(acme["problems"], serde_json::json!([]), "{acme}");
    assert_eq!(acme["failures_30d"], 1);
    let html = root.dir.path().join("report.html");
    root.run(&["report", "--html", html.to_str().unwrap()]).ok();
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("failures (30 d)")
    );
}
