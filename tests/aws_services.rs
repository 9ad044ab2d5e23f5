//! The AWS services t8k talks to besides S3, each against a real or stand-in server: the
//! jobs function (`t8k` under the Lambda runtime API) runs every scheduled job; the SMTP
//! password comes from Parameter Store (moto's); `t8k edge cloudfront --sync` keeps the
//! CloudFront KeyValueStore current (a stand-in of its API, tests/aws/kvs_standin.py: the
//! service cannot run here and moto does not emulate it).

mod common;

#[allow(dead_code)]
#[path = "../functions/tests/runtime_api/mod.rs"]
mod runtime_api;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

const ROUTES_ARN: &str = "arn:aws:cloudfront::123456789012:key-value-store/t8k-routes";

/// Credentials for a stand-in (the SDK signs every request; nothing checks the signature).
fn fake_aws() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ]
}

/// The KeyValueStore stand-in (tests/aws/kvs_standin.py: CloudFront's KeyValueStore cannot
/// run here and moto does not emulate it), logging each request to `log`.
fn kvs_standin(log: &Path, conflict_once: bool) -> (std::process::Child, u16) {
    let port = free_port();
    let mut c = Command::new(python_with_boto3());
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/kvs_standin.py"))
        .arg(port.to_string())
        .arg(log);
    if conflict_once {
        c.arg("--conflict-once");
    }
    let child = c.stdout(Stdio::null()).spawn().unwrap();
    assert!(eventually(20, || std::net::TcpStream::connect((
        "127.0.0.1",
        port
    ))
    .is_ok()));
    (child, port)
}

/// What the stand-in holds now.
fn stored(port: u16) -> std::collections::BTreeMap<String, String> {
    let path = format!("/key-value-stores/{ROUTES_ARN}/keys?MaxResults=1000");
    let items = get(port, "127.0.0.1", &path).json()["Items"].clone();
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["Key"].as_str().unwrap().to_owned(),
                i["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The updates the stand-in received, as (puts, deletes) each.
fn updates(log: &Path) -> Vec<(usize, usize)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["method"] == "POST")
        .map(|r| {
            let n = |k: &str| r["body"][k].as_array().map_or(0, Vec::len);
            (n("Puts"), n("Deletes"))
        })
        .collect()
}

#[test]
fn sync_makes_the_key_value_store_hold_exactly_the_edges_rows_sending_only_changes() {
    let (root, _srv) = published();
    let log = root.dir.path().join("kvs.jsonl");
    let (mut kvs, port) = kvs_standin(&log, true);
    let out = root.dir.path().join("cloudfront");
    let sync = || {
        let mut c = root.cmd(&[
            "--json",
            "edge",
            "cloudfront",
            "--out",
            out.to_str().unwrap(),
            "--kvs-id",
            ROUTES_ARN,
            "--sync",
        ]);
        c.envs(fake_aws())
            .env("T8K_KVS_ENDPOINT", format!("http://127.0.0.1:{port}"));
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let rows = |dir: &Path| -> std::collections::BTreeMap<String, String> {
        let file: Value =
            serde_json::from_slice(&std::fs::read(dir.join("kvs.json")).unwrap()).unwrap();
        file["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["key"].as_str().unwrap().to_owned(),
                    e["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    // First sync: everything is new; a concurrent writer (412) makes it start over.
    let first = sync();
    let want = rows(&out);
    assert!(want.len() >= 4, "{want:?}");
    assert_eq!(
        (first["put"].as_u64(), first["deleted"].as_u64()),
        (Some(want.len() as u64), Some(0))
    );
    assert_eq!(
        stored(port),
        want,
        "the store holds exactly kvs.json's rows"
    );
    let sent = updates(&log);
    assert_eq!(
        sent.len(),
        2,
        "the batch that met a concurrent write, then the retry: {sent:?}"
    );

    // A deactivation changes one row: one put, nothing else sent.
    root.run(&["tenant", "deactivate", "bobs"]).ok();
    let second = sync();
    assert_eq!(
        (second["put"].as_u64(), second["deleted"].as_u64()),
        (Some(1), Some(0)),
        "{second}"
    );
    assert_eq!(second["unchanged"].as_u64(), Some(want.len() as u64 - 1));
    assert!(stored(port)["bobs.example.com"].starts_with("0 "));
    assert_eq!(updates(&log).last(), Some(&(1, 0)));

    // A row the edge no longer has is deleted; nothing changed sends nothing.
    root.run(&["domain", "remove", "acme", "shop.acme.test"])
        .ok();
    let third = sync();
    assert!(third["deleted"].as_u64().unwrap() >= 1, "{third}");
    assert_eq!(stored(port), rows(&out));
    let before = updates(&log).len();
    let idle = sync();
    assert_eq!(
        (idle["put"].as_u64(), idle["deleted"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        updates(&log).len(),
        before,
        "no update when nothing changed"
    );

    // --sync needs the store's ARN.
    let refused = root
        .cmd(&[
            "edge",
            "cloudfront",
            "--out",
            out.to_str().unwrap(),
            "--sync",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ARN"));
    let _ = kvs.kill();
}

#[test]
fn the_jobs_function_runs_each_scheduled_job_and_refuses_any_other() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = repo_dir.path().join("backups");
    root.run(&["backup", "init", "--to", repo.to_str().unwrap()])
        .ok();
    let logs = tempfile::tempdir().unwrap();
    let kvs_log = root.dir.path().join("kvs.jsonl");
    let (mut kvs, kvs_port) = kvs_standin(&kvs_log, false);
    let endpoint = format!("http://127.0.0.1:{kvs_port}");
    let mut lambda = runtime_api::RuntimeApi::start();
    let mut env = fake_aws();
    env.extend([
        ("T8K_EDGE_LOGS", logs.path().to_str().unwrap()),
        ("T8K_ROUTES_STORE", ROUTES_ARN),
        ("T8K_KVS_ENDPOINT", endpoint.as_str()),
    ]);
    lambda.exec(bin(), &root.path(), &env);
    // `changed` publishes before `routes` puts the live deploys in the store.
    for job in [
        "rollup", "domains", "usage", "snapshot", "changed", "backup", "routes",
    ] {
        let (kind, answer) = lambda.invoke(json!({"job": job}));
        assert_eq!(kind, "response", "{job}: {answer}");
        assert_eq!(answer["job"], job);
        assert!(!answer["ran"].as_array().unwrap().is_empty());
    }
    // What the jobs did: a snapshot of acme in the repository, its site published.
    let listed = root.run(&["--json", "backup", "list"]).ok().json();
    assert!(listed.to_string().contains("acme"), "{listed}");
    assert!(
        root.file("sites/acme/live.json").is_file(),
        "changed: built and published"
    );
    let rows = stored(kvs_port);
    let _ = kvs.kill();
    assert!(
        rows.get("acme.example.com")
            .is_some_and(|v| v.starts_with("1 acme/")),
        "routes: acme's live deploy is in the store: {rows:?}"
    );
    let (kind, answer) = lambda.invoke(json!({"job": "tenant delete acme"}));
    assert_eq!(kind, "error");
    assert!(
        answer.to_string().contains("the jobs are rollup"),
        "{answer}"
    );
    assert!(root.entry("acme").is_some());
}

/// An SMTP server that wants a login (aiosmtpd, no TLS), writing each login to `log`.
fn smtp_with_login(log: &Path) -> (std::process::Child, u16) {
    let port = free_port();
    let child = Command::new(python_with_boto3())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/smtp_login.py"))
        .arg(port.to_string())
        .arg(log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(20, || std::net::TcpStream::connect((
        "127.0.0.1",
        port
    ))
    .is_ok()));
    (child, port)
}

#[test]
fn the_smtp_password_comes_from_parameter_store_never_the_template() {
    let Some(moto) = Moto::start() else { return };
    let put = "import boto3,sys; boto3.client('ssm', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t').put_parameter(Name='/t8k/smtp-password', Value='from-parameter-store', Type='SecureString')";
    let ok = Command::new(python_with_boto3())
        .args(["-c", put, &moto.endpoint()])
        .status()
        .unwrap();
    assert!(ok.success());
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let logins = root.dir.path().join("logins.jsonl");
    let (mut server, port) = smtp_with_login(&logins);
    root.use_smtp_as(port, Some("mailer"));
    let notice = |parameter: &str| {
        let mut c = root.cmd(&[
            "notice",
            "create",
            "--message",
            "Upgrade",
            "--starts",
            "now",
            "--ends",
            "2099-01-01T00:00:00Z",
            "--tenants",
            "acme",
        ]);
        c.envs(moto.env())
            .env("T8K_SMTP_PASSWORD_PARAMETER", parameter)
            .env_remove("T8K_SMTP_PASSWORD");
        c.output().unwrap()
    };
    let missing = notice("/t8k/no-such-parameter");
    assert!(!missing.status.success());
    let why = String::from_utf8_lossy(&missing.stderr);
    assert!(
        why.contains("/t8k/no-such-parameter") && why.contains("aws ssm put-parameter"),
        "{why}"
    );
    let sent = notice("/t8k/smtp-password");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let seen = std::fs::read_to_string(&logins).unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        seen.contains(r#""user": "mailer", "password": "from-parameter-store""#),
        "the SMTP server saw: {seen}"
    );
}
