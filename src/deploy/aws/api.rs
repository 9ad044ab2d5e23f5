//! The HTTP API: a route for each line of the functions' route table
//! (`t8k_functions::router::endpoints`) to the function that serves it, so API Gateway
//! sends each request to the binary that has its handler.

use serde_json::{Map, Value, json};
use t8k_functions::iam::Unit;
use t8k_functions::router::{ACME_CHALLENGE, Function, endpoints};

use super::cfn::{att, pascal, r, skips, sub};
use super::functions::logical;

/// API Gateway's spelling of a route path: `{name}` stays, a greedy `{*name}` is `{name+}`.
pub fn api_path(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg.strip_prefix("{*") {
            Some(rest) => format!("{{{}+}}", rest.trim_end_matches('}')),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every route key (`POST /api/auth/login`) and the function behind it.
pub fn routes() -> Vec<(String, Function)> {
    let mut out: Vec<(String, Function)> = endpoints()
        .into_iter()
        .map(|(e, _)| (format!("{} /api{}", e.method, api_path(e.path)), e.function))
        .collect();
    for f in Function::ALL {
        for path in f.extra_paths() {
            let key = format!("GET {}", api_path(path));
            // `/admin/` is `/admin/{file+}` with an empty file to API Gateway, and ACME's
            // challenges are not needed where ACM issues the certificates.
            if !path.ends_with('/') && path != ACME_CHALLENGE {
                out.push((key, f));
            }
        }
    }
    // Anything else under /api gets the functions' JSON 404 (from the auth function).
    out.push(("ANY /api/{rest+}".into(), Function::Auth));
    out
}

fn route_id(key: &str) -> String {
    format!("Route{}", pascal(key))
}

pub fn resources(out: &mut Map<String, Value>) {
    out.insert(
        "HttpApi".into(),
        json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": {
            "Name": sub("${AWS::StackName}-functions"), "ProtocolType": "HTTP",
            "Description": "t8k's functions; CloudFront sends /api/* and /admin here"
        }}),
    );
    out.insert(
        "HttpApiLogs".into(),
        json!({"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": r("LogRetentionDays")},
               "Metadata": skips(&[("CKV_AWS_158", "access logs hold no secrets; CloudWatch's own encryption")])}),
    );
    out.insert(
        "HttpApiStage".into(),
        json!({"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
            "ApiId": r("HttpApi"), "StageName": "$default", "AutoDeploy": true,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": r("ApiBurstLimit"), "ThrottlingRateLimit": r("ApiRateLimit")},
            "AccessLogSettings": {
                "DestinationArn": att("HttpApiLogs", "Arn"),
                "Format": "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",\"route\":\"$context.routeKey\",\"status\":\"$context.status\",\"latency\":\"$context.integrationLatency\"}"
            }
        }}),
    );
    for f in Function::ALL {
        let name = logical(Unit::Http(f));
        out.insert(
            format!("{name}Integration"),
            json!({"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
                "ApiId": r("HttpApi"), "IntegrationType": "AWS_PROXY",
                "IntegrationUri": att(&name, "Arn"), "PayloadFormatVersion": "2.0"
            }}),
        );
    }
    for (key, f) in routes() {
        let target = sub(&format!(
            "integrations/${{{}Integration}}",
            logical(Unit::Http(f))
        ));
        // The functions check each caller themselves (sessions, the admin key, the Host):
        // the table's `Access` column, tested route by route.
        out.insert(
            route_id(&key),
            json!({"Type": "AWS::ApiGatewayV2::Route", "Properties": {
                "ApiId": r("HttpApi"), "RouteKey": key, "Target": target, "AuthorizationType": "NONE"
            }}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_paths_and_route_ids_are_api_gateways() {
        assert_eq!(api_path("/pages/{*slug}"), "/pages/{slug+}");
        assert_eq!(api_path("/users/{username}"), "/users/{username}");
        assert_eq!(route_id("GET /api/pages/{slug+}"), "RouteGetApiPagesSlug");
        let all = routes();
        let ids: std::collections::BTreeSet<_> = all.iter().map(|(k, _)| route_id(k)).collect();
        assert_eq!(ids.len(), all.len(), "one logical id per route");
        assert!(all.contains(&("POST /api/beacon".into(), Function::Beacon)));
        assert!(all.contains(&("GET /admin/{file+}".into(), Function::Auth)));
        assert!(
            !all.iter().any(|(k, _)| k.contains("acme-challenge")),
            "ACM issues"
        );
    }
}
