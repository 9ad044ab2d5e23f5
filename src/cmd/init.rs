//! `t8k init`: creates the registry; in single-tenant mode also the one tenant, `default`.

use anyhow::Result;
use t8k_core::TenantId;
use t8k_core::lifecycle::{InitOptions, Installation, NewTenant};

use crate::UsageError;
use crate::cli::InitArgs;
use crate::output;
use crate::secrets;

pub fn run(inst: &Installation, args: InitArgs, json: bool) -> Result<()> {
    let single = if args.multi {
        None
    } else {
        let (Some(name), Some(email)) = (args.name.clone(), args.email.clone()) else {
            return Err(UsageError(
                "single-tenant mode (no --multi) creates the site's tenant now: give --name \"Site name\" and --email, or add --multi".into(),
            )
            .into());
        };
        let (admin, editor) = secrets::tenant_passwords(&args.passwords)?;
        if let Some(p) = &admin {
            t8k_core::password::check_policy(p)?;
        }
        Some((name, email, admin, editor))
    };
    let reg = inst.init(&InitOptions {
        domain: args.domain,
        multi: args.multi,
        max_tenants: args.max_tenants,
        public_enable_multi_tenant: args.public_registration,
        require_email_verification: args.require_email_verification,
        auto_ssl: args.auto_ssl,
        enable_custom_domains: !args.no_custom_domains,
    })?;
    let tenant = match single {
        Some((site_name, email, admin_password, editor_password)) => {
            Some(inst.create_tenant_with(NewTenant {
                id: TenantId::trusted("default")?,
                site_name,
                email,
                admin_password,
                editor_password,
                theme: None,
                organisation: None,
            })?)
        }
        None => None,
    };
    output::emit(
        json,
        &serde_json::json!({ "registry": reg, "tenant": tenant }),
        || {
            let mode = if args.multi {
                format!("multi-tenant, up to {} tenants", reg.max_tenants)
            } else {
                "single-tenant".into()
            };
            println!(
                "Created installation for {} in {} ({mode}).",
                reg.domain,
                inst.store.describe()
            );
            match &tenant {
                Some(t) => println!("Site tenant `{}` is live at https://{}/", t.id, t.domain),
                None => println!(
                    "Next: t8k tenant create ID --name \"Site name\" --email you@{} --admin-password-stdin",
                    reg.domain
                ),
            }
        },
    );
    Ok(())
}
