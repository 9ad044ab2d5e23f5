//! `t8k install --systemd`: the units a server runs t8k with pass `systemd-analyze verify`
//! (every directive parsed, every command found) and score "OK" in `systemd-analyze security`.

mod common;

use std::process::Command;

/// `t8k --root ROOT install --systemd --out OUT ARGS`, with its exit code, stdout and stderr.
fn install(root: &str, out: &str, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(common::bin())
        .args([
            "--json",
            "--root",
            root,
            "install",
            "--systemd",
            "--out",
            out,
        ])
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

/// `systemd-analyze security`'s overall exposure of a unit file (0 best, 10 worst).
fn exposure(unit: &std::path::Path) -> f64 {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no score for {}: {text}", unit.display()));
    line.split(": ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_units_of_one_server_verify_and_are_hardened() {
    let found = common::on_path("systemd-analyze").is_some();
    if !common::needs("systemd-analyze (the systemd package)", found) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("units");
    let out_arg = out.to_str().unwrap();
    let (code, stdout, stderr) = install("/var/lib/t8k", out_arg, &["--backups"]);
    assert_eq!(code, 0, "{stderr}");
    let made: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let files: Vec<String> = serde_json::from_value(made["files"].clone()).unwrap();
    for unit in ["serve", "worker", "edge"] {
        assert!(files.contains(&format!("t8k-{unit}.service")), "{files:?}");
    }
    for job in [
        "rollup", "domains", "certs", "usage", "snapshot", "changed", "backup",
    ] {
        assert!(files.contains(&format!("t8k-{job}.service")), "{job}");
        assert!(files.contains(&format!("t8k-{job}.timer")), "{job}");
    }
    let units: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|f| {
            [".service", ".timer", ".path"]
                .iter()
                .any(|e| f.ends_with(e))
        })
        .map(|f| out.join(f))
        .collect();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && complaints.trim().is_empty(),
        "{complaints}"
    );

    for unit in ["serve", "worker", "edge", "usage", "changed"] {
        let score = exposure(&out.join(format!("t8k-{unit}.service")));
        assert!(
            score <= 2.0,
            "t8k-{unit}.service exposure {score} (OK is at most 2)"
        );
    }
    // The one unit that runs as root (nginx takes a reload only from root) is fenced too.
    let reload = exposure(&out.join("t8k-nginx-reload.service"));
    assert!(reload <= 2.5, "t8k-nginx-reload.service exposure {reload}");
    let serve = std::fs::read_to_string(out.join("t8k-serve.service")).unwrap();
    let exec = format!(
        "ExecStart={} --root /var/lib/t8k serve --bind 127.0.0.1",
        common::bin()
    );
    assert!(serve.contains(&exec), "{serve}");
    for line in [
        "User=t8k",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/t8k\n",
    ] {
        assert!(serve.contains(line), "{line}: {serve}");
    }
    let tmpfiles = std::fs::read_to_string(out.join("t8k.tmpfiles.conf")).unwrap();
    assert!(
        tmpfiles.contains("d /var/lib/t8k 0700 t8k t8k"),
        "a private data root"
    );
    assert!(
        tmpfiles.contains("d /var/lib/t8k-sites 0755 t8k t8k"),
        "sites nginx reads"
    );

    let (_, again, _) = install("/var/lib/t8k", out_arg, &["--backups"]);
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        again["changed"], false,
        "the same units again change nothing"
    );

    for (root, args, why) in [
        ("/var/lib/t8k", &["--user", "root"][..], "a user of its own"),
        (
            "/var/lib/t8k",
            &["--sites", "/var/lib/t8k/sites"],
            "outside --root",
        ),
        (
            "/var/lib/t8k",
            &["--nginx-dir", "etc/nginx"],
            "absolute path",
        ),
        ("s3://b/p", &[], "local data root"),
    ] {
        let (code, _, stderr) = install(root, out_arg, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
}
