//! `t8k serve --tls-port`: HTTPS with the certificates in the data root's `certs/`, so one
//! binary can be the whole edge of a small server. The client's SNI picks the certificate: a
//! custom domain's own, else the wildcard for the tenants' subdomains. A host this
//! installation does not serve (unknown, inactive, a domain still pending) gets none, and the
//! handshake fails. Certificates are read once and looked at again every
//! [`RECHECK`], so a renewal is picked up without a restart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use t8k_core::certs;
use tower::ServiceExt;

/// How long a host's certificate is used before the data root is asked again.
const RECHECK: Duration = Duration::from_secs(10);

/// The TLS configuration: HTTP/1.1, certificates by SNI.
pub fn config(functions: t8k_functions::Shared, domain: &str) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let resolver = SniCerts {
        functions,
        domain: domain.to_ascii_lowercase(),
        provider: provider.clone(),
        cache: Mutex::default(),
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

struct SniCerts {
    functions: t8k_functions::Shared,
    domain: String,
    provider: Arc<CryptoProvider>,
    cache: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    at: Instant,
    version: Option<String>,
    key: Option<Arc<CertifiedKey>>,
}

impl std::fmt::Debug for SniCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniCerts")
            .field("domain", &self.domain)
            .finish()
    }
}

impl ResolvesServerCert for SniCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello.server_name()?.to_ascii_lowercase();
        if !t8k_functions::edge::serves(&self.functions, &host).unwrap_or(false) {
            return None;
        }
        // Its own certificate if it has one (the cache remembers that it has none, too),
        // else the subdomains' wildcard.
        self.key(&host)
            .or_else(|| self.key(&self.wildcard_for(&host)?))
    }
}

impl SniCerts {
    /// The wildcard's name, for the main domain and the names one label under it.
    fn wildcard_for(&self, host: &str) -> Option<String> {
        let under = host
            .strip_suffix(&self.domain)
            .and_then(|l| l.strip_suffix('.'));
        match under {
            Some(label) if !label.contains('.') => Some(certs::wildcard_name(&self.domain)),
            _ if host == self.domain => Some(certs::wildcard_name(&self.domain)),
            _ => None,
        }
    }

    /// Certificate `name` (or that there is none), from the cache while fresh and unchanged.
    fn key(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(name).filter(|c| c.at.elapsed() < RECHECK) {
            return c.key.clone();
        }
        let store = self.functions.inst.store();
        let version = certs::version(store, name).ok().flatten();
        let key = match (cache.get(name), &version) {
            (_, None) => None,
            (Some(c), v) if c.version == *v => c.key.clone(),
            _ => self.load(name),
        };
        cache.insert(
            name.to_owned(),
            Cached {
                at: Instant::now(),
                version,
                key: key.clone(),
            },
        );
        key
    }

    fn load(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let stored = certs::load(self.functions.inst.store(), name)
            .ok()
            .flatten()?;
        match certified(&self.provider, &stored.chain_pem, &stored.key_pem) {
            Ok(key) => Some(Arc::new(key)),
            Err(e) => {
                tracing::error!(cert = name, error = %e, "cannot use a stored certificate");
                None
            }
        }
    }
}

/// A PEM chain and its PEM private key, ready to serve.
fn certified(
    provider: &CryptoProvider,
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertifiedKey, rustls::Error> {
    let bad = |what: &str| rustls::Error::General(format!("no readable {what} in the PEM"));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| bad("private key"))?;
    let signing = provider.key_provider.load_private_key(key)?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match()?;
    Ok(certified)
}

/// Whether a PEM chain and key belong together (what `t8k certs import` checks).
pub fn check_pair(chain_pem: &[u8], key_pem: &[u8]) -> Result<(), rustls::Error> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    certified(&provider, chain_pem, key_pem).map(|_| ())
}

/// Accepts TLS connections until `stop` fires, each served by `app` over HTTP/1.1 with the
/// client's address (as `axum::serve` gives it to the plain listener).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a TLS connection");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return; // no certificate for the name, or not TLS at all
            };
            let service = hyper::service::service_fn(move |mut req| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
                app.clone().oneshot(req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(tls), service)
                .with_upgrades()
                .await;
        });
    }
}
