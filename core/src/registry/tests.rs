//! The registry's keys under crashes left behind: a place held by a dead claim is reaped when
//! the installation is full, and host resolution one key at a time agrees with the full table.

use super::*;
use crate::hosts::resolve_with;
use crate::lifecycle::{InitOptions, Installation, NewTenant};
use crate::settings::Env;
use crate::store::local::LocalStore;

fn installation(dir: &std::path::Path, max: u64) -> Installation {
    let inst = Installation::new(Box::new(LocalStore::new(dir)), Env::default());
    inst.init(&InitOptions {
        domain: "example.com".into(),
        multi: true,
        max_tenants: Some(max),
        public_enable_multi_tenant: None,
        require_email_verification: false,
        auto_ssl: false,
        enable_custom_domains: true,
    })
    .unwrap();
    inst
}

fn create(inst: &Installation, name: &str) -> crate::Result<TenantEntry> {
    inst.create_tenant(name, |id| NewTenant {
        id,
        site_name: "Site".into(),
        email: "a@b.test".into(),
        admin_password: None,
        editor_password: None,
        theme: None,
        organisation: None,
    })
}

#[test]
fn a_full_installation_reaps_the_place_of_a_crashed_creation() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path(), 2);
    create(&inst, "first").unwrap();
    // A creation that died after taking its name and place: its claim's lease has run out.
    let dead = TenantEntry {
        id: "crashed".into(),
        domain: "crashed.example.com".into(),
        custom_domains: vec![],
        created: "2026-01-01T00:00:00Z".into(),
        active: false,
        status: Status::Creating,
        claim: Some(Claim {
            holder: "gone".into(),
            process: String::new(),
            expires: 1,
        }),
        slot: None,
        domains: vec![],
        over_limit: None,
        extra: Default::default(),
    };
    entries::create(inst.store(), &dead).unwrap();
    let now = crate::timefmt::now().unix_timestamp();
    let n = slots::claim(inst.store(), &dead, None, 2, now)
        .unwrap()
        .unwrap();
    entries::update(inst.store(), &dead.tenant_id().unwrap(), |e| {
        e.slot = Some(n);
        Ok(Some(()))
    })
    .unwrap();
    assert_eq!(slots::held_places(inst.store()).unwrap().len(), 2, "full");

    let second = create(&inst, "second").unwrap();
    assert_eq!(second.slot, Some(n), "took the dead claim's place");
    assert!(matches!(
        create(&inst, "third"),
        Err(crate::Error::MaxTenants { max: 2, .. })
    ));
    let id = |s: &str| crate::TenantId::trusted(s).unwrap();
    assert!(entries::read(inst.store(), &id("third")).unwrap().is_none());
    // The dead claim's name is free again.
    assert!(!inst.is_taken(&id("crashed")).unwrap());
}

#[test]
fn one_host_at_a_time_resolves_as_the_whole_table_does() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path(), 10);
    create(&inst, "acme").unwrap();
    create(&inst, "gone").unwrap();
    inst.set_active("gone", false).unwrap();
    inst.add_domain("acme", "www.acme.test", true).unwrap();
    let table = inst.host_map().unwrap();
    let probes = [
        "acme.example.com",
        "ACME.example.com:8080",
        "acme.localhost",
        "www.acme.test",
        "gone.localhost",
        "example.com",
        "www.example.com",
        "localhost",
        "nobody.example.com",
        "evil.test",
        "",
    ];
    for host in probes {
        let one = resolve_with("example.com", host, |name| {
            let id = host_keys::lookup(inst.store(), name).unwrap().or_else(|| {
                let label = name.split('.').next()?;
                crate::TenantId::trusted(label).ok()
            })?;
            entries::read(inst.store(), &id).unwrap().map(|(e, _)| e)
        });
        assert_eq!(one.as_ref(), table.resolve(host), "{host}");
    }
}
