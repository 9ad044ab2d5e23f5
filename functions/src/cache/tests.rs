use super::*;

/// Both ways of knowing that nothing changed: folder watches, and `statx` per document.
fn caches() -> [Cache; 2] {
    [Cache::default(), Cache::unwatched()]
}
use t8k_core::lifecycle::{InitOptions, Installation, NewTenant};
use t8k_core::settings::Env;
use t8k_core::store::Condition;

fn installation(dir: &std::path::Path) -> Installation {
    let store = Box::new(t8k_core::store::local::LocalStore::new(dir));
    let inst = Installation::new(store, Env::default());
    inst.init(&InitOptions {
        domain: "aaaa.test".into(),
        multi: true,
        max_tenants: Some(5),
        public_enable_multi_tenant: None,
        require_email_verification: false,
        auto_ssl: false,
        enable_custom_domains: true,
    })
    .unwrap();
    inst
}

/// An installation with one tenant, `acme`.
fn with_acme(dir: &std::path::Path) -> Installation {
    let inst = installation(dir);
    inst.create_tenant("acme", |id| NewTenant {
        id,
        site_name: "Acme".into(),
        email: "a@acme.test".into(),
        admin_password: None,
        editor_password: None,
        theme: None,
        organisation: None,
    })
    .unwrap();
    inst
}

#[test]
fn every_replacement_of_the_registry_is_seen_even_at_the_same_size() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path());
    let key = layout::registry();
    for cache in caches() {
        for (i, domain) in ["bbbb.test", "cccc.test", "aaaa.test"]
            .iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let mut reg = cache
                .registry(inst.store(), &cache.sync())
                .unwrap()
                .reg
                .clone();
            reg.domain = domain.to_string();
            let bytes = t8k_core::cas::to_json_bytes(&reg);
            inst.store().put(&key, &bytes, Condition::None).unwrap();
            assert_eq!(
                cache
                    .registry(inst.store(), &cache.sync())
                    .unwrap()
                    .reg
                    .domain,
                *domain,
                "write {i}"
            );
        }
    }
}

#[test]
fn edits_in_place_are_seen() {
    for cache in caches() {
        let dir = tempfile::tempdir().unwrap();
        let inst = installation(dir.path());
        assert_eq!(
            cache
                .registry(inst.store(), &cache.sync())
                .unwrap()
                .reg
                .max_tenants,
            5
        );
        let path = dir.path().join("config/t8k/tenants.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replace("\"max_tenants\": 5", "\"max_tenants\": 50");
        std::fs::write(&path, edited).unwrap();
        assert_eq!(
            cache
                .registry(inst.store(), &cache.sync())
                .unwrap()
                .reg
                .max_tenants,
            50
        );
    }
}

#[test]
fn usage_follows_writes_by_other_connections() {
    let dir = tempfile::tempdir().unwrap();
    let inst = with_acme(dir.path());
    let id = TenantId::trusted("acme").unwrap();
    for (n, cache) in caches().into_iter().enumerate() {
        let usage = |cache: &Cache| {
            let fresh = cache.sync();
            let cfg = cache.config(inst.store(), &id, &fresh).unwrap();
            cache
                .usage(inst.store(), &id, &cfg, &fresh)
                .unwrap()
                .unwrap()
        };
        let before = usage(&cache);
        assert_eq!(usage(&cache).pages, before.pages);
        let page = t8k_core::content::Page::new(format!("new-{n}"), "New");
        t8k_core::content::edit::save(
            inst.store(),
            &id,
            &page,
            t8k_core::content::edit::Mode::Create,
        )
        .unwrap();
        assert_eq!(usage(&cache).pages, before.pages + 1);
        let max = 42 + n as u64;
        let change = t8k_core::lifecycle::QuotaChange {
            pages: Some(max),
            ..Default::default()
        };
        inst.set_quota("acme", &change, false).unwrap();
        assert_eq!(
            usage(&cache).limits.max_pages,
            max,
            "a new env.json is a new usage"
        );
    }
}

#[test]
fn a_month_nothing_was_served_in_is_seen_when_traffic_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let inst = with_acme(dir.path());
    assert!(
        dir.path().join("stats/acme/bandwidth").is_dir(),
        "creation makes the folder a server watches"
    );
    let id = TenantId::trusted("acme").unwrap();
    let served = |bytes| Month { bytes, requests: 1 };
    for (n, cache) in caches().into_iter().enumerate() {
        let (this, next) = (
            format!("2026-0{}", 1 + 2 * n),
            format!("2026-0{}", 2 + 2 * n),
        );
        let read = |month: &str| {
            cache
                .bandwidth(inst.store(), &id, month, &cache.sync())
                .unwrap()
        };
        assert_eq!(read(&this), None, "nothing served yet");
        assert_eq!(
            read(&this),
            None,
            "still nothing (now known without looking, when watched)"
        );
        t8k_core::bandwidth::add(inst.store(), &id, &this, served(100)).unwrap();
        assert_eq!(read(&this), Some(served(100)), "the first traffic shows");
        assert_eq!(read(&next), None, "another month has its own file");
        t8k_core::bandwidth::add(inst.store(), &id, &next, served(7)).unwrap();
        assert_eq!(read(&next), Some(served(7)));
        assert_eq!(read(&this), Some(served(100)), "and back");
        t8k_core::bandwidth::add(inst.store(), &id, &this, served(1)).unwrap();
        assert_eq!(read(&this).map(|m| m.bytes), Some(101));
    }
}

#[test]
fn a_tenant_folder_removed_and_made_again_is_read_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path());
    let id = TenantId::trusted("gone").unwrap();
    for cache in caches() {
        let cfg = dir.path().join("config/gone");
        let read = || {
            cache
                .config(inst.store(), &id, &cache.sync())
                .map(|d| d.cfg.site_name.clone())
        };
        std::fs::create_dir_all(&cfg).unwrap();
        assert!(read().is_err(), "an empty folder: no such tenant");
        assert!(read().is_err(), "and again, from what the cache knows");
        let doc = |name: &str| {
            serde_json::to_vec(&serde_json::json!({
                "TENANT_ID": "gone", "SITE_URL": "https://gone.aaaa.test", "SITE_NAME": name,
                "HOME_SLUG": "hello", "STORAGE_QUOTA": "1GB", "MAX_PAGES": 10, "MAX_USERS": 2,
                "SIGNING_SECRET": "00", "THEME": "default",
            }))
            .unwrap()
        };
        std::fs::write(cfg.join("env.json"), doc("First")).unwrap();
        assert_eq!(read().unwrap(), "First", "a document appearing is seen");
        std::fs::rename(&cfg, dir.path().join("config/gone.old")).unwrap();
        assert!(read().is_err(), "the folder moved away");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join("env.json"), doc("Second")).unwrap();
        assert_eq!(read().unwrap(), "Second", "a new folder is watched afresh");
        std::fs::remove_dir_all(dir.path().join("config/gone.old")).unwrap();
        std::fs::remove_dir_all(&cfg).unwrap();
    }
}
