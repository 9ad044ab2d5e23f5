"""Deploys t8k's CloudFormation template into moto's server and prints what the stack made,
as JSON, for tests/deploy_aws.rs to check.

Usage: deploy_into_moto.py ENDPOINT TEMPLATE

Moto emulates CloudFormation with S3, Lambda, IAM, SQS, EventBridge and CloudWatch Logs
resources; it does not emulate the HTTP API (API Gateway v2) or CloudFront resources in
stacks, which it skips: they are listed under "skipped". Moto cannot run arm64 Lambda code
either, so the packages uploaded here are empty zips (the real ones come from cargo lambda).
"""

import ast
import io
import json
import re
import sys
import zipfile

import boto3

endpoint, template_path = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="eu-west-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
s3, cfn, lam, iam, events, sqs, logs = (boto3.client(s, **kw) for s in
                                        ["s3", "cloudformation", "lambda", "iam", "events", "sqs", "logs"])
template = json.load(open(template_path))
# Outputs that name a resource moto does not emulate cannot be resolved by it: left out here.
UNEMULATED = ("AWS::CloudFront::", "AWS::ApiGatewayV2::")
unemulated = {lid for lid, r in template["Resources"].items() if r["Type"].startswith(UNEMULATED)}
template["Outputs"] = {k: v for k, v in template["Outputs"].items()
                       if not any("${%s" % lid in json.dumps(v) for lid in unemulated)}
# And the emulated resources that name one (the jobs function's KeyValueStore ARN) get a
# stand-in name: moto cannot resolve it either.
pattern = re.compile(r"\$\{(%s)(\.[A-Za-z.]+)?\}" % "|".join(sorted(unemulated)))
template = json.loads(pattern.sub(r"arn:aws:cloudfront::123456789012:unemulated/\1", json.dumps(template)))

code_bucket, prefix = "t8k-artifacts", "t8k/test/"
s3.create_bucket(Bucket=code_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
for res in template["Resources"].values():
    if res["Type"] == "AWS::Lambda::Function":
        key = res["Properties"]["Code"]["S3Key"]["Fn::Sub"].replace("${CodePrefix}", prefix)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n")
        s3.put_object(Bucket=code_bucket, Key=key, Body=buf.getvalue())

stack = "t8k-test"
cfn.create_stack(
    StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"],
    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in {
        "Domain": "example.com", "CodeBucket": code_bucket, "CodePrefix": prefix,
        "SmtpPasswordParameter": "/t8k/smtp-password"}.items()])
described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
made = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
made_ids = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in made}
skipped = sorted({r["Type"] for lid, r in template["Resources"].items() if lid not in made_ids})

out = {"status": described["StackStatus"], "outputs": described.get("Outputs", []),
       "made": {lid: t for lid, t in ((r["LogicalResourceId"], r["ResourceType"]) for r in made)},
       "skipped": skipped, "functions": {}, "rules": {}, "queues": {}, "buckets": {}, "mappings": []}

for lid, res in template["Resources"].items():
    kind = res["Type"]
    if lid not in made_ids:
        continue
    phys = made_ids[lid]
    if kind == "AWS::Lambda::Function":
        conf = lam.get_function_configuration(FunctionName=phys)
        role = conf["Role"].rsplit("/", 1)[-1]
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        policies = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names]
        # moto hands a stack's inline policy back as Python's repr of the document.
        policies = [ast.literal_eval(p) if isinstance(p, str) else p for p in policies]
        out["functions"][lid] = {"name": conf["FunctionName"], "runtime": conf["Runtime"],
                                 "handler": conf["Handler"], "architectures": conf.get("Architectures"),
                                 "memory": conf["MemorySize"], "timeout": conf["Timeout"],
                                 "environment": conf.get("Environment", {}).get("Variables", {}),
                                 "policies": policies}
    elif kind == "AWS::Events::Rule":
        name = phys.rsplit("/", 1)[-1]
        rule = events.describe_rule(Name=name)
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        out["rules"][lid] = {"schedule": rule.get("ScheduleExpression"),
                             "targets": [{"arn": t["Arn"], "input": t.get("Input")} for t in targets]}
    elif kind == "AWS::SQS::Queue":
        attrs = sqs.get_queue_attributes(QueueUrl=phys, AttributeNames=["All"])["Attributes"]
        out["queues"][lid] = attrs
    elif kind == "AWS::S3::Bucket":
        # What moto's stack kept of each setting (None: moto's CloudFormation drops it).
        def kept(call, field):
            try:
                return call(Bucket=phys).get(field)
            except Exception:
                return None
        out["buckets"][lid] = {
            "name": phys,
            "versioning": kept(s3.get_bucket_versioning, "Status"),
            "encryption": kept(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration"),
            "public_access": kept(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
            "lifecycle": kept(s3.get_bucket_lifecycle_configuration, "Rules"),
            "notifications": kept(s3.get_bucket_notification_configuration, "QueueConfigurations"),
        }
for m in lam.list_event_source_mappings()["EventSourceMappings"]:
    out["mappings"].append({"source": m["EventSourceArn"], "function": m["FunctionArn"],
                            "batch": m.get("BatchSize"), "responses": m.get("FunctionResponseTypes")})
print(json.dumps(out, default=str))
