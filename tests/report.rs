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

/// The least-squares slope and R² of `points`, worked out here from the sums, apart from t8k.
fn hand_fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
    let (sxx, sxy, syy) = points.iter().fold((0.0, 0.0, 0.0), |(a, b, c), p| {
        (a + p.0 * p.0, b + p.0 * p.1, c + p.1 * p.1)
    });
    let cov = sxy - sx * sy / n;
    let (vx, vy) = (sxx - sx * sx / n, syy - sy * sy / n);
    (cov / vx, cov * cov / (vx * vy))
}

/// Twelve weeks of daily snapshots, written in the documented format: the report's growth,
/// its projections (the last eight weeks, fitted by least squares) and each tenant's 30- and
/// 90-day change come from them. Running the snapshot twice a day records the day once.
#[test]
fn trends_and_projections_come_from_the_daily_snapshots() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    let first = root.run(&["--json", "usage", "snapshot"]).ok().json();
    assert_eq!(
        (first["recorded"].as_u64(), first["already"].as_u64()),
        (Some(1), Some(0))
    );
    let again = root.run(&["--json", "usage", "snapshot"]).ok().json();
    assert_eq!(
        (again["recorded"].as_u64(), again["already"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(first["installation"], again["installation"]);

    // Day d of 84 (0 = twelve weeks ago): a noisy rise in tenants and storage.
    let today = time::OffsetDateTime::now_utc().date();
    let tenants = |d: i64| 5 + d * 3 / 7 + i64::from(d % 3 == 0);
    let storage = |d: i64| 1_000_000 + 15_000 * d + (d * 7919) % 50_000;
    let mut growth = std::collections::BTreeMap::<String, serde_json::Map<_, _>>::new();
    let mut acme = std::collections::BTreeMap::<String, serde_json::Map<_, _>>::new();
    for d in 0..84 {
        let date = today - time::Duration::days(83 - d);
        let (month, day) = (date.to_string()[..7].to_owned(), date.to_string());
        growth.entry(month.clone()).or_default().insert(
            day.clone(),
            serde_json::json!({"tenants": tenants(d), "max_tenants": 100, "pending_signups": 0,
                "pages": 0, "users": 0, "storage_bytes": storage(d), "analytics_bytes": 0,
                "bandwidth_month_bytes": 0, "visitors_30d": 10 * d, "pageviews_30d": 0}),
        );
        acme.entry(month).or_default().insert(
            day,
            serde_json::json!({"pages": 2 + d / 10, "users": 1, "storage_bytes": 1000 * d,
                "analytics_bytes": 0, "bandwidth_month_bytes": 0, "visitors_30d": d,
                "pageviews_30d": d}),
        );
    }
    let write = |dir: &str,
                 docs: &std::collections::BTreeMap<
        String,
        serde_json::Map<String, serde_json::Value>,
    >| {
        let dir = root.path().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (month, days) in docs {
            let doc = serde_json::json!({ "days": days });
            std::fs::write(dir.join(format!("{month}.json")), doc.to_string()).unwrap();
        }
    };
    write("stats/_growth", &growth);
    write("stats/acme/usage", &acme);

    let r = root.run(&["--json", "report"]).ok().json();
    let g = &r["growth"];
    assert_eq!(
        g["days"].as_array().unwrap().len(),
        84,
        "twelve weeks of days"
    );
    // The projections use the last 56 days, x in days from the first of them.
    let window = |f: &dyn Fn(i64) -> i64| -> Vec<(f64, f64)> {
        (28..84).map(|d| ((d - 28) as f64, f(d) as f64)).collect()
    };
    let (slope, r2) = hand_fit(&window(&tenants));
    let weeks = (100 - tenants(83)) as f64 / (slope * 7.0);
    let p = &g["max_tenants"];
    assert!(
        (p["weeks"].as_f64().unwrap() - weeks).abs() < 1e-9,
        "{p} vs {weeks}"
    );
    assert!((p["r2"].as_f64().unwrap() - r2).abs() < 1e-9, "{p} vs {r2}");
    assert_eq!(p["days"], 56);
    assert!(
        p["text"].as_str().unwrap().starts_with(&format!(
            "max_tenants reached in ~{} weeks (R² {r2:.2}",
            weeks.round()
        )),
        "{p}"
    );
    let (slope, _) = hand_fit(&window(&storage));
    let doubles = storage(83) as f64 / (slope * 7.0);
    let s = &g["storage_doubles"];
    assert!(
        (s["weeks"].as_f64().unwrap() - doubles).abs() < 1e-9,
        "{s} vs {doubles}"
    );

    // acme: pages 2 + d/10, so 10 now, 7 thirty days ago and 3 ninety days ago (the oldest
    // snapshot, 83 days back, is the nearest before that: none reaches back 90 days).
    let row = report_row(&r, "acme");
    assert_eq!(row["growth"]["pages_30d"]["from"], 2 + 53 / 10, "{row}");
    assert_eq!(row["growth"]["pages_30d"]["to"], 2 + 83 / 10);
    assert!(row["growth"]["pages_90d"].is_null(), "{row}");
    let visitors = &row["growth"]["visitors_30d"];
    let expected = (83.0 / 53.0 - 1.0) * 100.0;
    assert!(
        (visitors["percent"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{visitors}"
    );

    // Too little history says so instead of guessing.
    let fresh = Root::new();
    fresh.init_multi(10);
    fresh.run(&["usage", "snapshot"]).ok();
    let p = fresh.run(&["--json", "report"]).ok().json()["growth"]["max_tenants"].clone();
    assert!(
        p["weeks"].is_null() && p["text"].as_str().unwrap().contains("1 of 14 days"),
        "{p}"
    );
}

/// The report's charts read at desktop and phone widths in headless Chromium: named, labels
/// legible and apart, nothing wider than the screen, marks drawn; an installation with no
/// traffic says "no data" in words. axe-core finds no serious violation.
#[test]
fn report_charts_read_at_desktop_and_phone_widths() {
    let Some(b) = common::Browser::start() else {
        return;
    };
    let axe = common::axe_source();
    let root = Root::new();
    root.init_multi(10);
    for t in ["acme", "bakery-with-a-long-name", "cove"] {
        root.create(t).ok();
    }
    root.run(&["usage", "snapshot"]).ok();
    // Two builds each: every site's build trend has a line to draw.
    root.run(&["build"]).ok();
    root.run(&["build", "--full"]).ok();
    let html = root.dir.path().join("report.html");
    root.run(&["report", "--html", html.to_str().unwrap()]).ok();
    b.open(&format!("file://{}", html.display()));
    // Every disclosure open: the build trends and the charts' data tables are read too.
    b.eval("document.querySelectorAll('details').forEach((d) => d.open = true) ?? true");
    for width in [1280, 390] {
        let problems = common::chart_problems(&b, "report", width);
        assert!(problems.is_empty(), "{width}px: {problems:#?}");
        common::accessible(&b, axe.as_deref(), "report");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("No page views recorded in the last 30 days."),
        "no traffic, said so"
    );
    assert!(
        page.contains(">latest 3</text>"),
        "three sign-ups this week, written out"
    );
    assert!(
        page.contains("acme: page weight, 95th percentile"),
        "build trends"
    );
}
