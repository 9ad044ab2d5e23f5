#!/usr/bin/env python3
"""A month of t8k on AWS (the stack of `t8k deploy aws`), from measured figures and AWS's list
prices: what 1,000 tenants with 10,000 page views each cost.

    bench/aws-cost.py --template deploy/aws/template.json --beacon-ms MS --login-ms MS \
        --api-ms MS --build-ms MS --rollup-ms MS --page-bytes N --asset-bytes N \
        --asset-count N [--tenants N] [--views N]

The measured inputs come from scripts/bench-functions.sh (warm invocation times under the
Lambda runtime harness, a tenant's full build, a rollup, a page's and the theme's compressed
bytes); the memory of each function is read from the template. What is assumed, not measured,
is a named option with its default printed beside the result: edits and logins per tenant,
how many views fetch the theme's assets, CloudFront's cache hit ratio.

Prices: AWS's public list prices for us-east-1 (North America/Europe for CloudFront), as
published in 2025 — this machine has no network to re-read them; check the pages before
relying on the total. No free tier is subtracted.
"""
import argparse, json

PRICES = {
    "lambda_gb_s_arm64": 0.0000133334,   # Lambda duration, arm64, per GB-second
    "lambda_request": 0.20 / 1e6,        # Lambda requests
    "http_api_request": 1.00 / 1e6,      # API Gateway HTTP API, first 300 M a month
    "cf_gb_out": 0.085,                  # CloudFront data transfer out, first 10 TB (NA/EU)
    "cf_https_request": 0.0100 / 1e4,    # CloudFront HTTPS requests (NA/EU)
    "cf_function": 0.10 / 1e6,           # CloudFront Functions invocations
    "cf_kvs_read": 0.03 / 1e6,           # CloudFront KeyValueStore reads
    "s3_gb_month": 0.023,                # S3 Standard storage
    "s3_put": 0.005 / 1e3,               # S3 PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1e3,              # S3 GET and all other requests
    "sqs_request": 0.40 / 1e6,           # SQS standard requests
    "logs_gb_ingested": 0.50,            # CloudWatch Logs ingestion
}

def memory_of(template, name):
    """MemorySize of the function whose FunctionName ends in -NAME."""
    for r in template["Resources"].values():
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["FunctionName"]["Fn::Sub"].endswith("-" + name):
            return r["Properties"]["MemorySize"]
    raise SystemExit(f"no function {name} in the template")

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--template", default="deploy/aws/template.json")
    for m in ["beacon-ms", "login-ms", "api-ms", "build-ms", "rollup-ms"]:
        p.add_argument("--" + m, type=float, required=True)
    p.add_argument("--page-bytes", type=float, required=True, help="a page's HTML, compressed")
    p.add_argument("--asset-bytes", type=float, required=True, help="the theme's CSS and JS a page links, compressed")
    p.add_argument("--asset-count", type=int, required=True, help="how many assets a page links")
    p.add_argument("--data-gb", type=float, default=0.05, help="a tenant's data root (databases, media), GB")
    p.add_argument("--tenants", type=int, default=1000)
    p.add_argument("--views", type=int, default=10_000, help="page views per tenant a month")
    p.add_argument("--edits", type=int, default=30, help="saves (each a build) per tenant a month")
    p.add_argument("--logins", type=int, default=20, help="logins per tenant a month")
    p.add_argument("--api-calls", type=int, default=200, help="other admin/editor API calls per tenant a month")
    p.add_argument("--asset-share", type=float, default=0.3, help="views that fetch the assets (new visitors)")
    p.add_argument("--hit-ratio", type=float, default=0.95, help="CloudFront cache hits")
    p.add_argument("--log-bytes", type=float, default=400, help="log bytes per function invocation")
    a = p.parse_args()
    t = json.load(open(a.template))
    mem = {n: memory_of(t, n) / 1024 for n in ["beacon", "auth", "content", "build", "jobs"]}

    views = a.tenants * a.views
    cf_requests = views * (1 + a.asset_count * a.asset_share) + views   # pages (+ assets) + beacons
    lines = []
    def add(what, qty, unit, cost):
        lines.append((what, qty, unit, cost))

    gb_out = (views * a.page_bytes + views * a.asset_share * a.asset_bytes) / 1e9
    add("CloudFront data out", gb_out, "GB", gb_out * PRICES["cf_gb_out"])
    add("CloudFront HTTPS requests", cf_requests, "req", cf_requests * PRICES["cf_https_request"])
    # The router runs on viewer request and response of every request; requests for pages and
    # assets read the store once each way.
    add("CloudFront Functions", 2 * cf_requests, "inv", 2 * cf_requests * PRICES["cf_function"])
    add("KeyValueStore reads", 2 * cf_requests, "read", 2 * cf_requests * PRICES["cf_kvs_read"])
    misses = (cf_requests - views) * (1 - a.hit_ratio)
    add("S3 GETs (cache misses)", misses, "req", misses * PRICES["s3_get"])

    api = a.tenants * (a.logins + a.api_calls) + views              # + one beacon per view
    add("HTTP API requests", api, "req", api * PRICES["http_api_request"])
    invocations = {
        "beacon": (views, a.beacon_ms, mem["beacon"]),
        "auth (logins)": (a.tenants * a.logins, a.login_ms, mem["auth"]),
        # Other editor and admin calls, at the measured time of one (GET /api/quota), billed
        # at the content function's memory (the largest of them).
        "content and the rest": (a.tenants * a.api_calls, a.api_ms, mem["content"]),
        "build": (a.tenants * a.edits, a.build_ms, mem["build"]),
        "jobs (rollup every 10 min)": (4320, a.rollup_ms * a.tenants, mem["jobs"]),
    }
    for name, (n, ms, gb) in invocations.items():
        # Lambda bills each invocation's duration rounded up to the millisecond.
        gb_s = n * max(1.0, ms) / 1000 * gb
        add(f"Lambda {name}", n, "inv", n * PRICES["lambda_request"] + gb_s * PRICES["lambda_gb_s_arm64"])
    # Each beacon is one event object; each build request one object and its queue message.
    puts = views + a.tenants * a.edits * 3
    add("S3 PUTs (events, build requests, saves)", puts, "req", puts * PRICES["s3_put"])
    add("SQS (build queue)", a.tenants * a.edits * 3, "req", a.tenants * a.edits * 3 * PRICES["sqs_request"])
    storage = a.tenants * a.data_gb
    add("S3 storage", storage, "GB-mo", storage * PRICES["s3_gb_month"])
    calls = sum(n for n, _, _ in invocations.values())
    logs = calls * a.log_bytes / 1e9
    add("CloudWatch Logs", logs, "GB", logs * PRICES["logs_gb_ingested"])

    total = sum(c for *_, c in lines)
    print(f"{a.tenants:,} tenants x {a.views:,} page views a month ({views:,} views), us-east-1 list prices (2025):")
    print(f"{'item':42} {'quantity':>16} {'USD/month':>10}")
    for what, qty, unit, cost in lines:
        print(f"{what:42} {qty:>12,.0f} {unit:5} {cost:>9.2f}")
    print(f"{'total':42} {'':>18} {total:>9.2f}   ({total / a.tenants:.3f} per tenant)")
    print(f"measured: beacon {a.beacon_ms} ms, login {a.login_ms} ms, API call {a.api_ms} ms, build {a.build_ms} ms, rollup {a.rollup_ms} ms a tenant, "
          f"page {a.page_bytes:.0f} B, {a.asset_count} assets {a.asset_bytes:.0f} B; memory from the template: "
          + ", ".join(f"{k} {v * 1024:.0f} MB" for k, v in mem.items()))
    print(f"assumed: {a.edits} edits, {a.logins} logins, {a.api_calls} API calls per tenant; "
          f"{a.asset_share:.0%} of views fetch the assets; {a.hit_ratio:.0%} cache hits; {a.data_gb} GB a tenant")

main()
