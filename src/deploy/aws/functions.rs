//! The Lambda functions: one per unit of [`t8k_functions::iam`], each with a role written
//! from that table, a log group, and what invokes it (the HTTP API, the build queue, the
//! schedules).

use serde_json::{Map, Value, json};
use t8k_functions::iam::{Op, Unit};
use t8k_functions::router::Function;

use super::cfn::{att, nothing, pascal, r, skips, sub, when};
use super::storage::DATA_BUCKET;

pub const BUILD_TIMEOUT: u64 = 300;

/// How a function is sized, and why.
pub struct Sizing {
    pub memory_mb: u64,
    pub timeout_s: u64,
    pub why: &'static str,
}

/// Memory (which buys CPU: 1,769 MB is one vCPU) and time for each unit.
pub fn sizing(unit: Unit) -> Sizing {
    let s = |memory_mb, timeout_s, why| Sizing {
        memory_mb,
        timeout_s,
        why,
    };
    match unit {
        Unit::Http(Function::Auth | Function::Register | Function::Users) => s(
            512,
            15,
            "Argon2id (19 MiB, t=2) per login, sign-up or new user: a login measured 28 ms and 35–54 MiB peak on a full core; 512 MB is 0.29 vCPU, so about 100 ms",
        ),
        Unit::Http(Function::Content) => s(
            1024,
            30,
            "uploads are decoded in full to check them (up to 256 MiB of pixels; a 6-megapixel photo peaked at 34 MiB), within T8K_DECODE_BUDGET (384 MiB here)",
        ),
        Unit::Http(Function::Admin) => s(
            512,
            30,
            "the operator's report opens each tenant's databases",
        ),
        Unit::Http(Function::Quota) => s(
            256,
            10,
            "reads a tenant's usage (its databases, cached in /tmp): 22 MiB peak measured",
        ),
        Unit::Http(Function::Beacon) => s(
            128,
            5,
            "writes one event: 0.8 ms warm, 22 MiB peak measured",
        ),
        Unit::Build => s(
            2048,
            BUILD_TIMEOUT,
            "rayon renders pages and image variants on every vCPU it has (1.16 at 2,048 MB)",
        ),
        Unit::Jobs => s(
            1024,
            900,
            "the rollup, backups and usage walk every tenant; 15 minutes is Lambda's longest run",
        ),
    }
}

/// The logical name of a unit's resources (`Auth`, `Build`, `Jobs`, …).
pub fn logical(unit: Unit) -> String {
    let name = unit.binary().trim_start_matches("t8k-");
    pascal(if name == "t8k" { "jobs" } else { name })
}

/// Units that send mail, and so read the SMTP password from Parameter Store.
fn mails(unit: Unit) -> bool {
    matches!(
        unit,
        Unit::Http(Function::Register | Function::Admin) | Unit::Jobs
    )
}

/// The role's data-root statements, from the table.
fn data_statements(unit: Unit) -> Vec<Value> {
    let mut out = vec![];
    for op in [Op::Read, Op::Write, Op::Delete] {
        let keys: Vec<Value> = unit
            .grants()
            .iter()
            .filter(|(o, _)| *o == op)
            .flat_map(|(_, patterns)| patterns.iter())
            .map(|p| sub(&format!("arn:${{AWS::Partition}}:s3:::{DATA_BUCKET}/{p}")))
            .collect();
        if !keys.is_empty() {
            let sid = format!("Data{op:?}");
            out.push(
                json!({"Sid": sid, "Effect": "Allow", "Action": op.action(), "Resource": keys}),
            );
        }
    }
    // ListBucket is granted on the bucket as a whole: without it S3 answers a read of a
    // missing object with 403 instead of 404, and t8k reads missing objects on purpose
    // (create-if-absent). The prefixes each unit lists are in the table and tested.
    out.push(json!({
        "Sid": "DataList", "Effect": "Allow", "Action": "s3:ListBucket",
        "Resource": sub(&format!("arn:${{AWS::Partition}}:s3:::{DATA_BUCKET}"))
    }));
    out
}

/// What a unit needs besides the data root.
fn other_statements(unit: Unit) -> Vec<Value> {
    let logs = json!({
        "Sid": "Logs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": att(&format!("{}Logs", logical(unit)), "Arn")
    });
    let mut out = vec![logs];
    if mails(unit) {
        let read = json!({
            "Sid": "SmtpPassword", "Effect": "Allow", "Action": "ssm:GetParameter",
            "Resource": sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SmtpPasswordParameter}")
        });
        out.push(when("HasSmtp", read, nothing()));
    }
    let backups = |sid: &str, actions: &[&str]| {
        json!({"Sid": sid, "Effect": "Allow", "Action": actions,
               "Resource": [att("BackupBucket", "Arn"), sub("${BackupBucket.Arn}/*")]})
    };
    match unit {
        // A tenant admin's backup page lists the repository's snapshots.
        Unit::Http(Function::Users) => {
            out.push(backups("BackupsRead", &["s3:GetObject", "s3:ListBucket"]))
        }
        Unit::Build => {
            out.push(json!({
                "Sid": "BuildQueue", "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
                "Resource": att("BuildQueue", "Arn")
            }));
            out.push(dead_letters("BuildDeadLetters"));
        }
        Unit::Jobs => {
            out.push(backups(
                "Backups",
                &[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:ListBucket",
                ],
            ));
            out.push(json!({
                "Sid": "EdgeLogs", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [att("LogsBucket", "Arn"), sub("${LogsBucket.Arn}/cloudfront/*")]
            }));
            out.push(json!({
                "Sid": "Routes", "Effect": "Allow",
                "Action": ["cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:ListKeys", "cloudfront-keyvaluestore:UpdateKeys"],
                "Resource": sub("${Routes.Arn}")
            }));
            out.push(dead_letters("JobsDeadLetters"));
        }
        _ => {}
    }
    out
}

fn dead_letters(queue: &str) -> Value {
    json!({"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": att(queue, "Arn")})
}

fn role(unit: Unit) -> Value {
    let mut statements = data_statements(unit);
    statements.extend(other_statements(unit));
    json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"
        }]},
        "Policies": [{"PolicyName": "t8k", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]
    }})
}

fn environment(unit: Unit) -> Value {
    let mut vars = json!({"T8K_ROOT": sub(&format!("s3://{DATA_BUCKET}")), "T8K_LOG": "info"});
    if mails(unit) {
        vars["T8K_SMTP_PASSWORD_PARAMETER"] =
            when("HasSmtp", r("SmtpPasswordParameter"), nothing());
    }
    match unit {
        Unit::Http(Function::Content) => vars["T8K_DECODE_BUDGET"] = json!("402653184"),
        Unit::Jobs => {
            vars["T8K_EDGE_LOGS"] = sub("s3://${LogsBucket}/cloudfront/");
            vars["T8K_ROUTES_STORE"] = sub("${Routes.Arn}");
        }
        _ => {}
    }
    json!({"Variables": vars})
}

fn function(unit: Unit) -> Value {
    let size = sizing(unit);
    let name = logical(unit);
    let mut props = json!({
        "FunctionName": sub(&format!("${{AWS::StackName}}-{}", name.to_ascii_lowercase())),
        "Description": format!("t8k {}: {}", unit.binary(), size.why),
        "Runtime": "provided.al2023",
        "Architectures": ["arm64"],
        "Handler": "bootstrap",
        "Code": {"S3Bucket": r("CodeBucket"), "S3Key": sub(&format!("${{CodePrefix}}{}.zip", unit.binary()))},
        "MemorySize": size.memory_mb,
        "Timeout": size.timeout_s,
        "Role": att(&format!("{name}Role"), "Arn"),
        "Environment": environment(unit),
        "LoggingConfig": {"LogGroup": r(&format!("{name}Logs")), "LogFormat": "JSON"}
    });
    let mut skip = vec![
        (
            "CKV_AWS_117",
            "the functions reach only S3 and Parameter Store, over public endpoints; a VPC would add NAT gateways and cold-start time",
        ),
        (
            "CKV_AWS_173",
            "the environment holds no secret (the SMTP password is read from Parameter Store at start)",
        ),
        (
            "CKV_AWS_115",
            "no reserved concurrency: it would be taken from the account's pool; the HTTP API's throttle caps the functions instead",
        ),
        (
            "CKV_AWS_50",
            "no X-Ray: each request's id is in its JSON log line",
        ),
    ];
    match unit {
        Unit::Build => props["DeadLetterConfig"] = json!({"TargetArn": att("BuildDeadLetters", "Arn")}),
        Unit::Jobs => props["DeadLetterConfig"] = json!({"TargetArn": att("JobsDeadLetters", "Arn")}),
        _ => skip.push(("CKV_AWS_116", "called synchronously by the HTTP API: the caller sees the error, there is nothing to retry later")),
    }
    json!({"Type": "AWS::Lambda::Function", "Properties": props, "Metadata": skips(&skip)})
}

fn log_group(unit: Unit) -> Value {
    let name = logical(unit).to_ascii_lowercase();
    json!({
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": sub(&format!("/aws/lambda/${{AWS::StackName}}-{name}")),
            "RetentionInDays": r("LogRetentionDays")
        },
        "Metadata": skips(&[("CKV_AWS_158", "CloudWatch's own encryption: the logs hold no secrets (passwords and tokens are never logged)")])
    })
}

fn invoke_permission(function: &str, principal: &str, source: Value) -> Value {
    json!({"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": r(function),
        "Principal": principal, "SourceArn": source
    }})
}

/// The schedules: the builder's safety net, and each job of [`crate::jobs`].
fn schedules(out: &mut Map<String, Value>) {
    let mut rule = |id: String, what: String, rate: &str, target: &str, input: Value| {
        out.insert(
            id.clone(),
            json!({"Type": "AWS::Events::Rule", "Properties": {
                "Description": what, "ScheduleExpression": rate, "State": "ENABLED",
                "Targets": [{"Id": target, "Arn": att(target, "Arn"), "Input": input.to_string()}]
            }}),
        );
        out.insert(
            format!("{id}Permission"),
            invoke_permission(target, "events.amazonaws.com", att(&id, "Arn")),
        );
    };
    rule(
        "BuildSweep".into(),
        "t8k: build whatever is still queued (a missed notification)".into(),
        "rate(15 minutes)",
        "Build",
        json!({}),
    );
    for job in crate::jobs::jobs(&crate::jobs::Host::Aws {
        logs: "",
        root: "",
        routes: "",
    }) {
        let id = pascal(job.name);
        rule(
            format!("{id}Schedule"),
            format!("t8k: {}", job.what),
            job.rate,
            "Jobs",
            json!({"job": job.name}),
        );
    }
}

pub fn resources(out: &mut Map<String, Value>) {
    for unit in Unit::ALL {
        let name = logical(unit);
        out.insert(format!("{name}Role"), role(unit));
        out.insert(format!("{name}Logs"), log_group(unit));
        out.insert(name.clone(), function(unit));
        if let Unit::Http(_) = unit {
            let api = sub(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*",
            );
            out.insert(
                format!("{name}ApiPermission"),
                invoke_permission(&name, "apigateway.amazonaws.com", api),
            );
        }
    }
    out.insert(
        "BuildQueueTrigger".into(),
        json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": att("BuildQueue", "Arn"), "FunctionName": r("Build"),
            "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]
        }}),
    );
    schedules(out);
}
