//! `t8k publish`, `deploys`, `rollback`, `gc` and serving from the bucket, against moto's S3
//! server: only changed bytes are sent, deploys stay intact, rollback is exact, a killed or
//! cut-off publish flips nothing, and readers never see a mix of two deploys.

mod common;

use std::collections::BTreeMap;

use common::{Moto, Proxy, Root, get};

const BUCKET: &str = "t8k-test";
const TO: &str = "s3://t8k-test/bundles";

/// A local data root with tenant `acme` holding `n` dated posts, `marker` in each.
fn site(root: &Root, n: usize, marker: &str) {
    let files: Vec<(String, String)> = (0..n)
        .map(|i| (format!("post-{i:03}.md"), format!("+++\ntitle = \"Post {i} {marker}\"\ndate = 2024-03-{:02}\n+++\nBody of post {i}, {marker}.\n", i % 28 + 1)))
        .collect();
    root.import_pages("acme", &format!("src-{marker}"), &files);
    root.run(&["build", "acme"]).ok();
}

fn setup(s3: &Moto) -> Root {
    let root = Root::new().with_s3(s3);
    root.init_multi(100);
    root.create("acme").ok();
    root.run(&["tenant", "set-quota", "acme", "--pages", "1000"])
        .ok();
    root
}

fn publish(root: &Root, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "publish", "acme", "--to", TO];
    args.extend_from_slice(extra);
    root.run(&args).ok().json()
}

fn live(s3: &Moto) -> String {
    let bytes = s3
        .object(BUCKET, "bundles/sites/acme/live.json")
        .expect("live.json exists");
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["deploy"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn manifest(s3: &Moto, deploy: &str) -> BTreeMap<String, String> {
    let bytes = s3
        .object(
            BUCKET,
            &format!("bundles/sites/acme/_deploys/{deploy}.json"),
        )
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    m["objects"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["sha256"].as_str().unwrap().to_owned()))
        .collect()
}

/// Every object of `deploy` in the bucket has the bytes its manifest records.
fn assert_intact(s3: &Moto, deploy: &str) {
    let want = manifest(s3, deploy);
    let have = s3.objects(BUCKET, &format!("bundles/sites/acme/{deploy}/"));
    let have: BTreeMap<String, String> = have
        .into_iter()
        .map(|(k, v)| {
            (
                k.rsplit_once(&format!("{deploy}/")).unwrap().1.to_owned(),
                v,
            )
        })
        .collect();
    assert_eq!(have, want, "deploy {deploy} is not intact");
}

#[test]
fn republish_sends_only_changed_pages_and_rollback_restores_byte_for_byte() {
    let Some(s3) = Moto::start() else { return };
    let root = setup(&s3);
    site(&root, 30, "v1");
    let first = publish(&root, &[]);
    let a = first["details"][0]["deploy"].as_str().unwrap().to_owned();
    let total = manifest(&s3, &a).len();
    assert_eq!(first["objects_uploaded"].as_u64().unwrap() as usize, total);

    // Nothing changed: no deploy, no writes.
    let noop = publish(&root, &[]);
    assert_eq!(
        (
            noop["unchanged"].as_u64(),
            noop["objects_uploaded"].as_u64(),
            noop["objects_copied"].as_u64()
        ),
        (Some(1), Some(0), Some(0)),
        "{noop}"
    );

    // Change one page's title: that page, the listing that lists it and the feed are sent.
    let src = root.dir.path().join("src-v1");
    std::fs::write(
        src.join("post-007.md"),
        "+++\ntitle = \"Post 7 renamed\"\ndate = 2024-03-08\n+++\nBody of post 7, v1.\n",
    )
    .unwrap();
    root.run(&["content", "import", "acme", src.to_str().unwrap()])
        .ok();
    root.run(&["build", "acme"]).ok();
    let second = publish(&root, &[]);
    let uploaded: Vec<String> = second["details"][0]["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        uploaded.contains(&"post-007/index.html".to_owned()),
        "{uploaded:?}"
    );
    assert!(uploaded.contains(&"atom.xml".to_owned()), "{uploaded:?}");
    assert!(
        uploaded.iter().any(|p| p.starts_with("pages/")),
        "the listing page that lists it: {uploaded:?}"
    );
    for p in &uploaded {
        assert!(
            p == "post-007/index.html"
                || p.starts_with("pages/")
                || p == "atom.xml"
                || p == "sitemap.xml",
            "{p} was re-sent although unchanged"
        );
    }
    assert!(uploaded.len() <= 5, "{uploaded:?}");
    assert_eq!(
        second["objects_copied"].as_u64().unwrap() as usize,
        total - uploaded.len(),
        "the rest is copied server-side"
    );
    let b = live(&s3);
    assert_ne!(a, b);
    assert_intact(&s3, &a);
    assert_intact(&s3, &b);

    let deploys = root
        .run(&["--json", "deploys", "acme", "--to", TO])
        .ok()
        .json();
    assert_eq!(deploys.as_array().unwrap().len(), 2);
    assert_eq!(deploys[1]["live"], true);

    // Roll back: the previous deploy is served byte for byte.
    root.run(&["rollback", "acme", "--to", TO]).ok();
    assert_eq!(live(&s3), a);
    let srv = root.serve(&["--from", TO]);
    for (path, sha) in manifest(&s3, &a) {
        let url = format!("/{}", path.strip_suffix("index.html").unwrap_or(&path));
        let r = get(srv.port, "acme.localhost", &url);
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(hex_sha(&r.body), sha, "{url} differs from deploy {a}");
    }
    drop(srv);

    // With `a` live and `b` newest, gc --keep 1 keeps both (the live one is never collected).
    root.run(&["gc", "--keep", "1", "--grace", "0s", "--to", TO])
        .ok();
    assert_eq!(
        root.run(&["--json", "deploys", "acme", "--to", TO])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Publishing again makes a third deploy `c` live; the grace period protects a and b...
    publish(&root, &[]);
    let c = live(&s3);
    root.run(&["gc", "--keep", "1", "--to", TO]).ok();
    assert_eq!(
        root.run(&["--json", "deploys", "acme", "--to", TO])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        3,
        "all are younger than the grace period"
    );
    // ...until it is zero.
    root.run(&["gc", "--keep", "1", "--grace", "0s", "--to", TO])
        .ok();
    let left = root
        .run(&["--json", "deploys", "acme", "--to", TO])
        .ok()
        .json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["deploy"], c.as_str());
    assert!(
        s3.objects(BUCKET, &format!("bundles/sites/acme/{a}/"))
            .is_empty()
    );
    assert!(
        s3.objects(BUCKET, &format!("bundles/sites/acme/{b}/"))
            .is_empty()
    );
    assert_intact(&s3, &c);
}

fn hex_sha(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = sha256(bytes);
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 via the system's sha256sum, to keep the tests free of a hashing dependency.
fn sha256(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    (0..32)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_killed_publish_leaves_the_previous_deploy_live_and_a_rerun_completes() {
    let Some(s3) = Moto::start() else { return };
    let root = setup(&s3);
    site(&root, 120, "v1");
    publish(&root, &[]);
    let a = live(&s3);
    site(&root, 120, "v2");
    let mut kills = 0;
    for delay_ms in [5u64, 40, 120, 250] {
        let args = ["publish", "acme", "--to", TO, "--concurrency", "4"];
        let mut child = root
            .cmd(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        if !child.wait().unwrap().success() {
            kills += 1;
        }
        let now = live(&s3);
        assert!(
            now == a || manifest(&s3, &now).len() == manifest(&s3, &a).len(),
            "live points at a complete deploy"
        );
        assert_intact(&s3, &now);
        if now != a {
            break; // the publish finished before the kill
        }
    }
    assert!(kills > 0, "no kill landed mid-publish");
    let srv = root.serve(&["--from", TO]);
    let page = get(srv.port, "acme.localhost", "/post-003/").text();
    assert!(
        page.contains("v1") ^ page.contains("v2"),
        "one deploy, not a mix"
    );
    drop(srv);
    let done = publish(&root, &[]);
    assert_eq!(done["failed"], 0);
    let b = live(&s3);
    assert_ne!(a, b);
    assert_intact(&s3, &b);
    assert!(
        String::from_utf8(
            s3.object(
                BUCKET,
                &format!("bundles/sites/acme/{b}/post-003/index.html")
            )
            .unwrap()
        )
        .unwrap()
        .contains("v2")
    );
}

#[test]
fn a_storage_outage_mid_publish_fails_clearly_and_flips_nothing() {
    let Some(s3) = Moto::start() else { return };
    let proxy = Proxy::start(s3.port);
    let mut root = setup(&s3);
    for (k, v) in root.env.iter_mut() {
        if k == "AWS_ENDPOINT_URL" {
            *v = format!("http://127.0.0.1:{}", proxy.port);
        }
    }
    site(&root, 80, "v1");
    publish(&root, &[]);
    let a = live(&s3);
    site(&root, 80, "v2");
    proxy.fail_after(60_000);
    let out = root.run(&["publish", "acme", "--to", TO, "--concurrency", "2"]);
    assert!(!proxy.is_up(), "the outage did not happen mid-publish");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{}", proxy.port)),
        "the error names the endpoint: {}",
        out.stderr
    );
    assert_eq!(live(&s3), a, "nothing was flipped");
    proxy.up();
    publish(&root, &[]);
    let b = live(&s3);
    assert_ne!(a, b);
    assert_intact(&s3, &b);
}

#[test]
fn readers_never_see_a_mix_of_two_deploys() {
    let Some(s3) = Moto::start() else { return };
    let root = setup(&s3);
    site(&root, 40, "release-1");
    publish(&root, &[]);
    let srv = root.serve(&["--from", TO]);
    let port = srv.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen = vec![];
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let path = [
                    "/".to_owned(),
                    "/pages/".to_owned(),
                    format!("/post-{:03}/", i % 40),
                ][i % 3]
                    .clone();
                i += 1;
                let text = get(port, "acme.localhost", &path).text();
                let versions: std::collections::BTreeSet<u32> = (1..=3)
                    .filter(|v| text.contains(&format!("release-{v}")))
                    .collect();
                assert!(versions.len() <= 1, "{path} mixes releases {versions:?}");
                if let Some(v) = versions.into_iter().next() {
                    seen.push(v);
                }
            }
            seen
        })
    };
    for v in 2..=3 {
        site(&root, 40, &format!("release-{v}"));
        publish(&root, &[]);
        std::thread::sleep(std::time::Duration::from_millis(1500));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().expect("the reader saw no mix");
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "a reader went back to an older deploy"
    );
    assert!(
        seen.first() == Some(&1) && seen.last() == Some(&3),
        "the reader ran across both flips: {:?}..{:?}",
        seen.first(),
        seen.last()
    );
}

/// Sets a tenant's brand colours in its env.json (what the admin's settings write).
fn brand(root: &Root, tenant: &str, colours: &str) {
    let path = root.file(&format!("config/{tenant}/env.json"));
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    env["BRAND_COLOURS"] = colours.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&env).unwrap()).unwrap();
}

/// The header's background colour of a tenant's home page, as the browser computes it.
fn header_colour(b: &common::Browser, port: u16, tenant: &str) -> String {
    b.open(&format!("http://{tenant}.localhost:{port}/"));
    b.wait_text("header", "Test Site");
    b.eval("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn fifty_sites_on_one_theme_upload_its_assets_once_and_gc_keeps_what_deploys_use() {
    let Some(s3) = Moto::start() else { return };
    let root = Root::new().with_s3(&s3);
    root.init_multi(100);
    let ids: Vec<String> = (0..50).map(|i| format!("site{i:02}")).collect();
    for id in &ids {
        root.create(id).ok();
    }
    brand(&root, "site00", "#aa1144");
    brand(&root, "site01", "#117744");
    let themes = root.dir.path().join("themes");
    common::copy_dir(&common::workspace().join("themes"), &themes);
    let themes_arg = themes.to_str().unwrap();
    root.run(&["build", "--themes", themes_arg]).ok();
    let assets = std::fs::read_dir(root.file("build/_shared/assets"))
        .unwrap()
        .count();
    let first = root.run(&["--json", "publish", "--to", TO]).ok().json();
    assert_eq!(first["published"], 51, "{first:#}");
    assert_eq!(
        first["shared_uploaded"], assets,
        "each of the theme's {assets} assets is uploaded once for 51 sites"
    );
    let shared = s3.objects(BUCKET, "bundles/sites/_shared/assets/");
    assert_eq!(shared.len(), assets);
    for id in ["site07", "site42"] {
        let own = s3.objects(BUCKET, &format!("bundles/sites/{id}/"));
        assert!(
            own.keys().all(|k| !k.contains("/assets/")),
            "no copy of the theme inside {id}'s deploy"
        );
        let deploy = serde_json::from_slice::<serde_json::Value>(
            &s3.object(BUCKET, &format!("bundles/sites/{id}/live.json"))
                .unwrap(),
        )
        .unwrap()["deploy"]
            .as_str()
            .unwrap()
            .to_owned();
        let m: serde_json::Value = serde_json::from_slice(
            &s3.object(
                BUCKET,
                &format!("bundles/sites/{id}/_deploys/{deploy}.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            m["shared"].as_object().unwrap().len(),
            assets,
            "the manifest lists the shared assets of its theme: {m:#}"
        );
    }

    // Every site renders styled from the bucket; branding stays per tenant.
    let srv = root.serve(&["--from", TO]);
    if let Some(b) = common::Browser::start() {
        assert_eq!(header_colour(&b, srv.port, "site00"), "rgb(170, 17, 68)");
        assert!(b.screenshot().len() > 5_000, "a styled page was drawn");
        assert_eq!(header_colour(&b, srv.port, "site01"), "rgb(17, 119, 68)");
        assert_eq!(
            header_colour(&b, srv.port, "site30"),
            "rgb(31, 95, 191)",
            "the theme's own colour where the tenant set none"
        );
    }

    // A theme change uploads the changed file once; gc then removes the stylesheet no kept
    // deploy uses and keeps everything the live ones do.
    let css = themes.join("default/static/style.css");
    let mut text = std::fs::read_to_string(&css).unwrap();
    text.push_str("\n.t8k-theme-change { color: inherit; }\n");
    std::fs::write(&css, text).unwrap();
    root.run(&["build", "--themes", themes_arg]).ok();
    let second = root.run(&["--json", "publish", "--to", TO]).ok().json();
    assert_eq!(second["shared_uploaded"], 1, "{second:#}");
    assert_eq!(
        s3.objects(BUCKET, "bundles/sites/_shared/assets/").len(),
        assets + 1
    );
    let gc = root
        .run(&["--json", "gc", "--keep", "1", "--grace", "0s", "--to", TO])
        .ok()
        .json();
    let deleted = gc["shared"]["deleted"].as_array().unwrap();
    assert_eq!(deleted.len(), 1, "{gc:#}");
    assert!(deleted[0].as_str().unwrap().starts_with("assets/style."));
    let left = s3.objects(BUCKET, "bundles/sites/_shared/assets/");
    assert_eq!(left.len(), assets);
    assert!(
        !left
            .keys()
            .any(|k| k.ends_with(deleted[0].as_str().unwrap()))
    );
    let home = get(srv.port, "site30.localhost", "/").text();
    let href = home
        .split("href=\"/_t8k/assets/style.")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let css = get(
        srv.port,
        "site30.localhost",
        &format!("/_t8k/assets/style.{href}"),
    );
    assert_eq!(css.status, 200);
    assert!(css.text().contains("t8k-theme-change"));
}
