//! Menus and media uploads through the content API over real HTTP, and on into the built
//! site: menus are replaced whole and validated (no `javascript:` links, no links to missing
//! pages); uploads are capped, sniffed, decoded, stored under a key the server makes from the
//! bytes' hash (whatever name the client sends), counted against STORAGE_QUOTA, and published
//! at `/media/…`. Every refusal is checked to change nothing in the data root.

mod common;

use common::{
    PASSWORD, Root, Server, assert_unchanged, get, gradient_png, http, http_with_body, noisy_png,
    send_json, snapshot,
};

fn send(
    srv: &Server,
    method: &str,
    host: &str,
    path: &str,
    cookie: &str,
    ctype: &str,
    body: &[u8],
) -> common::HttpResponse {
    http_with_body(
        srv.port,
        method,
        host,
        path,
        &[("Content-Type", ctype), ("Cookie", cookie)],
        body,
    )
}

/// Uploads `bytes` as a PNG to acme's media library.
fn upload(srv: &Server, cookie: &str, bytes: &[u8]) -> common::HttpResponse {
    common::upload_media(srv.port, "acme.localhost", cookie, bytes)
}

fn json_req(
    srv: &Server,
    method: &str,
    path: &str,
    cookie: &str,
    body: &serde_json::Value,
) -> common::HttpResponse {
    let cookie = [("Cookie", cookie)];
    send_json(
        srv.port,
        method,
        "acme.localhost",
        path,
        &cookie,
        &body.to_string(),
    )
}

fn login(srv: &Server, host: &str) -> String {
    common::login_cookie(srv.port, host, "admin", PASSWORD)
}

fn setup(extra_env: &[(&str, &str)]) -> (Root, Server, String) {
    let mut root = Root::new();
    for (k, v) in extra_env {
        root.env.push((k.to_string(), v.to_string()));
    }
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let srv = root.serve(&[]);
    let cookie = login(&srv, "acme.localhost");
    (root, srv, cookie)
}

#[test]
fn menus_are_replaced_whole_validated_and_rendered() {
    let (root, srv, c) = setup(&[]);
    let page =
        serde_json::json!({"slug": "hello", "title": "Hello", "panes": [{"markdown": "Hi"}]});
    assert_eq!(json_req(&srv, "POST", "/api/pages", &c, &page).status, 201);
    let footer = serde_json::json!({"title": "Footer", "items": [
        {"label": "Say hello", "page": "hello", "weight": 2},
        {"label": "Docs", "url": "https://docs.example.org/", "weight": 1}
    ]});
    let r = json_req(&srv, "PUT", "/api/menus/footer", &c, &footer);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["menu"]["items"][0]["label"],
        "Docs",
        "ordered by weight"
    );
    assert_eq!(r.json()["menu"]["items"][1]["page"], "hello");

    let before = snapshot(&root.path());
    for (bad, status) in [
        (
            serde_json::json!({"items": [{"label": "x", "url": "javascript:alert(1)"}]}),
            400,
        ),
        (
            serde_json::json!({"items": [{"label": "x", "url": "//evil.example/"}]}),
            400,
        ),
        (
            serde_json::json!({"items": [{"label": "x", "page": "missing"}]}),
            404,
        ),
        (
            serde_json::json!({"items": [{"label": "x", "page": "hello", "url": "/x/"}]}),
            400,
        ),
        (
            serde_json::json!({"items": [{"label": "", "url": "/x/"}]}),
            400,
        ),
        (serde_json::json!({"items": "nope"}), 400),
    ] {
        let r = json_req(&srv, "PUT", "/api/menus/footer", &c, &bad);
        assert_eq!(r.status, status, "{bad}: {}", r.text());
    }
    assert_eq!(
        json_req(&srv, "PUT", "/api/menus/Bad%20Name", &c, &footer).status,
        400
    );
    assert_unchanged(
        &before,
        &snapshot(&root.path()),
        "refused menu writes change nothing",
    );

    // Another tenant's session cannot touch acme's menus.
    let other = login(&srv, "other.localhost");
    assert_eq!(
        json_req(&srv, "PUT", "/api/menus/footer", &other, &footer).status,
        401
    );

    assert_eq!(
        root.run(&["--json", "build", "--queued"]).ok().json()["built"],
        1
    );
    let home = get(srv.port, "acme.localhost", "/").text();
    assert!(
        home.contains(r#"<a href="/hello/">Say hello</a>"#),
        "{home}"
    );
    assert!(home.contains(r#"<a href="https://docs.example.org/">Docs</a>"#));

    let r = json_req(
        &srv,
        "DELETE",
        "/api/menus/footer",
        &c,
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        json_req(
            &srv,
            "DELETE",
            "/api/menus/footer",
            &c,
            &serde_json::json!({})
        )
        .status,
        404
    );
    let menus = json_req(&srv, "GET", "/api/menus", &c, &serde_json::json!({})).json();
    assert!(
        menus
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["name"] != "footer")
    );
}

#[test]
fn uploads_are_sniffed_decoded_keyed_by_hash_and_published() {
    let (root, srv, c) = setup(&[("T8K_MAX_UPLOAD", "200000")]);
    let img = gradient_png(64, 48);
    // A hostile file name and key in every place a client could put one: all ignored.
    let path = "/api/media?alt=Our%20logo&key=../../config/t8k/tenants.json&name=../../x.png";
    let r = http_with_body(
        srv.port,
        "POST",
        "acme.localhost",
        path,
        &[
            ("Content-Type", "text/plain"),
            (
                "Content-Disposition",
                "attachment; filename=\"../../../config/t8k/tenants.json\"",
            ),
            ("Cookie", &c),
        ],
        &img,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let file = r.json()["media"].clone();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&img))
    };
    assert_eq!(file["key"], format!("media/acme/{}/{sha}.png", &sha[..2]));
    assert_eq!(file["url"], format!("/media/{}/{sha}.png", &sha[..2]));
    assert_eq!(
        (
            file["mime"].as_str(),
            file["width"].as_u64(),
            file["height"].as_u64()
        ),
        (Some("image/png"), Some(64), Some(48))
    );
    assert_eq!(file["alt"], "Our logo");
    assert_eq!(
        std::fs::read(root.file(file["key"].as_str().unwrap())).unwrap(),
        img
    );
    assert!(!root.path().join("x.png").exists());
    // The admin's thumbnail: the stored original, before any build, to the tenant's editors.
    let thumb = format!("/api/media/{}/file", file["id"]);
    let r = http(srv.port, "GET", "acme.localhost", &thumb, &[("Cookie", &c)]);
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("image/png"))
    );
    assert_eq!(r.body, img);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let other = login(&srv, "other.localhost");
    let foreign = http(
        srv.port,
        "GET",
        "acme.localhost",
        &thumb,
        &[("Cookie", &other)],
    );
    assert_eq!(foreign.status, 401, "another site's session");
    for bad in ["/api/media/999/file", "/api/media/..%2Fx/file"] {
        let r = http(srv.port, "GET", "acme.localhost", bad, &[("Cookie", &c)]);
        assert_eq!(r.status, 404, "{bad}");
    }

    let again = upload(&srv, &c, &img);
    assert_eq!(
        (again.status, again.json()["created"].as_bool()),
        (200, Some(false)),
        "identical bytes are stored once"
    );

    let before = snapshot(&root.path());
    let mut truncated = img.clone();
    truncated.truncate(img.len() / 2);
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec();
    let wide = gradient_png(13_000, 1);
    for (body, status) in [
        (truncated, 422),
        (b"<html><script>alert(1)</script></html>".to_vec(), 415),
        (svg, 415),
        (wide, 422),
        (vec![0u8; 250_000], 413),
        (vec![], 400),
    ] {
        let r = upload(&srv, &c, &body);
        assert_eq!(r.status, status, "{}", r.text());
    }
    assert_eq!(
        send(
            &srv,
            "POST",
            "acme.localhost",
            "/api/media",
            "",
            "image/png",
            &img
        )
        .status,
        401
    );
    assert_eq!(
        send(
            &srv,
            "POST",
            "acme.localhost",
            "/api/media",
            &other,
            "image/png",
            &img
        )
        .status,
        401
    );
    for bad in [
        "/api/media/..%2F..%2Fconfig",
        "/api/media/-1",
        "/api/media/999",
    ] {
        assert_eq!(
            send(&srv, "DELETE", "acme.localhost", bad, &c, "text/plain", b"").status,
            404,
            "{bad}"
        );
    }
    assert_unchanged(
        &before,
        &snapshot(&root.path()),
        "refused uploads and deletes change nothing",
    );

    // Past STORAGE_QUOTA: 413 naming the limit, nothing written.
    let used = root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["storage_bytes"]
        .as_u64()
        .unwrap();
    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--storage",
        &format!("{}B", used + 1000),
    ])
    .ok();
    let before = snapshot(&root.path());
    let big = noisy_png(40, 40, 0);
    assert!(big.len() > 4000);
    let r = upload(&srv, &c, &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("STORAGE_QUOTA")
    );
    assert_unchanged(&before, &snapshot(&root.path()), "refused upload");
    root.run(&["tenant", "set-quota", "acme", "--storage", "1GB"])
        .ok();

    // No variants until a build makes them.
    let list = || {
        send(
            &srv,
            "GET",
            "acme.localhost",
            "/api/media",
            &c,
            "text/plain",
            b"",
        )
        .json()
    };
    assert_eq!(list()[0]["variants"], serde_json::json!([]));
    // Published with the site: at its own address, the PNG re-encoded from its pixels alone
    // (lossless, so the same pixels, and no metadata); its variants listed and served.
    root.run(&["build", "--queued"]).ok();
    let served = get(srv.port, "acme.localhost", file["url"].as_str().unwrap());
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(
        image::load_from_memory(&served.body).unwrap().to_rgb8(),
        image::load_from_memory(&img).unwrap().to_rgb8()
    );
    let variants = list()[0]["variants"].as_array().unwrap().clone();
    let formats: Vec<(&str, u64)> = variants
        .iter()
        .map(|v| (v["format"].as_str().unwrap(), v["width"].as_u64().unwrap()))
        .collect();
    assert_eq!(formats, [("webp", 64), ("png", 64)], "{variants:#?}");
    for v in &variants {
        let r = get(srv.port, "acme.localhost", v["url"].as_str().unwrap());
        assert_eq!(r.status, 200, "{v}");
        assert_eq!(
            r.header("content-type").unwrap(),
            format!("image/{}", v["format"].as_str().unwrap())
        );
    }

    let id = file["id"].as_i64().unwrap();
    let r = send(
        &srv,
        "DELETE",
        "acme.localhost",
        &format!("/api/media/{id}"),
        &c,
        "text/plain",
        b"",
    );
    assert_eq!(r.status, 204);
    assert!(!root.file(file["key"].as_str().unwrap()).exists());
    assert_eq!(list(), serde_json::json!([]));
}
