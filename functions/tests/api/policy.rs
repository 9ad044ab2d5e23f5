//! The IAM table (`t8k_functions::iam`) against the code: every function, each on a store of
//! its own that records its S3 requests, walks its routes with real bodies; each request
//! must be granted to that function, and each grant must be used by one. A new store call
//! that its role does not allow fails here, not as an AccessDenied in production.

use super::*;
use t8k_functions::iam::{Op, Unit, matches};

/// A small PNG, as a camera or an editor would upload.
fn png(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 6) as u8, 90])
    });
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Fails with the request when `a` is not what the journey expects.
fn ok(a: &Answer, what: &str) {
    assert!(a.status.is_success(), "{what}: {} {}", a.status, a.json);
}

async fn tenant_journeys(api: &Api) {
    let admin = api.login(ACME, "admin").await;
    let editor = api.login(ACME, "editor").await;
    let (ed, ad) = (Auth::Cookie(&editor), Auth::Cookie(&admin));
    ok(&api.get(ACME, "/auth/me", ed).await, "me");
    ok(&api.get(ACME, "/quota", ed).await, "quota");
    let page = json!({"slug": "news/hello", "title": "Hello", "panes": [{"markdown": "Hi.", "options": {}}]});
    ok(
        &api.send(Method::POST, ACME, "/pages", ed, page.clone())
            .await,
        "create",
    );
    ok(&api.get(ACME, "/pages", ed).await, "list");
    ok(&api.get(ACME, "/pages/news/hello", ed).await, "get");
    let page2 = json!({"slug": "news/hello", "title": "Hello again", "panes": [{"markdown": "Hi!", "options": {}}]});
    ok(
        &api.send(Method::PUT, ACME, "/pages/news/hello", ed, page2)
            .await,
        "update",
    );
    ok(
        &api.send(
            Method::POST,
            ACME,
            "/preview",
            ed,
            json!({"panes": ["*hi*"]}),
        )
        .await,
        "preview",
    );
    let menu = json!({"title": "Main", "items": [{"label": "Hello", "url": "/news/hello/"}]});
    ok(
        &api.send(Method::PUT, ACME, "/menus/main", ed, menu).await,
        "menu",
    );
    ok(&api.get(ACME, "/menus", ed).await, "menus");
    ok(
        &api.call(Method::DELETE, ACME, "/menus/main", ed, None)
            .await,
        "menu delete",
    );
    let media = api.upload(ACME, &editor, &png(16)).await;
    ok(&media, "upload");
    let id = media.json["media"]["id"].as_i64().unwrap();
    ok(&api.get(ACME, "/media", ed).await, "media");
    ok(
        &api.get(ACME, &format!("/media/{id}/file"), ed).await,
        "media file",
    );
    ok(
        &api.call(Method::DELETE, ACME, &format!("/media/{id}"), ed, None)
            .await,
        "media delete",
    );
    // A picture that stays, on a page: the builder makes its variants.
    let kept = api.upload(ACME, &editor, &png(40)).await;
    ok(&kept, "upload");
    let url = kept.json["media"]["url"].as_str().unwrap();
    let md = format!("![A dot]({url})");
    let gallery =
        json!({"slug": "gallery", "title": "Gallery", "panes": [{"markdown": md, "options": {}}]});
    ok(
        &api.send(Method::POST, ACME, "/pages", ed, gallery).await,
        "gallery",
    );
    ok(
        &api.send(Method::POST, ACME, "/publish", ed, json!({}))
            .await,
        "publish",
    );
    ok(&api.get(ACME, "/status", ed).await, "status");
    ok(&api.get(ACME, "/analytics", ed).await, "analytics");
    ok(
        &api.get(ACME, "/analytics/dashboard", ed).await,
        "dashboard",
    );
    ok(
        &api.call(Method::DELETE, ACME, "/pages/news/hello", ed, None)
            .await,
        "delete",
    );
    let beacon = json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/"});
    ok(
        &api.send(Method::POST, ACME, "/beacon", Auth::None, beacon)
            .await,
        "beacon",
    );

    let user = json!({"username": "writer", "email": "w@acme.test", "role": "editor", "password": PASSWORD});
    ok(
        &api.send(Method::POST, ACME, "/users", ad, user).await,
        "user",
    );
    ok(&api.get(ACME, "/users", ad).await, "users");
    let off = json!({"disabled": true});
    ok(
        &api.send(Method::PATCH, ACME, "/users/writer", ad, off)
            .await,
        "user off",
    );
    ok(
        &api.send(Method::POST, ACME, "/backups", ad, json!({}))
            .await,
        "backup request",
    );
    ok(&api.get(ACME, "/backups", ad).await, "backups");
    let domain = json!({"host": "www.acme-shop.test"});
    ok(
        &api.send(Method::POST, ACME, "/domains", ad, domain).await,
        "domain",
    );
    ok(&api.get(ACME, "/domains", ad).await, "domains");
    let ask = "/edge/ask?domain=www.acme-shop.test";
    assert_eq!(
        api.get(MAIN, ask, Auth::None).await.status,
        StatusCode::NOT_FOUND,
        "unverified"
    );
    // Served by the auth function, outside /api.
    let path = "/.well-known/acme-challenge/t0ken";
    let req = Request::get(path).header(header::HOST, "www.acme-shop.test");
    let challenge = api
        .answer(&Method::GET, path, req.body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        challenge.status,
        StatusCode::NOT_FOUND,
        "no order, no answer"
    );
    let verify = api
        .send(
            Method::POST,
            ACME,
            "/domains/www.acme-shop.test/verify",
            ad,
            json!({}),
        )
        .await;
    assert!(
        verify.status.is_client_error() || verify.status.is_success(),
        "{}",
        verify.json
    );
    ok(
        &api.call(
            Method::DELETE,
            ACME,
            "/domains/www.acme-shop.test",
            ad,
            None,
        )
        .await,
        "domain off",
    );
    ok(&api.get(ACME, "/notices", ad).await, "notices");
    ok(
        &api.get(MAIN, "/edge/ask?domain=acme.example.com", Auth::None)
            .await,
        "ask",
    );
    let change = json!({"current": PASSWORD, "new": "a new correct horse"});
    ok(
        &api.send(Method::POST, ACME, "/auth/password", ad, change)
            .await,
        "password",
    );
    ok(
        &api.send(Method::POST, ACME, "/auth/logout", ed, json!({}))
            .await,
        "logout",
    );
}

async fn signup_journey(api: &Api) {
    ok(
        &api.get(MAIN, "/register/check?name=newco", Auth::None)
            .await,
        "check",
    );
    let signup = json!({"subdomain": "newco", "name": "New Co", "email": "o@newco.test", "password": PASSWORD});
    ok(
        &api.send(Method::POST, MAIN, "/register", Auth::None, signup)
            .await,
        "register",
    );
    // The link of the mail in the outbox.
    let outbox = api.dir.path().join("outbox");
    let mail = std::fs::read_dir(&outbox)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mail = std::fs::read_to_string(mail)
        .unwrap()
        .replace("=\r\n", "")
        .replace("=3D", "=");
    let at = mail.find("token=").unwrap() + "token=".len();
    let token: String = mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    let link = format!("/register/verify?token={token}");
    ok(&api.get(MAIN, &link, Auth::None).await, "verify page");
    let confirm = json!({"token": token});
    ok(
        &api.send(Method::POST, MAIN, "/register/verify", Auth::None, confirm)
            .await,
        "verify",
    );
}

async fn operator_journey(api: &Api) {
    let key = api.inst().rotate_admin_key().unwrap();
    let (login, _) = super::operator::operator_login(api, &key).await;
    ok(&login, "operator login");
    let op = Auth::Bearer(&key);
    for path in [
        "/admin/me",
        "/admin/report",
        "/admin/signups",
        "/admin/tenants",
        "/admin/tenants/acme",
    ] {
        ok(&api.get(MAIN, path, op).await, path);
    }
    ok(
        &api.send(
            Method::POST,
            MAIN,
            "/admin/tenants/other/deactivate",
            op,
            json!({}),
        )
        .await,
        "off",
    );
    ok(
        &api.send(
            Method::POST,
            MAIN,
            "/admin/tenants/other/activate",
            op,
            json!({}),
        )
        .await,
        "on",
    );
    let quota = json!({"pages": 500});
    ok(
        &api.send(Method::PUT, MAIN, "/admin/tenants/acme/quota", op, quota)
            .await,
        "quota",
    );
    let notice = json!({"message": "Upgrade", "starts": "2030-01-01T00:00:00Z", "ends": "2030-01-01T01:00:00Z", "all": true});
    ok(
        &api.send(Method::PUT, MAIN, "/admin/notices", op, notice)
            .await,
        "notice",
    );
    ok(
        &api.send(Method::POST, MAIN, "/admin/logout", op, json!({}))
            .await,
        "operator logout",
    );
}

/// Grants a run of the journeys may leave unused, and why: the code takes that path or
/// another by chance.
const SOMETIMES: [(Op, &str, &str); 3] = [
    (
        Op::Write,
        "config/t8k/slots-next.json",
        "a sign-up raises the high-water mark only when its place is the one at the mark; a claim may take a random free place instead",
    ),
    (
        Op::Delete,
        "config/t8k/slots/*",
        "a place is given back only when the tenant's creation fails after claiming it",
    ),
    (
        Op::List,
        "config/t8k/slots/",
        "the places are listed only when the installation is nearly full",
    ),
];

/// The Lambda builder's work on what the journeys queued: builds and publishes each tenant
/// into the data root (its bundle store on AWS), as `t8k-build` does.
fn builder_journey(api: &Api) -> recorder::Log {
    let log = recorder::Log::default();
    let store = Box::new(recorder::Recorder::new(api.dir.path(), log.clone()));
    let inst = Installation::new(store, Env::default());
    let themes_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let themes = t8k_builder::Themes::new(themes_dir);
    let out = t8k_builder::default_out(&inst).unwrap();
    let job = t8k_builder::job::Job {
        inst: &inst,
        themes: &themes,
        out: &out,
        target: inst.store(),
        holder: "policy-test",
        lease_secs: 60,
        warm: None,
    };
    let queued = t8k_core::queue::pending_ids(inst.store()).unwrap();
    assert!(queued.len() >= 2, "the journeys queued builds: {queued:?}");
    for id in queued {
        match job.serve(&id).unwrap() {
            t8k_builder::job::Turn::Served(s) => assert!(!s.failed(), "{id}: {}", json!(s)),
            other => panic!("{id}: {other:?}"),
        }
    }
    log
}

#[tokio::test]
async fn each_function_is_granted_exactly_the_requests_its_code_makes() {
    let (api, logs) = Api::recorded();
    // A backup repository (a store of its own, which the recorder does not see).
    let repo = tempfile::tempdir().unwrap();
    let repo_store = Box::new(t8k_core::store::local::LocalStore::new(repo.path()));
    t8k_core::backup::Repo::init(repo_store, None).unwrap();
    let repository = repo.path().to_str().unwrap().to_owned();
    let backup = t8k_core::registry::BackupSettings {
        repository,
        schedule: None,
    };
    api.inst().set_backup(backup).unwrap();
    tenant_journeys(&api).await;
    signup_journey(&api).await;
    operator_journey(&api).await;
    let build = builder_journey(&api);
    let mut problems = vec![];
    let units = logs.iter().map(|(f, log)| (Unit::Http(*f), log));
    for (unit, log) in units.chain([(Unit::Build, &build)]) {
        let seen = log.lock().unwrap().clone();
        #[allow(clippy::disallowed_methods)] // the test's own switch, not t8k's configuration
        let show = std::env::var("T8K_SHOW_REQUESTS").is_ok();
        if show {
            for (op, key) in &seen {
                eprintln!("{} {op:?} {key}", unit.binary());
            }
        }
        for (op, key) in &seen {
            if !unit.allows(*op, key) {
                problems.push(format!("{}: {op:?} {key} is not granted", unit.binary()));
            }
        }
        for (op, patterns) in unit.grants() {
            for p in patterns.iter() {
                let sometimes = SOMETIMES.iter().any(|(o, key, _)| o == op && key == p);
                if !sometimes && !seen.iter().any(|(o, k)| o == op && matches(p, k)) {
                    problems.push(format!(
                        "{}: {op:?} {p} is granted but never used",
                        unit.binary()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
