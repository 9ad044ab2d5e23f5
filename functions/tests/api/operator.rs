//! The installation's side: the operator's admin API, beacons, internal errors.

use super::*;

#[tokio::test]
async fn the_operator_pages_through_tenants_in_id_order() {
    let api = Api::new();
    let key = api.inst().rotate_admin_key().unwrap();
    api.inst()
        .create_tenant("bakery", |id| NewTenant {
            id,
            site_name: "Bakery".into(),
            email: "owner@bakery.test".into(),
            admin_password: None,
            editor_password: None,
            theme: None,
            organisation: None,
        })
        .unwrap();
    let (mut seen, mut after) = (vec![], String::new());
    loop {
        let path = format!("/admin/tenants?limit=1{after}");
        let page = api.get(MAIN, &path, Auth::Bearer(&key)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        assert_eq!(page.json["count"], 1, "{}", page.json);
        seen.push(page.json["tenants"][0]["id"].as_str().unwrap().to_owned());
        match page.json["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["acme", "bakery", "other"],
        "each tenant once, in id order"
    );
    let all = api.get(MAIN, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(all.json["count"], 3);
    assert!(all.json["next"].is_null(), "one page holds them all");
    for bad in ["limit=0", "limit=1001", "limit=many"] {
        let refused = api
            .get(MAIN, &format!("/admin/tenants?{bad}"), Auth::Bearer(&key))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        let message = refused.json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("1 to 1000") || message.contains("?limit=N"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn the_operator_key_opens_the_admin_api_on_the_main_domain_only() {
    let api = Api::new();
    let key = api.inst().rotate_admin_key().unwrap();
    let list = api.get(MAIN, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json["count"], 2);
    let at_tenant = api.get(ACME, "/admin/tenants", Auth::Bearer(&key)).await;
    assert_eq!(
        at_tenant.status,
        StatusCode::NOT_FOUND,
        "only on the main domain"
    );
    let cookie = api.login(ACME, "admin").await;
    let off = api
        .call(
            Method::POST,
            MAIN,
            "/admin/tenants/acme/deactivate",
            Auth::Bearer(&key),
            None,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.json);
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(
        me.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a deactivated site answers nothing"
    );
    api.call(
        Method::POST,
        MAIN,
        "/admin/tenants/acme/activate",
        Auth::Bearer(&key),
        None,
    )
    .await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn beacons_for_another_site_or_in_bad_shape_store_nothing() {
    let api = Api::new();
    let events = || {
        api.inst()
            .store()
            .list(&t8k_core::key::layout::events_dir(
                &t8k_core::TenantId::trusted("acme").unwrap(),
            ))
            .unwrap()
            .len()
    };
    let send = |body: Value| api.send(Method::POST, ACME, "/beacon", Auth::None, body);
    let foreign = send(json!({"event": "PAGEVIEWED", "url": "https://other.example.com/"})).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.json);
    let unknown =
        send(json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/", "x": 1})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(events(), 0, "nothing stored");
    let ok = send(json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/"})).await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.json);
    assert_eq!(events(), 1);
}

#[tokio::test]
async fn an_internal_error_shows_the_client_a_request_id_and_nothing_inside() {
    let api = Api::new();
    let env_json = api.dir.path().join("config/acme/env.json");
    std::fs::write(&env_json, "{ not json").unwrap();
    let body = json!({"username": "admin", "password": PASSWORD});
    let a = api
        .send(Method::POST, ACME, "/auth/login", Auth::None, body)
        .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", a.json);
    let id = a.headers["x-request-id"].to_str().unwrap();
    assert_eq!(
        a.json["error"]["request_id"], id,
        "the body quotes the id of the request"
    );
    let text = a.json.to_string();
    for inside in [
        "env.json",
        "config/",
        api.dir.path().to_str().unwrap(),
        "expected",
    ] {
        assert!(!text.contains(inside), "{inside:?} leaked: {text}");
    }
}

/// Logs the operator in with `key`; the answer and the `Cookie` value of the session.
pub(super) async fn operator_login(api: &Api, key: &str) -> (Answer, String) {
    let a = api
        .send(
            Method::POST,
            MAIN,
            "/admin/login",
            Auth::None,
            json!({"key": key}),
        )
        .await;
    let cookie = a
        .headers
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (a, cookie)
}

#[tokio::test]
async fn the_operator_logs_in_with_the_key_for_a_cookie_that_a_new_key_or_a_logout_ends() {
    let api = Api::new();
    let (before_any_key, _) = operator_login(&api, "t8k_admin_guess").await;
    assert_eq!(before_any_key.status, StatusCode::UNAUTHORIZED);
    let key = api.inst().rotate_admin_key().unwrap();
    let (wrong, none) = operator_login(&api, "t8k_admin_wrong").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.json);
    assert!(none.is_empty(), "no cookie for a wrong key");
    let at_tenant = api
        .send(
            Method::POST,
            ACME,
            "/admin/login",
            Auth::None,
            json!({"key": key}),
        )
        .await;
    assert_eq!(at_tenant.status, StatusCode::NOT_FOUND, "main domain only");

    let (ok, cookie) = operator_login(&api, &key).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    let set = ok.headers[header::SET_COOKIE].to_str().unwrap();
    for part in [
        "__Host-t8k_operator=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(part), "{part} in {set}");
    }
    let me = api.get(MAIN, "/admin/me", Auth::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    let report = api.get(MAIN, "/admin/report", Auth::Cookie(&cookie)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.json);
    let ids: Vec<_> = report.json["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "other"]);
    assert_eq!(report.json["count"], 2);
    assert_eq!(report.json["tenants"][0]["pages"][1], 100, "used and limit");
    // The cookie is the operator's only on the main domain, and never a tenant's session.
    let at_acme = api.get(ACME, "/auth/me", Auth::Cookie(&cookie)).await;
    assert_eq!(at_acme.status, StatusCode::UNAUTHORIZED);
    // A write with the cookie must come from the main domain's own pages.
    let from = |origin| Auth::CookieFrom(&cookie, origin);
    let deactivate = "/admin/tenants/acme/deactivate";
    let cross = api
        .call(
            Method::POST,
            MAIN,
            deactivate,
            from(Some("https://acme.example.com")),
            None,
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.json);
    let bare = api
        .call(Method::POST, MAIN, deactivate, from(None), None)
        .await;
    assert_eq!(
        bare.status,
        StatusCode::FORBIDDEN,
        "no Origin, no fetch metadata"
    );
    assert!(
        api.inst().show("acme").unwrap().entry.active,
        "nothing changed"
    );

    // A new key ends the session; so does a logout (every operator session).
    let (_, second) = operator_login(&api, &key).await;
    let out = api
        .call(
            Method::POST,
            MAIN,
            "/admin/logout",
            Auth::Cookie(&second),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.json);
    for c in [&cookie, &second] {
        let after = api.get(MAIN, "/admin/me", Auth::Cookie(c)).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "logout ends it");
    }
    let (_, third) = operator_login(&api, &key).await;
    assert_eq!(
        api.get(MAIN, "/admin/me", Auth::Cookie(&third))
            .await
            .status,
        StatusCode::OK
    );
    api.inst().rotate_admin_key().unwrap();
    let after = api.get(MAIN, "/admin/me", Auth::Cookie(&third)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "a new key ends it");
}
