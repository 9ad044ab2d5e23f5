//! The data root (or a bundle store) in an S3-compatible bucket: AWS S3, MinIO, R2, moto.
//!
//! Path-style addressing, endpoint from `--endpoint-url` or `AWS_ENDPOINT_URL`, credentials and
//! region from the standard AWS chain. Create-only writes are `If-None-Match: *`, compare-and-
//! swap is `If-Match: <etag>`; [`S3Store::probe_conditional_writes`] refuses a store that
//! ignores them (Garage does), because the registry would silently become racy.
//!
//! The [`Store`] trait is synchronous; this store owns a small tokio runtime and runs each
//! request on it, so it can be called from plain threads (the CLI, rayon workers) and from
//! blocking sections of async code alike.

use std::future::Future;
use std::path::PathBuf;
use std::sync::mpsc;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::{Condition, Entry, Object, PutMeta, Store, StoreError, StoreResult, Version};
use crate::key::Key;

pub struct S3Store {
    /// Owned so it lives as long as the store; dropped with `shutdown_background` (see `Drop`),
    /// which is allowed on an async thread where dropping a runtime is not.
    rt: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    client: Client,
    bucket: String,
    prefix: String,
    endpoint: String,
    cache_dir: PathBuf,
}

fn status<E, R: HttpStatus>(err: &SdkError<E, R>) -> Option<u16> {
    err.raw_response().map(|r| r.status_code())
}

/// The HTTP status of a raw response, whatever its type.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl S3Store {
    /// `spec` is `bucket/prefix` (the part after `s3://`).
    /// The endpoint (MinIO, moto, R2…; none: AWS), region and cache folder come from `env`.
    ///
    /// Blocking, but safe to call from any thread, an async one included (it waits on a channel,
    /// never `block_on`); async code should prefer [`crate::store::open_async`], which runs it
    /// on the blocking pool.
    pub fn open(spec: &str, env: &crate::settings::Env) -> StoreResult<S3Store> {
        let (bucket, prefix) = spec.split_once('/').unwrap_or((spec, ""));
        let bad = |m: &str| StoreError::Unsupported(format!("s3://{spec}: {m}"));
        if bucket.is_empty()
            || !bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return Err(bad(
                "the bucket name must be lowercase letters, digits, '-' and '.'",
            ));
        }
        let prefix = prefix.trim_matches('/').to_owned();
        if !prefix.is_empty() {
            Key::new(&prefix).map_err(|e| bad(&e.to_string()))?;
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("t8k-s3")
            .enable_all()
            .build()
            .map_err(|e| bad(&format!("cannot start the I/O runtime: {e}")))?;
        let endpoint_url = env.s3_endpoint.clone();
        let (url, region) = (endpoint_url.clone(), env.aws_region.clone());
        let handle = rt.handle().clone();
        let client = run_on(&handle, async move {
            let shared = crate::aws::sdk_config(region, url).await;
            let conf = aws_sdk_s3::config::Builder::from(&shared)
                .force_path_style(true)
                .retry_config(
                    aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(5),
                )
                .build();
            Client::from_conf(conf)
        });
        let endpoint = endpoint_url.unwrap_or_else(|| "AWS S3".into());
        Ok(S3Store {
            rt: Some(rt),
            handle,
            client,
            bucket: bucket.to_owned(),
            prefix,
            endpoint,
            cache_dir: env.cache_dir.clone(),
        })
    }

    fn full(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// Runs a request on the store's runtime and waits for it, from any thread.
    fn run<F, T>(&self, fut: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        run_on(&self.handle, fut)
    }

    fn remote<E: std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        op: &'static str,
        key: &str,
        err: SdkError<E, R>,
    ) -> StoreError {
        StoreError::Remote {
            endpoint: self.endpoint.clone(),
            op,
            key: format!("s3://{}/{}", self.bucket, self.full(key)),
            message: DisplayErrorContext(&err).to_string(),
        }
    }

    /// Proves the store honours `If-None-Match: *` and `If-Match`: a second create-only write
    /// of one key must fail, and so must a write against a wrong ETag.
    pub fn probe_conditional_writes(&self) -> StoreResult<()> {
        let mut rand = [0u8; 8];
        getrandom::fill(&mut rand).expect("the OS random source is available");
        let key =
            Key::new(&format!("t8k-probe/{}", hex::encode(rand))).expect("probe keys are valid");
        self.put(&key, b"1", Condition::IfAbsent)?;
        let again = self.put(&key, b"2", Condition::IfAbsent);
        let wrong = self.put(
            &key,
            b"3",
            Condition::IfMatch(Version("\"not-the-etag\"".into())),
        );
        self.delete(&key)?;
        let honoured = matches!(again, Err(StoreError::PreconditionFailed { .. }))
            && matches!(wrong, Err(StoreError::PreconditionFailed { .. }));
        if honoured {
            return Ok(());
        }
        Err(StoreError::Unsupported(format!(
            "{} (s3://{}) ignores conditional writes (If-None-Match / If-Match), so two sign-ups could both win a name and max_tenants could be exceeded. \
             Keep the data root on a store with atomic conditional writes (AWS S3, MinIO, Cloudflare R2); a store without them (e.g. Garage) can hold published bundles (a separate bundle store) but not the data root",
            self.endpoint, self.bucket
        )))
    }

    pub fn bucket_url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// Runs `fut` on `handle`'s runtime and waits for it on a channel: from any thread, an async
/// one included (where `block_on` would panic).
fn run_on<F, T>(handle: &tokio::runtime::Handle, fut: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    handle.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the S3 runtime outlives its requests")
}

impl Drop for S3Store {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Store for S3Store {
    fn get(&self, key: &Key) -> StoreResult<Option<Object>> {
        let (client, bucket, full) = (
            self.client.clone(),
            self.bucket.clone(),
            self.full(key.as_str()),
        );
        let res = self.run(async move {
            let out = client.get_object().bucket(bucket).key(full).send().await?;
            let etag = out.e_tag().unwrap_or_default().to_owned();
            let bytes = out.body.collect().await.map(|b| b.into_bytes().to_vec());
            Ok::<
                _,
                SdkError<
                    aws_sdk_s3::operation::get_object::GetObjectError,
                    aws_sdk_s3::config::http::HttpResponse,
                >,
            >((etag, bytes))
        });
        match res {
            Ok((etag, Ok(bytes))) => Ok(Some(Object {
                bytes,
                version: Version(etag),
            })),
            Ok((_, Err(e))) => Err(StoreError::Remote {
                endpoint: self.endpoint.clone(),
                op: "GET",
                key: key.to_string(),
                message: e.to_string(),
            }),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(self.remote("GET", key.as_str(), e)),
        }
    }

    fn put(&self, key: &Key, bytes: &[u8], cond: Condition) -> StoreResult<Version> {
        self.put_with(key, bytes, cond, &PutMeta::default())
    }

    fn put_with(
        &self,
        key: &Key,
        bytes: &[u8],
        cond: Condition,
        meta: &PutMeta,
    ) -> StoreResult<Version> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key.as_str()))
            .body(ByteStream::from(bytes.to_vec()));
        match &cond {
            Condition::None => {}
            Condition::IfAbsent => req = req.if_none_match("*"),
            Condition::IfMatch(v) => req = req.if_match(&v.0),
        }
        if let Some(ct) = &meta.content_type {
            req = req.content_type(ct);
        }
        if let Some(cc) = &meta.cache_control {
            req = req.cache_control(cc);
        }
        if let Some(h) = &meta.sha256 {
            req = req.metadata("sha256", h);
        }
        match self.run(req.send()) {
            Ok(out) => Ok(Version(out.e_tag().unwrap_or_default().to_owned())),
            // 412: the condition failed; 409: a concurrent conditional write won the race;
            // 404 on If-Match (AWS; others say 412): the object is gone — for a compare-and-swap
            // a lost race like any other, as the local store reports it.
            Err(e)
                if matches!(
                    (status(&e), &cond),
                    (Some(412 | 409), Condition::IfAbsent | Condition::IfMatch(_))
                        | (Some(404), Condition::IfMatch(_))
                ) =>
            {
                Err(StoreError::PreconditionFailed {
                    key: key.to_string(),
                })
            }
            Err(e) => Err(self.remote("PUT", key.as_str(), e)),
        }
    }

    fn head(&self, key: &Key) -> StoreResult<Option<Version>> {
        let req = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full(key.as_str()));
        match self.run(req.send()) {
            Ok(out) => Ok(Some(Version(out.e_tag().unwrap_or_default().to_owned()))),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(self.remote("HEAD", key.as_str(), e)),
        }
    }

    fn copy(&self, from: &Key, to: &Key) -> StoreResult<()> {
        let source = format!(
            "{}/{}",
            self.bucket,
            percent_encode_key(&self.full(from.as_str()))
        );
        let req = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(self.full(to.as_str()))
            .copy_source(source)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Copy);
        self.run(req.send())
            .map(|_| ())
            .map_err(|e| self.remote("COPY", to.as_str(), e))
    }

    fn delete(&self, key: &Key) -> StoreResult<()> {
        let req = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full(key.as_str()));
        match self.run(req.send()) {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(self.remote("DELETE", key.as_str(), e)),
        }
    }

    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>> {
        // A bucket lists in key order (UTF-8 bytes), the order of `Key`.
        self.list_page(prefix, None, usize::MAX)
    }

    fn list_page(
        &self,
        prefix: &Key,
        after: Option<&Key>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        let full_prefix = format!("{}/", self.full(prefix.as_str()));
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut out = vec![];
        let mut start = after.map(|a| self.full(a.as_str()));
        while out.len() < limit {
            let mut req = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .max_keys((limit - out.len()).min(1000) as i32);
            if let Some(s) = &start {
                req = req.start_after(s);
            }
            let page = self
                .run(req.send())
                .map_err(|e| self.remote("LIST", prefix.as_str(), e))?;
            for obj in page.contents() {
                let Some(k) = obj.key() else { continue };
                start = Some(k.to_owned());
                let Ok(key) = Key::new(&k[strip.min(k.len())..]) else {
                    continue;
                };
                out.push(Entry {
                    key,
                    size: obj.size().unwrap_or(0).max(0) as u64,
                    modified: obj.last_modified().map(|t| t.secs()),
                });
            }
            if !page.is_truncated().unwrap_or(false) || page.contents().is_empty() {
                break;
            }
        }
        Ok(out)
    }

    /// Copies every object, then deletes the originals: until the copies are all made the
    /// source stays whole, so an interrupted move can be rerun.
    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()> {
        let entries = self.list(from)?;
        if !entries.is_empty() && !self.list(to)?.is_empty() {
            return Err(StoreError::Unsupported(format!(
                "{to} already exists; refusing to move {from} over it"
            )));
        }
        for e in &entries {
            let rel = e.key.strip_prefix(from).expect("listed under the prefix");
            self.copy(
                &e.key,
                &to.join(rel)
                    .map_err(|er| StoreError::Unsupported(er.to_string()))?,
            )?;
        }
        for e in &entries {
            self.delete(&e.key)?;
        }
        Ok(())
    }

    fn local_path(&self, _key: &Key) -> Option<PathBuf> {
        None
    }

    fn cache_dir(&self) -> Option<&std::path::Path> {
        Some(&self.cache_dir)
    }

    fn describe(&self) -> String {
        self.bucket_url()
    }
}

/// Percent-encodes an object key for `x-amz-copy-source` (slashes kept).
fn percent_encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;

    /// Opening makes no request (credentials load lazily, the region is given), so no server
    /// is needed; the endpoint is a closed loopback port.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_bucket_store_opens_and_drops_on_an_async_thread() {
        let cache = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_REGION", "us-east-1"),
            ("T8K_CACHE", cache.path().to_str().unwrap()),
        ])
        .unwrap();
        let store = S3Store::open("t8k-test/prefix", &env).expect("opens from async code");
        assert_eq!(store.cache_dir(), Some(cache.path()));
        drop(store);
        let store = crate::store::open_async("s3://t8k-test/p", &env, false)
            .await
            .expect("opens on the blocking pool");
        drop(store);
    }
}
