//! The tenant lifecycle through the real `t8k` binary: init, create, list, show, activate,
//! quotas, delete to trash and restore, and the refusals users rely on.

mod common;

use common::{PASSWORD, Root};

#[test]
fn init_writes_the_tractstack_registry_and_refuses_a_second_init() {
    let root = Root::new();
    root.init_multi(100);
    let reg = root.registry();
    for field in [
        "max_tenants",
        "default_quota",
        "enable_custom_domains",
        "require_email_verification",
        "auto_ssl",
        "tenants",
    ] {
        assert!(
            reg.get(field).is_some(),
            "tenants.json lacks {field}: {reg}"
        );
    }
    assert_eq!(reg["max_tenants"], 100);
    assert_eq!(reg["default_quota"], "1GB");
    root.run(&["init", "--multi", "--domain", "other.com"])
        .fails(1, "already exists");
    assert_eq!(
        root.registry()["domain"],
        "example.com",
        "second init changed nothing"
    );
    let other = Root::new();
    other
        .run(&["init", "--multi", "--domain", "https://example.com/"])
        .fails(1, "bare host name");
    assert!(!other.path().join("config").exists());
}

#[test]
fn create_writes_registry_env_json_database_and_media() {
    let root = Root::new();
    root.init_multi(100);
    let out = root
        .run(&[
            "--json",
            "tenant",
            "create",
            "Acme",
            "--name",
            "Acme Bakery",
            "--email",
            "owner@acme.test",
            "--admin-password-file",
            root.password_file().to_str().unwrap(),
        ])
        .ok();
    assert_eq!(out.json()["id"], "acme", "input is lowercased");
    let reg = root.registry();
    let entry = &reg["tenants"][0];
    assert_eq!(
        (
            entry["id"].as_str(),
            entry["domain"].as_str(),
            entry["active"].as_bool(),
            entry["status"].as_str()
        ),
        (
            Some("acme"),
            Some("acme.example.com"),
            Some(true),
            Some("active")
        )
    );
    assert!(entry["created"].as_str().unwrap().ends_with('Z'));

    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.file("config/acme/env.json")).unwrap()).unwrap();
    for field in [
        "TENANT_ID",
        "SITE_URL",
        "SITE_NAME",
        "HOME_SLUG",
        "ADMIN_PASSWORD_HASH",
        "EDITOR_PASSWORD_HASH",
        "STORAGE_QUOTA",
        "MAX_PAGES",
        "MAX_USERS",
        "SIGNING_SECRET",
        "THEME",
    ] {
        assert!(env.get(field).is_some(), "env.json lacks {field}");
    }
    assert_eq!(env["SITE_URL"], "https://acme.example.com");
    assert!(
        env["ADMIN_PASSWORD_HASH"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert_eq!(env["EDITOR_PASSWORD_HASH"], "", "editor disabled until set");
    assert_eq!(env["SIGNING_SECRET"].as_str().unwrap().len(), 64);
    assert!(root.file("media/acme").is_dir());

    // The clear-text password is nowhere in the data root.
    for entry in walkdir(root.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "{} holds the password",
            entry.display()
        );
    }

    // Starter content: a home story fragment (exported as home.md) with several panes, in a menu.
    let db = rusqlite_free_query(&root.file("db/acme/site.db"));
    assert!(db.contains("title = \"Acme Bakery\""), "{db}");

    let show = root.run(&["--json", "tenant", "show", "acme"]).ok().json();
    assert_eq!(show["usage"]["pages"], 1);
    assert_eq!(show["usage"]["users"], 1);
    assert!(
        show.get("signing_secret").is_none() && !show.to_string().contains("argon2"),
        "show never prints secrets"
    );
}

fn walkdir(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(p))
        } else {
            out.push(p)
        }
    }
    out
}

/// Exports the tenant's pages through the CLI rather than opening SQLite from the test.
fn rusqlite_free_query(db: &std::path::Path) -> String {
    assert!(db.is_file(), "{} missing", db.display());
    let root = db.parent().unwrap().parent().unwrap().parent().unwrap();
    let out = std::process::Command::new(common::bin())
        .args([
            "--root",
            root.to_str().unwrap(),
            "content",
            "export",
            "acme",
        ])
        .arg(root.parent().unwrap().join("export"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let home = std::fs::read_to_string(root.parent().unwrap().join("export/home.md")).unwrap();
    assert_eq!(home.matches("<!-- t8k:pane").count(), 3, "{home}");
    assert!(home.contains("menu = \"main\""), "{home}");
    home
}

#[test]
fn names_are_validated_with_the_rule_named() {
    let root = Root::new();
    root.init_multi(100);
    for (name, rule) in [
        ("www", "reserved"),
        ("ab", "length"),
        ("acme_co", "characters"),
        ("acme-", "hyphen"),
        ("xn--80ak6aa92e", "punycode"),
        ("аcme", "characters"),
        ("acme.co", "characters"),
    ] {
        root.create(name).fails(1, rule);
    }
    assert!(root.listed_ids().is_empty());
    root.create("acme").ok();
    root.create("ACME").fails(1, "already taken");
}

#[test]
fn passwords_on_the_command_line_are_refused_with_a_hint() {
    let root = Root::new();
    root.init_multi(100);
    root.run(&[
        "tenant",
        "create",
        "acme",
        "--name",
        "A",
        "--email",
        "a@b.co",
        "--admin-password",
        "hunter22",
    ])
    .fails(2, "--admin-password-file");
    root.run(&[
        "tenant", "create", "acme", "--name", "A", "--email", "a@b.co",
    ])
    .fails(2, "--admin-password-stdin");
    assert!(root.listed_ids().is_empty(), "nothing created");
    root.run_stdin(
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "A",
            "--email",
            "a@b.co",
            "--admin-password-stdin",
        ],
        "short\n",
    )
    .fails(1, "at least 8");
    root.run_stdin(
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "A",
            "--email",
            "a@b.co",
            "--admin-password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .ok();
    root.run_stdin(
        &["user", "verify", "acme", "admin", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    )
    .ok();
    root.run_stdin(
        &["user", "verify", "acme", "admin", "--password-stdin"],
        "wrong password\n",
    )
    .fails(1, "wrong");
}

#[test]
fn activate_deactivate_delete_restore() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.run(&["tenant", "deactivate", "acme"]).ok();
    assert_eq!(root.registry()["tenants"][0]["active"], false);
    assert_eq!(root.registry()["tenants"][0]["status"], "inactive");
    assert!(
        root.file("db/acme/site.db").is_file(),
        "deactivation keeps data"
    );
    root.run(&["tenant", "activate", "acme"]).ok();
    assert_eq!(root.registry()["tenants"][0]["active"], true);

    root.run(&["tenant", "delete", "acme"]).fails(2, "--yes");
    assert_eq!(root.listed_ids(), ["acme"]);
    let trash = root
        .run(&["--json", "tenant", "delete", "acme", "--yes"])
        .ok()
        .json()["trash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(root.listed_ids().is_empty());
    assert!(!root.file("db/acme").exists() && !root.file("config/acme").exists());
    assert!(
        root.file(&format!("{trash}/db/site.db")).is_file(),
        "data kept in the trash"
    );
    root.run(&["tenant", "show", "acme"])
        .fails(1, "does not exist");

    root.run(&["tenant", "restore", "acme"]).ok();
    assert_eq!(root.listed_ids(), ["acme"]);
    root.run_stdin(
        &["user", "verify", "acme", "admin", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    )
    .ok();
    root.run(&["tenant", "restore", "acme"])
        .fails(1, "nothing to restore");
}

#[test]
fn restore_refuses_a_name_taken_meanwhile() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    root.create("acme").ok();
    root.run(&["tenant", "restore", "acme"])
        .fails(1, "already taken");
    assert_eq!(
        root.run(&["--json", "tenant", "trash"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1,
        "the trashed copy stays"
    );
}

#[test]
fn quotas_are_reported_and_lowering_below_usage_needs_force() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    let u = root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    assert_eq!(
        (u["pages"].as_u64(), u["users"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(u["storage"]["db_bytes"].as_u64().unwrap() > 0);
    assert_eq!(u["limits"]["max_pages"], 100);

    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--storage",
        "2GB",
        "--pages",
        "200",
        "--users",
        "10",
    ])
    .ok();
    let u = root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    assert_eq!(
        (
            u["limits"]["storage_quota"].as_str(),
            u["limits"]["max_pages"].as_u64(),
            u["limits"]["max_users"].as_u64()
        ),
        (Some("2GB"), Some(200), Some(10))
    );
    root.run(&["tenant", "set-quota", "acme", "--storage", "lots"])
        .fails(1, "1GB");
    root.run(&["tenant", "set-quota", "acme", "--pages", "0"])
        .fails(1, "below current usage");
    root.run(&["tenant", "set-quota", "acme", "--storage", "1kB"])
        .fails(1, "below current usage");
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["limits"]["max_pages"],
        200,
        "refusals change nothing"
    );
    root.run(&["tenant", "set-quota", "acme", "--pages", "0", "--force"])
        .ok();
}

#[test]
fn users_count_against_max_users_and_verify_through_one_path() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.run(&["tenant", "set-quota", "acme", "--users", "3"])
        .ok();
    let pw = root.password_file();
    let pw = pw.to_str().unwrap();
    root.run(&["user", "add", "acme", "jo", "--password-file", pw])
        .ok();
    root.run(&["user", "passwd", "acme", "editor", "--password-file", pw])
        .ok();
    // admin + editor + jo = 3 = MAX_USERS
    root.run(&["user", "add", "acme", "sam", "--password-file", pw])
        .fails(1, "MAX_USERS is 3");
    let users = root.run(&["--json", "user", "list", "acme"]).ok().json();
    assert_eq!(
        users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["enabled"] == true)
            .count(),
        3
    );
    for user in ["admin", "editor", "jo"] {
        root.run(&["user", "verify", "acme", user, "--password-file", pw])
            .ok();
    }
    root.run(&["user", "disable", "acme", "jo"]).ok();
    root.run(&["user", "verify", "acme", "jo", "--password-file", pw])
        .fails(1, "wrong");
    root.run(&["user", "verify", "acme", "nobody", "--password-file", pw])
        .fails(1, "wrong");
}

#[test]
fn env_overrides_are_honoured_and_reported() {
    let root = Root::new();
    root.init_multi(100);
    let cfg = root
        .cmd(&["--json", "config"])
        .env("MAX_TENANTS", "2")
        .output()
        .unwrap();
    let cfg: serde_json::Value = serde_json::from_slice(&cfg.stdout).unwrap();
    assert_eq!(cfg["settings"]["max_tenants"]["value"], 2);
    assert_eq!(cfg["settings"]["max_tenants"]["source"], "env");
    assert_eq!(cfg["settings"]["enable_multi_tenant"]["source"], "file");

    let create = |id: &str| {
        let args = root.create_args(id);
        root.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .env("MAX_TENANTS", "2")
            .output()
            .unwrap()
    };
    assert!(create("one").status.success());
    assert!(create("two").status.success());
    let third = create("three");
    assert_eq!(third.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&third.stderr).contains("max_tenants is 2"));

    let bad = root
        .cmd(&["config"])
        .env("ENABLE_MULTI_TENANT", "perhaps")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ENABLE_MULTI_TENANT"));
}

#[test]
fn a_bad_setting_in_the_environment_is_refused_by_name_before_anything_runs() {
    let root = Root::new();
    root.init_multi(10);
    for (var, value, form) in [
        ("T8K_DECODE_BUDGET", "lots", "500MB"),
        ("T8K_SIGNUPS_PER_IP_HOUR", "0", "above 0"),
        ("T8K_VERIFY_TTL_SECS", "two days", "whole number"),
        ("T8K_TRACK_LOCALHOST", "yes", "1 nor 0"),
        ("T8K_LOG", "t8k=loud", "log filter"),
    ] {
        let out = root
            .cmd(&["tenant", "list"])
            .env(var, value)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{var}={value} was accepted");
        assert!(
            err.contains(var) && err.contains(form),
            "{var}={value}: {err}"
        );
    }
    let ok = root
        .cmd(&["tenant", "list"])
        .env("T8K_DECODE_BUDGET", "64MiB")
        .output()
        .unwrap();
    assert!(ok.status.success(), "a good value is taken");
}

#[test]
fn single_tenant_mode_holds_exactly_one_tenant() {
    let root = Root::new();
    let pw = root.password_file();
    root.run(&["init", "--domain", "mysite.com"])
        .fails(2, "--name");
    root.run(&[
        "init",
        "--domain",
        "mysite.com",
        "--name",
        "My Site",
        "--email",
        "me@mysite.com",
        "--admin-password-file",
        pw.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(root.listed_ids(), ["default"]);
    assert_eq!(root.registry()["tenants"][0]["domain"], "mysite.com");
    root.create("second").fails(1, "multi-tenant mode is off");
}

#[test]
fn commands_without_an_installation_say_how_to_make_one() {
    let root = Root::new();
    root.run(&["tenant", "list"]).fails(1, "t8k init");
    let out = std::process::Command::new(common::bin())
        .args(["--root", "ftp://bucket/x", "tenant", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("local directory"));
}

#[test]
fn routes_json_follows_activation_and_deletion_before_any_publish() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build"]).ok();
    root.run(&["publish"]).ok();
    let route = || -> serde_json::Value {
        let routes: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.file("routes.json")).unwrap()).unwrap();
        routes["routes"]["acme.example.com"].clone()
    };
    assert_eq!(route()["active"], true);
    root.run(&["tenant", "deactivate", "acme"]).ok();
    assert_eq!(route()["active"], false, "a CDN must stop serving it now");
    root.run(&["tenant", "activate", "acme"]).ok();
    assert_eq!(route()["active"], true);
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    assert!(route().is_null(), "its hosts are gone");
    root.run(&["tenant", "restore", "acme"]).ok();
    assert_eq!(route()["active"], true, "and back with a restore");
}

#[test]
fn completions_and_manual_pages_cover_every_subcommand() {
    let root = Root::new();
    let bash = root.run(&["completions", "bash"]).ok().stdout;
    for word in ["tenant", "set-quota", "--admin-password-file", "rollback"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    for shell in ["zsh", "fish"] {
        assert!(
            root.run(&["completions", shell])
                .ok()
                .stdout
                .contains("set-quota")
        );
    }
    root.run(&["completions", "tcsh"])
        .fails(2, "possible values");
    assert!(root.run(&["man"]).ok().stdout.contains(".TH t8k 1"));
    let dir = root.path().join("man1");
    root.run(&["man", "--out", dir.to_str().unwrap()]).ok();
    let page = std::fs::read_to_string(dir.join("t8k-tenant-create.1")).unwrap();
    assert!(page.contains("admin\\-password\\-file"), "{page}");
    assert!(!root.path().join("config").exists(), "no data root touched");
}

#[test]
fn tenant_list_pages_in_id_order_and_says_how_to_go_on() {
    let root = Root::new();
    root.init_multi(10);
    for id in ["zeta", "acme", "mint"] {
        root.create(id).ok();
    }
    let all = root.run(&["--json", "tenant", "list"]).ok().json();
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["acme", "mint", "zeta"],
        "without --limit: the whole list, an array"
    );
    let first = root
        .run(&["--json", "tenant", "list", "--limit", "2"])
        .ok()
        .json();
    assert_eq!(first["tenants"].as_array().unwrap().len(), 2, "{first}");
    assert_eq!(first["next"], "mint");
    let rest = root
        .run(&[
            "--json", "tenant", "list", "--limit", "2", "--after", "mint",
        ])
        .ok()
        .json();
    assert_eq!(rest["tenants"][0]["id"], "zeta");
    assert!(rest["next"].is_null(), "the last page: {rest}");
    let human = root.run(&["tenant", "list", "--limit", "1"]).ok().stdout;
    assert!(human.contains("--after acme"), "{human}");
    root.run(&["tenant", "list", "--limit", "0"])
        .fails(1, "1 or more");
}
