//! The buckets (data root, logs, backups) and the build queue.

use serde_json::{Map, Value, json};

use super::cfn::{att, r, skips, sub};

/// The bucket names are fixed from the stack (lower-case, see [`super::check_stack`]) so the
/// queue's policy can name the data bucket without a cycle (bucket → queue → policy →
/// bucket).
pub const DATA_BUCKET: &str = "${AWS::StackName}-data-${AWS::AccountId}";
const LOGS_BUCKET: &str = "${AWS::StackName}-logs-${AWS::AccountId}";
const BACKUP_BUCKET: &str = "${AWS::StackName}-backups-${AWS::AccountId}";

fn private_bucket(name: &str, extra: Value) -> Value {
    let mut props = json!({
        "BucketName": sub(name),
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": true}
        ]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true, "BlockPublicPolicy": true,
            "IgnorePublicAcls": true, "RestrictPublicBuckets": true
        },
        "VersioningConfiguration": {"Status": "Enabled"},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    });
    if let (Some(p), Value::Object(more)) = (props.as_object_mut(), extra) {
        p.extend(more);
    }
    json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props})
}

const SSE_S3: &str = "SSE-S3 (AES256) on purpose: CloudFront's Origin Access Control reads the published sites without a KMS key policy, and no key costs per request";

/// The data root: tenants' databases, media, events and published bundles (`sites/`).
fn data_bucket() -> Value {
    let mut b = private_bucket(
        DATA_BUCKET,
        json!({
            "LifecycleConfiguration": {"Rules": [
                // Raw beacons are merged into analytics.db every 10 minutes; a month of
                // them is kept to re-run a rollup.
                {"Id": "events", "Status": "Enabled", "Prefix": "events/", "ExpirationInDays": 35,
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
                // Replaced and deleted objects (old database versions, unpublished deploys,
                // trash) stay restorable for 30 days.
                {"Id": "old-versions", "Status": "Enabled", "Prefix": "",
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
            ]},
            "LoggingConfiguration": {"DestinationBucketName": r("LogsBucket"), "LogFilePrefix": "s3-access/"},
            // Each build request (an editor's save) starts a build through the queue.
            "NotificationConfiguration": {"QueueConfigurations": [{
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "queue/builds/"}]}},
                "Queue": att("BuildQueue", "Arn")
            }]}
        }),
    );
    b["DependsOn"] = json!(["BuildQueuePolicy"]);
    b["Metadata"] = skips(&[("CKV_AWS_145", SSE_S3)]);
    b
}

fn logs_bucket() -> Value {
    let mut b = private_bucket(
        LOGS_BUCKET,
        json!({
            // CloudFront's standard logs are delivered with an ACL.
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "logs", "Status": "Enabled", "Prefix": "", "ExpirationInDays": 90,
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}
            ]}
        }),
    );
    b["Metadata"] = skips(&[
        (
            "CKV_AWS_18",
            "this is the log bucket: logging its own access would log forever",
        ),
        ("CKV_AWS_145", SSE_S3),
    ]);
    b
}

fn backup_bucket() -> Value {
    let mut b = private_bucket(
        BACKUP_BUCKET,
        json!({"LoggingConfiguration": {"DestinationBucketName": r("LogsBucket"), "LogFilePrefix": "s3-access-backups/"}}),
    );
    b["Metadata"] = skips(&[(
        "CKV_AWS_145",
        "t8k encrypts the repository itself (t8k backup init --encrypt, age); SSE-S3 on top",
    )]);
    b
}

/// Refuses requests that are not over TLS.
fn tls_only(bucket: &str) -> Value {
    json!({
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [att(bucket, "Arn"), sub(&format!("${{{bucket}.Arn}}/*"))],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

fn bucket_policy(bucket: &str, mut statements: Vec<Value>) -> Value {
    statements.push(tls_only(bucket));
    json!({"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": r(bucket),
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}
    }})
}

fn queue(name: &str, props: Value) -> Value {
    let mut p = json!({"QueueName": sub(name), "SqsManagedSseEnabled": true});
    if let (Some(m), Value::Object(more)) = (p.as_object_mut(), props) {
        m.extend(more);
    }
    json!({"Type": "AWS::SQS::Queue", "Properties": p, "Metadata": skips(&[(
        "CKV_AWS_27",
        "encrypted at rest with SQS's own keys (SqsManagedSseEnabled); the messages name a tenant to build, nothing secret"
    )])})
}

pub fn resources(out: &mut Map<String, Value>) {
    out.insert("DataBucket".into(), data_bucket());
    out.insert("LogsBucket".into(), logs_bucket());
    out.insert("BackupBucket".into(), backup_bucket());
    // CloudFront (this distribution only) reads the published sites, nothing else.
    let cloudfront_reads = json!({
        "Sid": "CloudFrontReadsSites", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": sub("${DataBucket.Arn}/sites/*"),
        "Condition": {"StringEquals": {"AWS:SourceArn": sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Cdn}")}}
    });
    out.insert(
        "DataBucketPolicy".into(),
        bucket_policy("DataBucket", vec![cloudfront_reads]),
    );
    let log_delivery = json!({
        "Sid": "S3AccessLogs", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": sub("${LogsBucket.Arn}/s3-access*"),
        "Condition": {"StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}}
    });
    out.insert(
        "LogsBucketPolicy".into(),
        bucket_policy("LogsBucket", vec![log_delivery]),
    );
    out.insert(
        "BackupBucketPolicy".into(),
        bucket_policy("BackupBucket", vec![]),
    );
    out.insert(
        "BuildDeadLetters".into(),
        queue(
            "${AWS::StackName}-build-dead-letters",
            json!({"MessageRetentionPeriod": 1_209_600}),
        ),
    );
    // A few seconds' delay gathers an editor's burst of saves into one build.
    out.insert(
        "BuildQueue".into(),
        queue(
            "${AWS::StackName}-builds",
            json!({
                "DelaySeconds": 5,
                "VisibilityTimeout": 6 * super::functions::BUILD_TIMEOUT,
                "RedrivePolicy": {"deadLetterTargetArn": att("BuildDeadLetters", "Arn"), "maxReceiveCount": 5}
            }),
        ),
    );
    out.insert(
        "BuildQueuePolicy".into(),
        json!({"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [r("BuildQueue")],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "DataBucketBuildRequests", "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": att("BuildQueue", "Arn"),
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": sub(&format!("arn:${{AWS::Partition}}:s3:::{DATA_BUCKET}"))},
                    "StringEquals": {"aws:SourceAccount": r("AWS::AccountId")}
                }
            }]}
        }}),
    );
    out.insert(
        "JobsDeadLetters".into(),
        queue(
            "${AWS::StackName}-jobs-dead-letters",
            json!({"MessageRetentionPeriod": 1_209_600}),
        ),
    );
}
