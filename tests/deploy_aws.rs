//! `t8k deploy aws`: the CloudFormation template is current, passes cfn-lint and checkov, and
//! deploys into moto's CloudFormation with each function configured as its binary needs and
//! its role exactly the IAM table's (the services it uses: tests/aws_services.rs).
//!
//! Moto emulates S3, Lambda, IAM, SQS, EventBridge and CloudWatch Logs in stacks, not API
//! Gateway v2 or CloudFront: those are checked in the template itself (routes to the right
//! function), and the CloudFront function under node (tests/edge.rs). Moto cannot run arm64
//! Lambda code, so the stack gets empty packages; the binaries themselves run under the
//! Lambda runtime API in functions/tests/lambda.rs and tests/aws_services.rs (the jobs).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

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
