//! Who may call what: every route of the table, and a session's reach.

use super::*;
use t8k_functions::guard::Access;
use t8k_functions::router::endpoints;

/// A sample value for each `{param}` of a route.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "acme" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn refused(s: StatusCode) -> bool {
    s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN
}

#[tokio::test]
async fn every_route_refuses_callers_without_the_right_session() {
    let api = Api::new();
    let acme_editor = api.login(ACME, "editor").await;
    let acme_admin = api.login(ACME, "admin").await;
    let other_admin = api.login(OTHER, "admin").await;
    let acme_token = acme_admin.split_once('=').unwrap().1.to_owned();
    let mut table: Vec<_> = endpoints().into_iter().map(|(e, _)| e).collect();
    // Logging out ends the editor's sessions, so it is walked last.
    table.sort_by_key(|e| e.path == "/auth/logout");
    let public = [
        (Method::POST, "/auth/login"),
        (Method::POST, "/register"),
        (Method::GET, "/register/check"),
        (Method::GET, "/register/verify"),
        (Method::POST, "/register/verify"),
        (Method::POST, "/beacon"),
        (Method::GET, "/edge/ask"),
        (Method::POST, "/admin/login"),
    ];
    assert!(table.len() >= 30, "the table lists every route");
    for e in &table {
        let path = concrete(e.path);
        let route = format!("{} /api{path}", e.method);
        let listed_public = public.contains(&(e.method.clone(), e.path));
        assert_eq!(
            e.access == Access::Public,
            listed_public,
            "{route}: only the routes listed here may be public"
        );
        let host = if e.access == Access::InstallationAdmin {
            MAIN
        } else {
            ACME
        };
        let call = |auth| api.call(e.method.clone(), host, &path, auth, None);
        let anonymous = call(Auth::None).await;
        if listed_public {
            assert!(
                !refused(anonymous.status),
                "{route} is public: {}",
                anonymous.json
            );
            continue;
        }
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{route} without a session"
        );
        let foreign = call(Auth::Cookie(&other_admin)).await;
        assert!(
            refused(foreign.status),
            "{route} with another tenant's session: {}",
            foreign.status
        );
        let as_editor = call(Auth::Cookie(&acme_editor)).await;
        match e.access {
            Access::Admin => {
                assert_eq!(as_editor.status, StatusCode::FORBIDDEN, "{route} as editor")
            }
            Access::InstallationAdmin => {
                assert!(refused(as_editor.status), "{route} with a tenant session");
                let bearer = call(Auth::Bearer(&acme_token)).await;
                assert!(
                    refused(bearer.status),
                    "{route} with a tenant admin's token as key"
                );
            }
            _ => assert!(
                !refused(as_editor.status),
                "{route}: an editor passes the guard, got {} {}",
                as_editor.status,
                as_editor.json
            ),
        }
    }
}

#[tokio::test]
async fn a_session_works_at_its_own_site_until_logout() {
    let api = Api::new();
    let cookie = api.login(ACME, "admin").await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        (me.json["tenant"].as_str(), me.json["role"].as_str()),
        (Some("acme"), Some("admin"))
    );
    let wrong = api
        .send(
            Method::POST,
            ACME,
            "/auth/login",
            Auth::None,
            json!({"username": "admin", "password": "wrong"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let out = api
        .call(
            Method::POST,
            ACME,
            "/auth/logout",
            Auth::Cookie(&cookie),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "logout ends the session"
    );
}
