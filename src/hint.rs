//! The CLI's remedies for core's errors. Core states what went wrong without knowing who reads
//! it; this says which command or setting fixes it, for a person at a terminal.

use t8k_core::Error as E;

/// A hint for the first core error in `err`'s chain, if one is known.
pub fn for_error(err: &anyhow::Error) -> Option<String> {
    let e = err.chain().find_map(|c| c.downcast_ref::<E>())?;
    Some(match e {
        E::NotInstalled { .. } => "run `t8k init --multi --domain example.com` first, or point --root / T8K_ROOT at an existing data root".into(),
        E::FolderNotEmpty(_) => {
            "choose a new folder, or pass --force to overwrite files in it".into()
        }
        E::AlreadyInstalled { .. } => "use another --root, or manage this one with `t8k tenant ...`".into(),
        E::NoSuchTenant(_) => "`t8k tenant list` shows the tenants".into(),
        E::NothingInTrash(_) => "`t8k tenant list` shows the tenants that exist".into(),
        E::Quota { tenant, .. } => format!("raise it with `t8k tenant set-quota {tenant} ...`"),
        E::BelowUsage { .. } => "free space first, or pass --force to set it anyway".into(),
        E::NoSuchUser { tenant, .. } => format!("`t8k user list {tenant}` shows the accounts"),
        E::MaxTenants { .. } => {
            "raise it with MAX_TENANTS or `max_tenants` in config/t8k/tenants.json".into()
        }
        E::SingleTenantMode => "enable it with ENABLE_MULTI_TENANT=true or `enable_multi_tenant: true` in config/t8k/tenants.json".into(),
        _ => return None,
    })
}
