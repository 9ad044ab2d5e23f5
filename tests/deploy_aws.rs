//! `t8k deploy aws`: the CloudFormation template is current, passes cfn-lint and checkov,
//! deploys into moto's CloudFormation with each function configured as its binary needs and
//! its role exactly the IAM table's; the jobs function runs every scheduled job; the SMTP
//! password comes from Parameter Store.
//!
//! Moto emulates S3, Lambda, IAM, SQS, EventBridge and CloudWatch Logs in stacks, not API
//! Gateway v2 or CloudFront: those are checked in the template itself (routes to the right
//! function), and the CloudFront function under node (tests/edge.rs). Moto cannot run arm64
//! Lambda code, so the stack gets empty packages; the binaries themselves run under the
//! Lambda runtime API in functions/tests/lambda.rs and here (the jobs).

mod common;

#[allow(dead_code)]
#[path = "../functions/tests/runtime_api/mod.rs"]
mod runtime_api;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};
use t8k_functions::iam::{Op, Unit};
use t8k_functions::router::endpoints;

fn checked_in() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/aws/template.json")
}

fn template() -> Value {
    serde_json::from_slice(&std::fs::read(checked_in()).unwrap()).unwrap()
}

/// A Python tool of the test venv (scripts/test.sh installs cfn-lint and checkov there).
fn venv_tool(name: &str) -> Option<std::path::PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/venv/bin")
        .join(name);
    if venv.is_file() {
        Some(venv)
    } else {
        on_path(name)
    }
}

#[test]
fn the_checked_in_template_is_current_and_passes_cfn_lint_and_checkov() {
    let generated = Command::new(bin())
        .args(["deploy", "aws", "--template"])
        .output()
        .unwrap();
    assert!(generated.status.success());
    assert!(
        generated.stdout == std::fs::read(checked_in()).unwrap(),
        "deploy/aws/template.json is stale: run `t8k deploy aws --template > deploy/aws/template.json`"
    );
    let Some(lint) = venv_tool("cfn-lint") else {
        assert!(!needs("cfn-lint (PyPI)", false));
        return;
    };
    let out = Command::new(lint).arg(checked_in()).output().unwrap();
    assert!(
        out.status.success(),
        "cfn-lint: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let Some(checkov) = venv_tool("checkov") else {
        assert!(!needs("checkov (PyPI)", false));
        return;
    };
    // --skip-download: nothing is fetched from Prisma Cloud (no traffic leaves the machine).
    let out = Command::new(checkov)
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "-o",
            "json",
            "-f",
        ])
        .arg(checked_in())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("checkov: {}", String::from_utf8_lossy(&out.stderr)));
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"], 0,
        "checkov findings: {}",
        report["results"]["failed_checks"]
    );
    assert!(summary["passed"].as_u64().unwrap() > 100, "{summary}");
    // Every check that does not apply says why, in the template.
    for skipped in report["results"]["skipped_checks"].as_array().unwrap() {
        let why = skipped["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            why.len() > 20,
            "{} skipped without a reason",
            skipped["check_id"]
        );
    }
}

#[test]
fn every_route_of_the_functions_goes_to_the_function_that_serves_it() {
    let t = template();
    let res = t["Resources"].as_object().unwrap();
    let target_of = |key: &str| {
        res.values()
            .find(|r| r["Type"] == "AWS::ApiGatewayV2::Route" && r["Properties"]["RouteKey"] == key)
            .map(|r| {
                r["Properties"]["Target"]["Fn::Sub"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
    };
    for (e, _) in endpoints() {
        let path = e
            .path
            .split('/')
            .map(|s| match s.strip_prefix("{*") {
                Some(name) => format!("{{{}+}}", name.trim_end_matches('}')),
                None => s.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let key = format!("{} /api{path}", e.method);
        let target = target_of(&key).unwrap_or_else(|| panic!("no route {key}"));
        let integration = target
            .trim_start_matches("integrations/${")
            .trim_end_matches('}');
        let function = &res[integration]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0];
        let name = e.function.binary().trim_start_matches("t8k-");
        assert_eq!(
            function.as_str().unwrap().to_ascii_lowercase(),
            name,
            "{key} goes to {function}"
        );
    }
    assert!(
        target_of("GET /admin/{file+}").is_some(),
        "the browser admin"
    );
    assert!(
        target_of("ANY /api/{rest+}").is_some(),
        "JSON 404s for unknown /api paths"
    );
    // CloudFront: the sites from the bucket through the router function, /api to the API.
    let cdn = &res["Cdn"]["Properties"]["DistributionConfig"];
    let api = cdn["CacheBehaviors"].as_array().unwrap();
    assert!(
        api.iter()
            .any(|b| b["PathPattern"] == "/api/*" && b["TargetOriginId"] == "functions")
    );
    let events: Vec<_> = cdn["DefaultCacheBehavior"]["FunctionAssociations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["EventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["viewer-request", "viewer-response"],
        "rewrite, then HSTS"
    );
    // The functions called asynchronously (queue, schedules) keep what failed (moto's stack
    // drops DeadLetterConfig, so it is checked here).
    for (name, dlq) in [("Build", "BuildDeadLetters"), ("Jobs", "JobsDeadLetters")] {
        let target = &res[name]["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0];
        assert_eq!(target, dlq, "{name}");
    }
    let code = res["Router"]["Properties"]["FunctionCode"]["Fn::Sub"]
        .as_str()
        .unwrap();
    assert!(
        code.contains("cf.kvs('${Routes.Id}')"),
        "the function reads the stack's store"
    );
}

/// The data-root statements a role holds, as (action, key pattern) pairs.
fn granted(policies: &Value, bucket: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for doc in policies.as_array().unwrap() {
        for s in doc["Statement"].as_array().unwrap() {
            let actions: Vec<String> = match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                v => v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect(),
            };
            let resources: Vec<String> = match &s["Resource"] {
                Value::String(r) => vec![r.clone()],
                v => v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            };
            for a in &actions {
                for r in &resources {
                    let prefix = format!("arn:aws:s3:::{bucket}/");
                    if let Some(key) = r.strip_prefix(&prefix) {
                        out.insert((a.clone(), key.to_owned()));
                    } else if r == &format!("arn:aws:s3:::{bucket}") {
                        out.insert((a.clone(), String::new()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_stack_deploys_into_moto_with_each_function_as_its_binary_needs_and_no_more() {
    let Some(moto) = Moto::start() else { return };
    let out = Command::new(python_with_boto3())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/deploy_into_moto.py"))
        .arg(moto.endpoint())
        .arg(checked_in())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stack: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stack["status"], "CREATE_COMPLETE");
    let skipped: Vec<&str> = stack["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for kind in &skipped {
        assert!(
            kind.starts_with("AWS::CloudFront::")
                || kind.starts_with("AWS::ApiGatewayV2::")
                || ["AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"].contains(kind),
            "moto skipped {kind}"
        );
    }
    let outputs = stack["outputs"].as_array().unwrap();
    let output = |k: &str| {
        outputs.iter().find(|o| o["OutputKey"] == k).unwrap()["OutputValue"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let root = output("DataRoot");
    let bucket = root.strip_prefix("s3://").unwrap().to_owned();
    assert_eq!(stack["buckets"]["DataBucket"]["name"], bucket.as_str());
    assert_eq!(
        stack["buckets"]["DataBucket"]["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "AES256"
    );

    let functions = stack["functions"].as_object().unwrap();
    assert_eq!(functions.len(), Unit::ALL.len(), "a function per unit");
    for unit in Unit::ALL {
        let (_, f) = functions
            .iter()
            .find(|(_, f)| {
                f["name"].as_str().unwrap().ends_with(
                    unit.binary()
                        .trim_start_matches("t8k-")
                        .replace("t8k", "jobs")
                        .as_str(),
                )
            })
            .unwrap_or_else(|| panic!("no function for {}", unit.binary()));
        let what = unit.binary();
        assert_eq!(
            (f["runtime"].as_str(), f["handler"].as_str()),
            (Some("provided.al2023"), Some("bootstrap")),
            "{what}"
        );
        let env = &f["environment"];
        assert_eq!(
            env["T8K_ROOT"],
            root.as_str(),
            "{what} reads the stack's data root"
        );
        assert!(
            f["memory"].as_u64().unwrap() >= 128 && f["timeout"].as_u64().unwrap() >= 5,
            "{what}"
        );
        let mails = matches!(what, "t8k-register" | "t8k-admin" | "t8k");
        assert_eq!(
            env["T8K_SMTP_PASSWORD_PARAMETER"].as_str(),
            mails.then_some("/t8k/smtp-password"),
            "{what}: the parameter's name, never the password"
        );
        assert!(!env.as_object().unwrap().contains_key("T8K_SMTP_PASSWORD"));

        // The role: exactly the table's data-root grants, and a bucket-wide list (for 404s).
        let mut want: BTreeSet<(String, String)> = unit
            .grants()
            .iter()
            .filter(|(op, _)| *op != Op::List)
            .flat_map(|(op, keys)| {
                keys.iter()
                    .map(move |k| (op.action().to_owned(), (*k).to_owned()))
            })
            .collect();
        want.insert(("s3:ListBucket".into(), String::new()));
        assert_eq!(granted(&f["policies"], &bucket), want, "{what}'s role");
        let policy = f["policies"].to_string();
        assert!(
            !policy.contains("\"s3:*\"") && !policy.contains("\"*\""),
            "{what}: no wildcard action or resource"
        );
        assert_eq!(policy.contains("ssm:GetParameter"), mails, "{what}");
        assert_eq!(
            policy.contains("BackupBucket") || policy.contains("-backups-"),
            matches!(what, "t8k-users" | "t8k"),
            "{what}: backups"
        );
    }
    let beacon = functions
        .values()
        .find(|f| f["name"].as_str().unwrap().ends_with("-beacon"))
        .unwrap();
    let beacon_writes: BTreeSet<_> = granted(&beacon["policies"], &bucket)
        .into_iter()
        .filter(|(a, _)| a == "s3:PutObject")
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        beacon_writes,
        BTreeSet::from([
            "events/*".to_owned(),
            "config/t8k/analytics-salts.json".to_owned()
        ]),
        "the beacon writes events (and the day's salt), nothing else"
    );
    let auth = functions
        .values()
        .find(|f| f["name"].as_str().unwrap().ends_with("-auth"))
        .unwrap();
    assert!(
        !granted(&auth["policies"], &bucket)
            .iter()
            .any(|(a, k)| a == "s3:PutObject" && k.starts_with("sites/")),
        "the auth function cannot write bundles"
    );

    // Triggers: the queue feeds the builder; each schedule names a job.
    let mapping = &stack["mappings"][0];
    assert!(mapping["source"].as_str().unwrap().ends_with("-builds"));
    assert!(mapping["function"].as_str().unwrap().ends_with("-build"));
    assert_eq!(mapping["responses"], json!(["ReportBatchItemFailures"]));
    assert_eq!(stack["queues"]["BuildQueue"]["DelaySeconds"], "5");
    assert!(
        stack["queues"]["BuildQueue"]["RedrivePolicy"]
            .as_str()
            .unwrap()
            .contains("build-dead-letters")
    );
    let rules = stack["rules"].as_object().unwrap();
    let jobs: BTreeSet<String> = rules
        .values()
        .filter(|r| r["targets"][0]["arn"].as_str().unwrap().ends_with("-jobs"))
        .map(|r| serde_json::from_str::<Value>(r["targets"][0]["input"].as_str().unwrap()).unwrap()["job"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = [
        "rollup", "domains", "usage", "snapshot", "changed", "backup", "routes",
    ]
    .map(String::from)
    .into();
    assert_eq!(jobs, want);
    assert!(
        rules
            .values()
            .all(|r| r["schedule"].as_str().unwrap().starts_with("rate(")
                || r["schedule"].as_str().unwrap().starts_with("cron("))
    );
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
    let port = port.to_string();
    root.run(&[
        "config",
        "smtp",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "none",
        "--username",
        "mailer",
        "--from",
        "ops@example.com",
    ])
    .ok();
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

#[test]
fn deploy_lists_every_step_and_refuses_what_would_make_a_bad_stack() {
    let deploy = |args: &[&str]| {
        Command::new(bin())
            .args([
                "--json",
                "deploy",
                "aws",
                "--domain",
                "example.com",
                "--code-bucket",
                "art",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let out = deploy(&[
        "--stack",
        "t8k-prod",
        "--smtp-password-parameter",
        "/t8k/smtp",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let commands: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap())
        .collect();
    let prefix = plan["code_prefix"].as_str().unwrap();
    assert!(prefix.starts_with("t8k/t8k-prod/"), "{prefix}");
    assert!(commands[0].starts_with(
        "cargo lambda build --release --arm64 --output-format zip -p t8k-functions --include themes"
    ));
    for unit in Unit::ALL {
        let upload = format!(
            "target/lambda/{0}/bootstrap.zip s3://art/{prefix}{0}.zip",
            unit.binary()
        );
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with("aws s3 cp") && c.ends_with(&upload)),
            "{upload}"
        );
    }
    let stack = commands
        .iter()
        .find(|c| c.starts_with("aws cloudformation deploy"))
        .unwrap();
    for part in [
        "--stack-name t8k-prod",
        "--capabilities CAPABILITY_IAM",
        "Domain=example.com",
        "SmtpPasswordParameter=/t8k/smtp",
        "CodeBucket=art",
    ] {
        assert!(stack.contains(part), "{part} in {stack}");
    }
    let template = std::fs::read(plan["template"].as_str().unwrap()).unwrap();
    assert_eq!(
        template,
        std::fs::read(checked_in()).unwrap(),
        "the stack gets this binary's template"
    );
    for (args, needle) in [
        (vec!["--stack", "T8K-Prod"], "lower-case letters"),
        (
            vec![
                "--stack",
                "t8k-prod",
                "--smtp-password-parameter",
                "hunter2",
            ],
            "not the password",
        ),
    ] {
        let refused = deploy(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(needle),
            "{args:?}"
        );
    }
}

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
