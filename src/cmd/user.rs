//! `t8k user ...`: a tenant's accounts.

use anyhow::Result;
use t8k_core::lifecycle::Installation;
use t8k_core::users::{self, Role};

use crate::cli::{RoleArg, UserCmd};
use crate::{output, secrets};

/// `user verify` with a wrong password: exit code 1 without an error trace.
#[derive(Debug)]
pub struct WrongPassword;

impl std::fmt::Display for WrongPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("wrong user name or password")
    }
}

impl std::error::Error for WrongPassword {}

pub fn run(inst: &Installation, cmd: UserCmd, json: bool) -> Result<()> {
    match cmd {
        UserCmd::List { tenant } => {
            let (_, id) = inst.entry(&tenant)?;
            let accounts = users::list(inst.store(), &id)?;
            output::emit(json, &accounts, || {
                let rows = accounts
                    .iter()
                    .map(|a| {
                        vec![
                            a.username.clone(),
                            a.role.as_str().into(),
                            if a.builtin { "built-in" } else { "named" }.into(),
                            if a.enabled { "yes" } else { "no" }.into(),
                            a.email.clone(),
                            a.last_login.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                println!(
                    "{}",
                    output::table(
                        &["user", "role", "kind", "enabled", "email", "last login"],
                        rows
                    )
                );
            });
        }
        UserCmd::Add {
            tenant,
            username,
            role,
            email,
            password,
        } => {
            let (_, id) = inst.entry(&tenant)?;
            let pw = secrets::one_password(&password)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Editor => Role::Editor,
            };
            users::add(inst.store(), &id, &username, role, &email, &pw)?;
            output::emit(
                json,
                &serde_json::json!({"tenant": id, "user": username, "role": role}),
                || println!("Added {} `{username}` to {id}.", role.as_str()),
            );
        }
        UserCmd::Passwd {
            tenant,
            username,
            password,
        } => {
            let (_, id) = inst.entry(&tenant)?;
            users::set_password(
                inst.store(),
                &id,
                &username,
                &secrets::one_password(&password)?,
            )?;
            output::emit(
                json,
                &serde_json::json!({"tenant": id, "user": username}),
                || println!("Password of `{username}` in {id} set."),
            );
        }
        UserCmd::Disable { tenant, username } => toggle(inst, &tenant, &username, true, json)?,
        UserCmd::Enable { tenant, username } => toggle(inst, &tenant, &username, false, json)?,
        UserCmd::Verify {
            tenant,
            username,
            password,
        } => {
            let (_, id) = inst.entry(&tenant)?;
            let account = users::verify(
                inst.store(),
                &id,
                &username,
                &secrets::one_password(&password)?,
            )?;
            output::emit(
                json,
                &serde_json::json!({"ok": account.is_some(), "account": account}),
                || match &account {
                    Some(a) => println!("ok: `{}` is a {} of {id}", a.username, a.role.as_str()),
                    None => eprintln!("wrong user name or password"),
                },
            );
            if account.is_none() {
                return Err(WrongPassword.into());
            }
        }
    }
    Ok(())
}

fn toggle(
    inst: &Installation,
    tenant: &str,
    username: &str,
    disabled: bool,
    json: bool,
) -> Result<()> {
    let (_, id) = inst.entry(tenant)?;
    users::set_disabled(inst.store(), &id, username, disabled)?;
    let state = if disabled { "disabled" } else { "enabled" };
    output::emit(
        json,
        &serde_json::json!({"tenant": id, "user": username, "state": state}),
        || println!("`{username}` in {id} is {state}."),
    );
    Ok(())
}
