//! Platform updates without surprises: published theme versions, rollouts a cohort at a time
//! with their gates (a render error, a broken link), concurrent advances, abort restoring
//! every moved tenant's previous deploy byte for byte, per-tenant pins, and the same flow on a
//! bucket root (moto).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Moto, Root};
use sha2::{Digest, Sha256};

/// Copies the shipped `default` theme to `{dir}/default`, applying `edit` to one template.
fn theme_version(root: &Root, dir: &str, edit: Option<(&str, &str, &str)>) -> PathBuf {
    let to = root.dir.path().join(dir).join("default");
    common::copy_dir(&common::workspace().join("themes/default"), &to);
    if let Some((file, from, replacement)) = edit {
        let path = to.join("templates").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has {from:?}");
        std::fs::write(&path, text.replacen(from, replacement, 1)).unwrap();
    }
    to
}

const FOOTER: &str = "<footer class=\"site-footer\">";

/// A version of the default theme with `html` at the top of every page's footer.
fn with_footer(root: &Root, dir: &str, html: &str) -> PathBuf {
    theme_version(
        root,
        dir,
        Some(("base.html", FOOTER, &format!("{FOOTER}{html}"))),
    )
}

/// A platform of `ids` on the default theme's first published version, built and published.
struct Platform {
    root: Root,
    themes: String,
}

impl Platform {
    fn new(root: Root, ids: &[String]) -> Platform {
        for id in ids {
            root.create(id).ok();
        }
        let v1 = theme_version(&root, "v1", None);
        assert_eq!(push(&root, &v1), 1);
        assert_eq!(push(&root, &v1), 1, "the same files are the same version");
        let themes = root.dir.path().join("v1").display().to_string();
        root.run(&["build", "--themes", &themes]).ok();
        root.run(&["publish"]).ok();
        Platform { root, themes }
    }

    /// `t8k rollout ARGS --themes …`.
    fn rollout(&self, args: &[&str]) -> common::Run {
        let mut all = vec!["rollout"];
        all.extend_from_slice(args);
        all.extend(["--themes", &self.themes]);
        self.root.run(&all)
    }

    /// Two `t8k rollout advance --percent P` at once.
    fn race(&self, percent: &str) -> Vec<std::process::Output> {
        let advance = vec![
            "rollout",
            "advance",
            "--percent",
            percent,
            "--themes",
            &self.themes,
        ];
        self.root.at_once(&[advance.clone(), advance])
    }
}

fn push(root: &Root, dir: &Path) -> u64 {
    let pushed = root
        .run(&[
            "--json",
            "theme",
            "push",
            dir.to_str().unwrap(),
            "--name",
            "default",
        ])
        .ok()
        .json();
    pushed["version"].as_u64().unwrap()
}

/// SHA-256 over every file of a folder (path and bytes).
fn tree_hash(dir: &Path) -> String {
    let mut h = Sha256::new();
    for (rel, bytes) in common::bundle_files(dir) {
        h.update(rel.as_bytes());
        h.update(&bytes);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each tenant's live deploy and the hash of its local bundle.
fn snapshot(root: &Root, ids: &[String]) -> BTreeMap<String, (String, String)> {
    ids.iter()
        .map(|id| {
            let live: serde_json::Value = serde_json::from_slice(
                &std::fs::read(root.file(&format!("sites/{id}/live.json"))).unwrap(),
            )
            .unwrap();
            let deploy = live["deploy"].as_str().unwrap().to_owned();
            (
                id.clone(),
                (deploy, tree_hash(&root.file(&format!("build/{id}")))),
            )
        })
        .collect()
}

fn pinned(root: &Root, id: &str) -> Option<u64> {
    let env: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.file(&format!("config/{id}/env.json"))).unwrap(),
    )
    .unwrap();
    env["THEME_VERSION"].as_u64()
}

fn status(root: &Root, id: &str) -> serde_json::Value {
    let all = root.run(&["--json", "rollout", "status", id]).ok().json();
    all[0].clone()
}

fn moved(status: &serde_json::Value) -> Vec<String> {
    status["moved"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn forty_tenants_move_in_cohorts_bad_versions_halt_and_abort_restores_every_deploy() {
    let root = Root::new();
    root.init_multi(100);
    let ids: Vec<String> = (0..40).map(|i| format!("site{i:02}")).collect();
    let p = Platform::new(root, &ids);
    let root = &p.root;
    let before = snapshot(root, &ids);

    let v2 = with_footer(root, "v2", "<p class=\"v2\">Theme two</p>");
    assert_eq!(push(root, &v2), 2);
    let r = p.rollout(&["start", "default@2", "--percent", "10"]).ok();
    assert!(r.stdout.contains("10%"), "{}", r.stdout);
    let s = status(root, "default-2");
    let first = moved(&s);
    assert_eq!(first.len(), 4, "10% of 40: {s:#}");
    let after = snapshot(root, &ids);
    for id in &ids {
        let home = std::fs::read_to_string(root.file(&format!("build/{id}/index.html"))).unwrap();
        if first.contains(id) {
            assert_eq!(pinned(root, id), Some(2));
            assert_ne!(after[id].0, before[id].0, "{id} was published");
            assert!(home.contains("Theme two"), "{id} shows version 2");
            let report = &s["steps"][0]["reports"][id.as_str()];
            assert_eq!(report["pages_before"], report["pages_after"], "{report:#}");
            assert!(report["changed"].as_u64().unwrap() > 0, "{report:#}");
            assert!(report["broken_links"].as_array().unwrap().is_empty());
        } else {
            assert_eq!(pinned(root, id), None, "{id} is not pinned");
            assert_eq!(after[id], before[id], "{id}: same deploy, same bundle");
            assert!(!home.contains("Theme two"));
        }
    }
    // CI's canary job builds exactly the moved tenants.
    let cohort = [
        "--json",
        "build",
        "--cohort",
        "default-2",
        "--themes",
        &p.themes,
    ];
    let cohort_build = root.run(&cohort).ok().json();
    assert_eq!(cohort_build["tenants"], 4, "{cohort_build:#}");

    p.rollout(&["advance", "--percent", "50"]).ok();
    let half = moved(&status(root, "default-2"));
    assert_eq!(half.len(), 20);
    assert!(
        first.iter().all(|t| half.contains(t)),
        "the first cohort stays in"
    );

    // Two operators advance at once: one step is taken, the other is told why.
    let races = p.race("75");
    assert_eq!(
        races.iter().filter(|o| o.status.success()).count(),
        1,
        "one advance wins"
    );
    let lost = races.iter().find(|o| !o.status.success()).unwrap();
    let why = String::from_utf8_lossy(&lost.stderr);
    assert!(
        why.contains("being taken") || why.contains("at 75% already"),
        "{why}"
    );
    let s = status(root, "default-2");
    assert_eq!(moved(&s).len(), 30);
    assert_eq!(
        (&s["percent"], &s["state"]),
        (&75.into(), &"running".into()),
        "{s:#}"
    );
    // A step that cannot be taken changes nothing.
    p.rollout(&["advance", "--percent", "50"])
        .fails(1, "at 75% already");
    p.rollout(&["advance", "--tenants", "nosuch"])
        .fails(1, "not an active tenant");
    assert_eq!(status(root, "default-2")["state"], "running");

    // A second rollout of the theme waits for this one.
    let v3 = theme_version(
        root,
        "v3",
        Some((
            "page.html",
            "{% block content %}",
            "{% block content %}{{ page.no_such_field.title }}",
        )),
    );
    assert_eq!(push(root, &v3), 3);
    p.rollout(&["start", "default@3", "--percent", "10"])
        .fails(1, "rollout 'default-2' of the same theme is not finished");

    // Abort: every moved tenant is back on its deploy from before, byte for byte.
    p.rollout(&["abort", "default-2"]).ok();
    assert_eq!(status(root, "default-2")["state"], "aborted");
    assert_eq!(
        snapshot(root, &ids),
        before,
        "old deploys live, old local bundles"
    );
    assert!(
        ids.iter().all(|id| pinned(root, id).is_none()),
        "all follow their channel"
    );
    let served = root.file(&format!("sites/site07/{}", before["site07"].0));
    let files = common::bundle_files(&served);
    assert!(
        files
            .values()
            .all(|b| !String::from_utf8_lossy(b).contains("Theme two"))
    );

    // A version whose pages do not render halts at the first step; nobody changes.
    let halted = p
        .rollout(&["start", "default@3", "--percent", "10"])
        .fails(1, "halted at tenant 'site");
    assert!(
        halted.stderr.contains("the build failed"),
        "{}",
        halted.stderr
    );
    assert!(halted.stderr.contains("no_such_field"), "{}", halted.stderr);
    let s = status(root, "default-3");
    assert_eq!(s["state"], "halted");
    assert!(moved(&s).is_empty());
    assert_eq!(snapshot(root, &ids), before, "no tenant changed");
    assert!(ids.iter().all(|id| pinned(root, id).is_none()));
    p.rollout(&["abort", "default-3"]).ok();

    // A version that links to a page that does not exist halts on the broken link.
    let v4 = with_footer(root, "v4", "<a href=\"/no-such-page/\">Help</a>");
    assert_eq!(push(root, &v4), 4);
    let broken = p
        .rollout(&["start", "default@4", "--tenants", "site03,site04"])
        .fails(1, "broken link");
    assert!(
        broken.stderr.contains("/no-such-page/"),
        "{}",
        broken.stderr
    );
    assert_eq!(snapshot(root, &ids), before, "no tenant changed");
    p.rollout(&["abort"]).ok();

    // One tenant rolled back (or forward) by hand: a pin and a build.
    root.run(&["tenant", "pin", "site05", "--theme", "default@2"])
        .ok();
    root.run(&["build", "site05", "--themes", &p.themes]).ok();
    let home = std::fs::read_to_string(root.file("build/site05/index.html")).unwrap();
    assert!(home.contains("Theme two"));
    root.run(&["tenant", "pin", "site05", "--theme", "default@9"])
        .fails(1, "published: 1, 2, 3, 4");
    root.run(&["tenant", "pin", "site05", "--unpin"]).ok();
    assert_eq!(pinned(root, "site05"), None);
}

#[test]
fn a_rollout_on_a_bucket_root_advances_once_and_aborts() {
    let Some(s3) = Moto::start() else { return };
    let root = Root::s3(&s3, "rollout");
    root.init_multi(20);
    let ids: Vec<String> = (0..5).map(|i| format!("shop{i}")).collect();
    let p = Platform::new(root, &ids);
    let live = |id: &str| -> String {
        let key = format!("rollout/sites/{id}/live.json");
        let l: serde_json::Value =
            serde_json::from_slice(&s3.object(&s3.bucket, &key).unwrap()).unwrap();
        l["deploy"].as_str().unwrap().to_owned()
    };
    let before: Vec<String> = ids.iter().map(|id| live(id)).collect();
    let v2 = with_footer(&p.root, "v2", "<p>Two</p>");
    assert_eq!(push(&p.root, &v2), 2);
    p.rollout(&["start", "default@2", "--percent", "40"]).ok();
    let first = moved(&status(&p.root, "default-2"));
    assert_eq!(first.len(), 2);
    for (id, old) in ids.iter().zip(&before) {
        assert_eq!(&live(id) != old, first.contains(id), "{id}");
    }
    let races = p.race("60");
    assert_eq!(races.iter().filter(|o| o.status.success()).count(), 1);
    assert_eq!(moved(&status(&p.root, "default-2")).len(), 3);
    p.rollout(&["abort"]).ok();
    let after: Vec<String> = ids.iter().map(|id| live(id)).collect();
    assert_eq!(after, before, "every tenant serves its deploy from before");
}
