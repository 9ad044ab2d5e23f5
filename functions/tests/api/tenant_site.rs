//! A tenant's own API: content, menus and quota, users, custom domains.

use super::*;

#[tokio::test]
async fn content_menus_and_quota_follow_each_edit() {
    let api = Api::new();
    let editor = api.login(ACME, "editor").await;
    let quota = |c: &str| {
        let c = c.to_owned();
        let api = &api;
        async move { api.get(ACME, "/quota", Auth::Cookie(&c)).await.json }
    };
    let before = quota(&editor).await["pages"]["used"].as_u64().unwrap();
    let page = json!({"slug": "about", "title": "About us", "panes": [{"markdown": "Hello"}]});
    let made = api
        .send(Method::POST, ACME, "/pages", Auth::Cookie(&editor), page)
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(
        quota(&editor).await["pages"]["used"].as_u64().unwrap(),
        before + 1
    );
    let got = api.get(ACME, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(got.json["title"], "About us");
    let elsewhere = api.get(OTHER, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "acme's session at other's host"
    );
    let renamed = api
        .send(
            Method::PUT,
            ACME,
            "/pages/about",
            Auth::Cookie(&editor),
            json!({"slug": "team", "title": "x"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    let menu = json!({"items": [{"label": "About", "page": "about"}]});
    let put = api
        .send(
            Method::PUT,
            ACME,
            "/menus/main",
            Auth::Cookie(&editor),
            menu,
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.json);
    let sly = json!({"items": [{"label": "x", "url": "\\\\evil.test/"}]});
    let bad = api
        .send(Method::PUT, ACME, "/menus/main", Auth::Cookie(&editor), sly)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);
    let gone = api
        .call(
            Method::DELETE,
            ACME,
            "/pages/about",
            Auth::Cookie(&editor),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let missing = api.get(ACME, "/pages/about", Auth::Cookie(&editor)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        quota(&editor).await["pages"]["used"].as_u64().unwrap(),
        before
    );
}

#[tokio::test]
async fn users_are_managed_by_admins_within_max_users() {
    let api = Api::new();
    let admin = api.login(ACME, "admin").await;
    let owner = json!({"username": "ann", "password": PASSWORD, "role": "owner"});
    let bad = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), owner)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json.to_string().contains("editor"),
        "names the roles: {}",
        bad.json
    );
    let (_, id) = api.inst().entry("acme").unwrap();
    let limit = api.inst().usage("acme").unwrap().users + 1;
    api.inst()
        .set_quota(
            id.as_str(),
            &t8k_core::lifecycle::QuotaChange {
                users: Some(limit),
                ..Default::default()
            },
            false,
        )
        .unwrap();
    let ann = json!({"username": "ann", "password": PASSWORD, "role": "editor"});
    let made = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), ann)
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let bob = json!({"username": "bob", "password": PASSWORD});
    let full = api
        .send(Method::POST, ACME, "/users", Auth::Cookie(&admin), bob)
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.json);
    assert!(full.json.to_string().contains("MAX_USERS"));
    let ann_cookie = api.login(ACME, "ann").await;
    let me = api.get(ACME, "/auth/me", Auth::Cookie(&ann_cookie)).await;
    assert_eq!(me.json["role"], "editor");
}

#[tokio::test]
async fn tenant_admins_add_and_remove_custom_domains_one_tenant_each() {
    let api = Api::new();
    let admin = api.login(ACME, "admin").await;
    let shop = json!({"host": "Shop.Acme.test"});
    let added = api
        .send(Method::POST, ACME, "/domains", Auth::Cookie(&admin), shop)
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
    let d = &added.json["domains"][0];
    assert_eq!(d["host"], "shop.acme.test");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["records"]["txt_name"], "_t8k-verify.shop.acme.test");
    assert!(
        d["records"]["txt_value"]
            .as_str()
            .unwrap()
            .starts_with("t8k-")
    );
    assert_eq!(
        added.json["custom_domains"],
        json!([]),
        "pending domains do not route"
    );
    assert_eq!(d["certificate"]["issued"], Value::Null, "none yet");
    // The certificate's state is shown beside the domain (here, a failed attempt).
    let failed =
        json!({"failures": 2, "last_error": "CAA forbids", "retry_after": "2026-12-01T00:00:00Z"});
    let state = api.dir.path().join("certs/shop.acme.test/state.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, failed.to_string()).unwrap();
    let listed = api.get(ACME, "/domains", Auth::Cookie(&admin)).await;
    let cert = &listed.json["domains"][0]["certificate"];
    assert_eq!(
        (cert["failures"].as_u64(), cert["last_error"].as_str()),
        (Some(2), Some("CAA forbids")),
        "{cert}"
    );

    // The other tenant cannot have it; bad hosts are refused with the reason.
    let rival = api.login(OTHER, "admin").await;
    let taken = json!({"host": "shop.acme.test"});
    let taken = api
        .send(Method::POST, OTHER, "/domains", Auth::Cookie(&rival), taken)
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
    assert!(
        taken.json.to_string().contains("tenant 'acme'"),
        "{}",
        taken.json
    );
    for bad in ["10.1.2.3", "x.example.com", "*.acme.test"] {
        let r = api
            .send(
                Method::POST,
                OTHER,
                "/domains",
                Auth::Cookie(&rival),
                json!({"host": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.json);
    }

    // Caddy's on-demand TLS asks before each certificate: only hosts that route say yes.
    let ask = |host: &str| format!("/edge/ask?domain={host}");
    for (host, want) in [
        ("acme.example.com", StatusCode::OK),
        ("example.com", StatusCode::OK),
        ("shop.acme.test", StatusCode::NOT_FOUND),
        ("unknown.test", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            api.get(MAIN, &ask(host), Auth::None).await.status,
            want,
            "{host}"
        );
    }
    api.inst()
        .add_domain("acme", "www.acme.test", true)
        .unwrap();
    assert_eq!(
        api.get(MAIN, &ask("www.acme.test"), Auth::None)
            .await
            .status,
        StatusCode::OK
    );
    api.inst().set_active("acme", false).unwrap();
    let inactive = api
        .get(MAIN, &ask("www.acme.test"), Auth::None)
        .await
        .status;
    assert_eq!(inactive, StatusCode::NOT_FOUND);
    api.inst().set_active("acme", true).unwrap();
    assert_eq!(
        api.get(MAIN, "/edge/ask", Auth::None).await.status,
        StatusCode::BAD_REQUEST
    );

    let listed = api.get(ACME, "/domains", Auth::Cookie(&admin)).await;
    assert_eq!(listed.json["domains"].as_array().unwrap().len(), 2);
    let gone = api
        .send(
            Method::DELETE,
            ACME,
            "/domains/shop.acme.test",
            Auth::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.json);
    let left: Vec<&Value> = gone.json["domains"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "only www.acme.test is left: {}", gone.json);
    let freed = api
        .send(
            Method::POST,
            OTHER,
            "/domains",
            Auth::Cookie(&rival),
            json!({"host": "shop.acme.test"}),
        )
        .await;
    assert_eq!(
        freed.status,
        StatusCode::CREATED,
        "free for others at once: {}",
        freed.json
    );
}
