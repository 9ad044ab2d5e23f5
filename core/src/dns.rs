//! DNS look-ups for custom-domain verification, through hickory-resolver. The name servers
//! come from `T8K_DNS_SERVERS` (`ip:port`, comma-separated; tests point it at a dnsmasq on
//! loopback) or, without it, the system's `/etc/resolv.conf`.
//!
//! An answer is three-valued on purpose: records, *no such records* (NXDOMAIN or an empty
//! answer — a definite "not set up"), or [`DnsError::Unsure`] (a timeout, SERVFAIL, a refused
//! connection) — which is "try again later", never "verified" and never "gone".

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

/// The look-ups a verification makes.
pub struct Dns {
    runtime: tokio::runtime::Runtime,
    resolver: TokioResolver,
}

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("the DNS look-up of {name} did not give an answer ({why}); try again later")]
    Unsure { name: String, why: String },
    #[error("{0}")]
    Setup(String),
}

impl Dns {
    /// A resolver asking `servers`, or the system's name servers when there are none.
    pub fn new(servers: &[SocketAddr]) -> Result<Dns, DnsError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DnsError::Setup(format!("cannot start the DNS runtime: {e}")))?;
        let config = if servers.is_empty() {
            system_config()?
        } else {
            let name_servers = servers.iter().map(|s| name_server(*s)).collect();
            ResolverConfig::from_parts(None, vec![], name_servers)
        };
        let mut opts = ResolverOpts::default();
        opts.timeout = std::time::Duration::from_secs(3);
        opts.attempts = 2;
        // Verification asks about records people have just created: no cached "no".
        opts.cache_size = 0;
        let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| DnsError::Setup(format!("cannot build the DNS resolver: {e}")))?;
        Ok(Dns { runtime, resolver })
    }

    /// The TXT strings at `name` (each record's strings joined).
    pub fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let records = self.records(name, RecordType::TXT)?;
        Ok(records
            .iter()
            .filter_map(|r| match r {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    /// The name `name` is an alias of, if it is one.
    pub fn cname(&self, name: &str) -> Result<Option<String>, DnsError> {
        let records = self.records(name, RecordType::CNAME)?;
        Ok(records.iter().find_map(|r| match r {
            RData::CNAME(c) => Some(c.0.to_ascii().trim_end_matches('.').to_ascii_lowercase()),
            _ => None,
        }))
    }

    /// The addresses of `name` (A and AAAA), sorted.
    pub fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        let mut out = vec![];
        for kind in [RecordType::A, RecordType::AAAA] {
            for r in self.records(name, kind)? {
                match r {
                    RData::A(a) => out.push(IpAddr::V4(a.0)),
                    RData::AAAA(a) => out.push(IpAddr::V6(a.0)),
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn records(&self, name: &str, kind: RecordType) -> Result<Vec<RData>, DnsError> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let looked = self
            .runtime
            .block_on(self.resolver.lookup(fqdn.as_str(), kind));
        match looked {
            Ok(l) => Ok(l.answers().iter().map(|r| r.data.clone()).collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(vec![]),
            Err(e) => Err(DnsError::Unsure {
                name: name.to_owned(),
                why: e.to_string(),
            }),
        }
    }
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let conn = |protocol| {
        let mut c = ConnectionConfig::new(protocol);
        c.port = addr.port();
        c
    };
    NameServerConfig::new(
        addr.ip(),
        true,
        vec![conn(ProtocolConfig::Udp), conn(ProtocolConfig::Tcp)],
    )
}

/// The name servers of `/etc/resolv.conf` (port 53).
fn system_config() -> Result<ResolverConfig, DnsError> {
    let text = std::fs::read_to_string("/etc/resolv.conf").map_err(|e| {
        DnsError::Setup(format!(
            "no T8K_DNS_SERVERS and /etc/resolv.conf cannot be read ({e}); set T8K_DNS_SERVERS=ip:port"
        ))
    })?;
    let servers: Vec<NameServerConfig> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
        .map(|ip| name_server(SocketAddr::new(ip, 53)))
        .collect();
    if servers.is_empty() {
        return Err(DnsError::Setup(
            "/etc/resolv.conf names no name server; set T8K_DNS_SERVERS=ip:port".into(),
        ));
    }
    Ok(ResolverConfig::from_parts(None, vec![], servers))
}
