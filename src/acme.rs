//! Certificates from an ACME CA (RFC 8555) with instant-acme: the account is created once per
//! directory and kept in the data root; custom domains are proved over HTTP-01 (the answer is
//! written to `acme/challenges/{token}` in the data root, so whichever edge node the CA
//! reaches serves it); the wildcard for the tenants' subdomains over DNS-01 through the
//! operator's DNS hook. instant-acme retries `badNonce` itself; every other failure is
//! returned, recorded in `certs/{name}/state.json` by the caller, and retried after a backoff.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use t8k_core::cas::{read_json, to_json_bytes};
use t8k_core::certs;
use t8k_core::store::{Condition, Store, StoreError};

/// How a certificate's names are proved.
pub enum Proof<'a> {
    /// HTTP-01, answered from the data root by `t8k serve` and the edges.
    Http,
    /// DNS-01 through the operator's hook command (`HOOK set|unset NAME VALUE`).
    Dns { hook: &'a str },
}

/// Loads the account for `directory` from the data root, or registers one (create-only, so
/// two processes registering at once agree on the first one stored).
pub async fn account(
    store: &dyn Store,
    directory: &str,
    email: Option<&str>,
    extra_root: Option<&Path>,
) -> Result<Account> {
    let key = certs::account_key(directory);
    let builder = || -> Result<_> {
        Ok(match extra_root {
            Some(path) => Account::builder_with_root(path).with_context(|| {
                format!(
                    "T8K_ACME_CA_CERT={} is not a PEM certificate",
                    path.display()
                )
            })?,
            None => Account::builder().context("cannot start the ACME client")?,
        })
    };
    let stored = |creds: AccountCredentials| async {
        builder()?
            .from_credentials(creds)
            .await
            .with_context(|| format!("cannot reach the ACME directory {directory}"))
    };
    if let Some((creds, _)) = read_json::<AccountCredentials>(store, &key)? {
        return stored(creds).await;
    }
    let contact = email.map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, creds) = builder()?
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            directory.to_owned(),
            None,
        )
        .await
        .with_context(|| format!("cannot register an account with {directory}"))?;
    match store.put(&key, &to_json_bytes(&creds), Condition::IfAbsent) {
        Ok(_) => Ok(account),
        // Another process stored its account first: use that one.
        Err(StoreError::PreconditionFailed { .. }) => match read_json(store, &key)? {
            Some((creds, _)) => stored(creds).await,
            None => bail!("the ACME account at {key} vanished while being created"),
        },
        Err(e) => Err(e.into()),
    }
}

/// Obtains a certificate for `names` (the first is the subject) and returns (chain, key) as
/// PEM. The challenge answers are removed whatever happens.
pub async fn obtain(
    account: &Account,
    store: &dyn Store,
    names: &[String],
    proof: &Proof<'_>,
) -> Result<(String, String)> {
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .context("the CA refused the order")?;
    let mut published = vec![];
    let prepared = prepare(&mut order, store, proof, &mut published).await;
    let ready = match prepared {
        Ok(()) => order.poll_ready(&patience()).await.map_err(Into::into),
        Err(e) => Err(e),
    };
    for (name, value) in published {
        let undone = match proof {
            Proof::Http => certs::remove_challenge(store, &name).map_err(Into::into),
            Proof::Dns { hook } => run_hook(hook, "unset", &name, &value),
        };
        if let Err(e) = undone {
            tracing::warn!(
                error = format!("{e:#}"),
                "cannot remove an ACME challenge answer"
            );
        }
    }
    if ready? != OrderStatus::Ready {
        bail!("{}", why_invalid(&mut order).await);
    }
    let key_pem = order.finalize().await.context("the CA refused the CSR")?;
    let chain = order
        .poll_certificate(&patience())
        .await
        .context("the CA did not issue the certificate")?;
    Ok((chain, key_pem))
}

/// Publishes the answer of every pending authorization and tells the CA to check it.
async fn prepare(
    order: &mut instant_acme::Order,
    store: &dyn Store,
    proof: &Proof<'_>,
    published: &mut Vec<(String, String)>,
) -> Result<()> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.context("cannot read an authorization")?;
        match authz.status {
            AuthorizationStatus::Valid => continue,
            AuthorizationStatus::Pending => {}
            other => bail!("the authorization is {other:?}"),
        }
        let kind = match proof {
            Proof::Http => ChallengeType::Http01,
            Proof::Dns { .. } => ChallengeType::Dns01,
        };
        let mut challenge = authz
            .challenge(kind.clone())
            .with_context(|| format!("the CA offers no {kind:?} challenge"))?;
        let answer = challenge.key_authorization();
        match proof {
            Proof::Http => {
                certs::put_challenge(store, &challenge.token, answer.as_str())?;
                published.push((challenge.token.clone(), String::new()));
            }
            Proof::Dns { hook } => {
                // For `*.example.com` as for `example.com`, the record is on the base name.
                let Identifier::Dns(base) = challenge.identifier().identifier else {
                    bail!("only DNS names are ordered");
                };
                let name = format!("_acme-challenge.{base}");
                let value = answer.dns_value();
                run_hook(hook, "set", &name, &value)?;
                published.push((name, value));
            }
        }
        challenge
            .set_ready()
            .await
            .context("the CA refused the challenge")?;
    }
    Ok(())
}

/// The CA's reasons for an invalid order, from its authorizations' challenges.
async fn why_invalid(order: &mut instant_acme::Order) -> String {
    let mut why = vec![];
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        if let Ok(state) = authz.refresh().await {
            for c in &state.challenges {
                if let Some(p) = &c.error {
                    why.push(p.detail.clone().unwrap_or_else(|| format!("{p:?}")));
                }
            }
        }
    }
    if why.is_empty() {
        "the CA did not validate the names".into()
    } else {
        format!("the CA could not validate: {}", why.join("; "))
    }
}

/// Polling for a CA's answers: a second apart at first, for up to two minutes.
fn patience() -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(500))
        .backoff(1.5)
        .timeout(Duration::from_secs(120))
}

/// Runs the DNS hook: `HOOK set|unset NAME VALUE`.
fn run_hook(hook: &str, verb: &str, name: &str, value: &str) -> Result<()> {
    let status = Command::new(hook)
        .args([verb, name, value])
        .status()
        .with_context(|| format!("cannot run the DNS hook {hook:?} (acme_dns_hook)"))?;
    if !status.success() {
        bail!("the DNS hook `{hook} {verb} {name}` failed ({status})");
    }
    Ok(())
}
