//! CloudFront: the published sites from the data bucket (Origin Access Control, `sites/`
//! only), rewritten by host through the viewer-request function and its KeyValueStore
//! (`t8k edge cloudfront`), and `/api/*` and `/admin` to the HTTP API.

use serde_json::{Map, Value, json};

use super::cfn::{att, nothing, r, skips, sub, when};

/// AWS's managed cache and origin request policies (fixed ids, the same in every account).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// The paths the functions answer, each a behaviour of its own. (No ACME challenges:
/// CloudFront's certificates come from ACM.)
const FUNCTION_PATHS: [&str; 3] = ["/api/*", "/admin", "/admin/*"];

fn router_function() -> Value {
    // The function reads the KeyValueStore by its id, filled in by CloudFormation.
    let code = crate::edge::cloudfront::FUNCTION.replace("__KVS_ID__", "${Routes.Id}");
    json!({"Type": "AWS::CloudFront::Function", "Properties": {
        "Name": sub("${AWS::StackName}-router"),
        "AutoPublish": true,
        "FunctionCode": sub(&code),
        "FunctionConfig": {
            "Comment": "t8k: host to tenant's live deploy; X-Forwarded-Host for the functions; HSTS",
            "Runtime": "cloudfront-js-2.0",
            "KeyValueStoreAssociations": [{"KeyValueStoreARN": att("Routes", "Arn")}]
        }
    }})
}

fn associations() -> Value {
    json!([
        {"EventType": "viewer-request", "FunctionARN": att("Router", "FunctionMetadata.FunctionARN")},
        {"EventType": "viewer-response", "FunctionARN": att("Router", "FunctionMetadata.FunctionARN")}
    ])
}

fn function_behaviour(path: &str) -> Value {
    json!({
        "PathPattern": path,
        "TargetOriginId": "functions",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        "ResponseHeadersPolicyId": r("SecurityHeaders"),
        "Compress": true,
        "FunctionAssociations": associations()
    })
}

fn distribution() -> Value {
    let behaviours: Vec<Value> = FUNCTION_PATHS
        .iter()
        .map(|p| function_behaviour(p))
        .collect();
    let config = json!({
        "Enabled": true,
        "Comment": sub("t8k ${AWS::StackName}"),
        "HttpVersion": "http2and3",
        "IPV6Enabled": true,
        "PriceClass": r("PriceClass"),
        "Aliases": when("HasCertificate", json!([r("Domain"), sub("*.${Domain}")]), nothing()),
        "ViewerCertificate": when(
            "HasCertificate",
            json!({"AcmCertificateArn": r("CertificateArn"), "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}),
            json!({"CloudFrontDefaultCertificate": true})
        ),
        "Origins": [
            {"Id": "sites", "DomainName": att("DataBucket", "RegionalDomainName"),
             "OriginAccessControlId": att("SitesAccess", "Id"),
             "S3OriginConfig": {"OriginAccessIdentity": ""}},
            {"Id": "functions", "DomainName": sub("${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"),
             "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}}
        ],
        "DefaultCacheBehavior": {
            "TargetOriginId": "sites",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": ["GET", "HEAD"],
            "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": r("SecurityHeaders"),
            "Compress": true,
            "FunctionAssociations": associations()
        },
        "CacheBehaviors": behaviours,
        // Standard logs: `t8k usage ingest --format cloudfront` counts each tenant's bytes.
        "Logging": {"Bucket": att("LogsBucket", "DomainName"), "Prefix": "cloudfront/", "IncludeCookies": false}
    });
    json!({
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {"DistributionConfig": config},
        "Metadata": skips(&[
            ("CKV_AWS_68", "no WAF by default (it costs per month and per request); attach a web ACL to the distribution where needed"),
            ("CKV_AWS_174", "TLS 1.2 at least with a certificate (MinimumProtocolVersion); without one CloudFront's default certificate decides"),
            ("CKV_AWS_305", "no default root object: the viewer-request function maps / to each tenant's index.html"),
            ("CKV_AWS_310", "one origin per behaviour on purpose: a failover origin for the bucket would serve stale deploys"),
            ("CKV_AWS_374", "sites are served worldwide; a geo restriction is an operator's choice")
        ])
    })
}

pub fn resources(out: &mut Map<String, Value>) {
    out.insert(
        "Routes".into(),
        json!({"Type": "AWS::CloudFront::KeyValueStore", "Properties": {
            "Name": sub("${AWS::StackName}-routes"),
            "Comment": "host -> tenant/deploy, written by `t8k edge cloudfront`"
        }}),
    );
    out.insert("Router".into(), router_function());
    out.insert(
        "SitesAccess".into(),
        json!({"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {"OriginAccessControlConfig": {
            "Name": sub("${AWS::StackName}-sites"), "OriginAccessControlOriginType": "s3",
            "SigningBehavior": "always", "SigningProtocol": "sigv4"
        }}}),
    );
    // HSTS is per host (the function adds it); these hold for every answer.
    out.insert(
        "SecurityHeaders".into(),
        json!({"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {
            "Name": sub("${AWS::StackName}-security"),
            "SecurityHeadersConfig": {
                "ContentTypeOptions": {"Override": false},
                "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": false},
                "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": false}
            }
        }}}),
    );
    out.insert("Cdn".into(), distribution());
}
