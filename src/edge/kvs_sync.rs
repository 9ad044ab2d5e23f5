//! `t8k edge cloudfront --sync`: makes the CloudFront KeyValueStore hold exactly the rows of
//! `kvs.json`, so a publish, a deactivation or a new domain reaches CloudFront without an
//! operator (on AWS the `routes` job runs it every minute). Only the difference is sent: the
//! rows that are new or changed are put and the keys that are gone are deleted, in batches
//! of at most [`BATCH`] keys, each under the store's current ETag. A batch is all or nothing;
//! when another writer got in between (412), the sync starts over from a fresh listing.
//!
//! The endpoint is the service's own (`{account}.cloudfront-kvs.global.api.aws`, SigV4A), or
//! `T8K_KVS_ENDPOINT` taken as it is (a KeyValueStore stand-in, such as the tests' one).

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_cloudfrontkeyvaluestore as kvs;
use kvs::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use kvs::types::{DeleteKeyRequestListItem, PutKeyRequestListItem};
use t8k_core::settings::Env;

/// Keys a batch changes at most.
pub const BATCH: usize = 50;
/// Fresh starts after a concurrent writer, before giving up.
const ATTEMPTS: usize = 5;

/// What a sync changed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Synced {
    pub put: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// `T8K_KVS_ENDPOINT`, used as given: the service's rules would put the account id in front
/// of any endpoint's host name.
#[derive(Debug)]
struct Fixed(String);

impl ResolveEndpoint for Fixed {
    fn resolve_endpoint<'a>(&'a self, _: &'a Params) -> EndpointFuture<'a> {
        let scheme = aws_smithy_types::Document::from;
        let auth: std::collections::HashMap<String, aws_smithy_types::Document> = [
            ("name".to_owned(), scheme("sigv4a")),
            ("signingName".to_owned(), scheme("cloudfront-keyvaluestore")),
            ("signingRegionSet".to_owned(), vec![scheme("*")].into()),
        ]
        .into();
        EndpointFuture::ready(Ok(Endpoint::builder()
            .url(self.0.clone())
            .property("authSchemes", vec![aws_smithy_types::Document::from(auth)])
            .build()))
    }
}

async fn client(env: &Env) -> kvs::Client {
    let shared = t8k_core::aws::sdk_config(env.aws_region.clone(), None).await;
    let mut conf = kvs::config::Builder::from(&shared);
    if let Some(url) = &env.kvs_endpoint {
        conf = conf.endpoint_resolver(Fixed(url.clone()));
    }
    kvs::Client::from_conf(conf.build())
}

/// Every row the store holds now.
async fn listing(c: &kvs::Client, arn: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut pages = c.list_keys().kvs_arn(arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!("{}", kvs::error::DisplayErrorContext(e)))?;
        for item in page.items() {
            out.insert(item.key().to_owned(), item.value().to_owned());
        }
    }
    Ok(out)
}

/// One pass: list, then send the difference batch by batch. `Ok(None)` when another writer
/// changed the store under a batch.
async fn pass(
    c: &kvs::Client,
    arn: &str,
    want: &BTreeMap<String, String>,
) -> Result<Option<Synced>> {
    let described = c.describe_key_value_store().kvs_arn(arn).send().await;
    let mut etag = described
        .map_err(|e| anyhow!("{}", kvs::error::DisplayErrorContext(e)))?
        .e_tag()
        .to_owned();
    let have = listing(c, arn).await?;
    let puts: Vec<_> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| PutKeyRequestListItem::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()?;
    let deletes: Vec<_> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| DeleteKeyRequestListItem::builder().key(k).build())
        .collect::<Result<_, _>>()?;
    let done = Synced {
        put: puts.len(),
        deleted: deletes.len(),
        unchanged: want.len() - puts.len(),
    };
    // Puts first: a deploy's new rows are in before the old ones go.
    let changes: Vec<(
        Option<PutKeyRequestListItem>,
        Option<DeleteKeyRequestListItem>,
    )> = puts
        .into_iter()
        .map(|p| (Some(p), None))
        .chain(deletes.into_iter().map(|d| (None, Some(d))))
        .collect();
    for batch in changes.chunks(BATCH) {
        let (p, d): (Vec<_>, Vec<_>) = batch.iter().cloned().unzip();
        let sent = c
            .update_keys()
            .kvs_arn(arn)
            .if_match(&etag)
            .set_puts(Some(p.into_iter().flatten().collect()))
            .set_deletes(Some(d.into_iter().flatten().collect()))
            .send()
            .await;
        match sent {
            Ok(out) => etag = out.e_tag().to_owned(),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                return Ok(None);
            }
            Err(e) => bail!("{}", kvs::error::DisplayErrorContext(e)),
        }
    }
    Ok(Some(done))
}

/// Makes the store at `arn` hold exactly `want`.
pub fn sync(env: &Env, arn: &str, want: Vec<(String, String)>) -> Result<Synced> {
    let want: BTreeMap<String, String> = want.into_iter().collect();
    let (env, arn) = (env.clone(), arn.to_owned());
    t8k_core::aws::run_apart(async move {
        let c = client(&env).await;
        for _ in 0..ATTEMPTS {
            if let Some(done) = pass(&c, &arn, &want).await? {
                return Ok(done);
            }
        }
        bail!(
            "the KeyValueStore {arn} kept changing under the sync ({ATTEMPTS} tries); run it again"
        )
    })?
    .context("syncing the CloudFront KeyValueStore")
}
