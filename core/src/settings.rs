//! The effective settings of an installation: the registry file, overridden by the environment
//! variables TractStack documents (`ENABLE_MULTI_TENANT`, `MAX_TENANTS`,
//! `PUBLIC_ENABLE_MULTI_TENANT`), falling back to the defaults shipped in
//! `config/defaults.json`. Each value remembers where it came from, for `t8k config`.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::registry::Registry;

const DEFAULTS_JSON: &str = include_str!("../../config/defaults.json");

/// Installation defaults shipped with t8k.
#[derive(Clone, Debug, Deserialize)]
pub struct Defaults {
    pub max_tenants: u64,
    pub default_quota: String,
    pub default_max_pages: u64,
    pub default_max_users: u64,
    pub enable_custom_domains: bool,
    pub require_email_verification: bool,
    pub auto_ssl: bool,
    pub theme: String,
    pub home_slug: String,
}

pub fn defaults() -> Defaults {
    serde_json::from_str(DEFAULTS_JSON).expect("config/defaults.json is valid (tested)")
}

/// The environment t8k runs in, read once at start-up by [`Env::from_process`] — the only code
/// allowed to call `std::env::var` (see `clippy.toml`) — and parsed into typed values, so a bad
/// value is an error at start that names the variable and its accepted form, never a silent
/// default. The installation overrides (`ENABLE_MULTI_TENANT`, `MAX_TENANTS`,
/// `PUBLIC_ENABLE_MULTI_TENANT`) are kept as text and layered over the registry by
/// [`Settings::resolve`].
#[derive(Clone)]
pub struct Env {
    overrides: BTreeMap<String, String>,
    /// Sign-ups per client address an hour (`T8K_SIGNUPS_PER_IP_HOUR`, 10).
    pub signups_per_ip_hour: usize,
    /// Sign-ups per e-mail address an hour (`T8K_SIGNUPS_PER_EMAIL_HOUR`, 3).
    pub signups_per_email_hour: usize,
    /// How long a sign-up's verification link works (`T8K_VERIFY_TTL_SECS`, 48 h).
    pub verify_ttl: Duration,
    /// Analytics beacons per tenant a second, bursts of twice that (`T8K_BEACON_PER_SECOND`).
    pub beacon_per_second: NonZeroU32,
    /// The largest media upload in bytes (`T8K_MAX_UPLOAD`, 10 MiB).
    pub max_upload: usize,
    /// Bytes of decoded images held at once, across requests (`T8K_DECODE_BUDGET`, 512 MiB).
    pub decode_budget: u64,
    /// How long an upload waits for decode budget before a 503 (`T8K_DECODE_WAIT_MS`, 3 s).
    pub decode_wait: Duration,
    /// The SMTP password (`T8K_SMTP_PASSWORD`); never stored, never printed.
    pub smtp_password: Option<String>,
    /// Where the SMTP password is kept in AWS Parameter Store (`T8K_SMTP_PASSWORD_PARAMETER`, a
    /// SecureString's name), read when a mail first needs it and `T8K_SMTP_PASSWORD` is not set.
    pub smtp_password_parameter: Option<String>,
    /// The backup repository's passphrase (`T8K_BACKUP_PASSPHRASE`); never stored, never printed.
    pub backup_passphrase: Option<String>,
    /// Count page views on `localhost` previews too (`T8K_TRACK_LOCALHOST=1`; for tests).
    pub track_localhost: bool,
    /// Where databases of a bucket root are cached (`T8K_CACHE`, else `~/.cache/t8k`).
    pub cache_dir: PathBuf,
    /// The S3 endpoint (`AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`; MinIO, moto, R2).
    pub s3_endpoint: Option<String>,
    /// The S3 region (`AWS_REGION`, else `AWS_DEFAULT_REGION`; else the AWS profile, else
    /// us-east-1).
    pub aws_region: Option<String>,
    /// The data root of a function (`T8K_ROOT`; the CLI reads it through `--root`).
    pub root: Option<String>,
    /// The log filter (`T8K_LOG`, EnvFilter syntax).
    pub log: Option<String>,
    /// Custom domains a tenant may hold (`MAX_CUSTOM_DOMAINS`, 5).
    pub max_custom_domains: usize,
    /// The name servers domain checks ask (`T8K_DNS_SERVERS`, `ip:port,…`; default: the
    /// system's).
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// A PEM file of extra roots for the ACME server's own HTTPS (`T8K_ACME_CA_CERT`): a test
    /// CA such as Pebble, trusted by t8k's ACME client only, never by the system.
    pub acme_ca_cert: Option<PathBuf>,
    /// `BUILD_WEBHOOK_*`: called when a build is queued ([`crate::trigger`]).
    pub build_webhook: Option<crate::trigger::Webhook>,
    /// `T8K_THEMES`: the themes folder of a builder that has no command line (the Lambda
    /// builder; `t8k` takes `--themes`, which reads the same variable).
    pub themes: Option<PathBuf>,
    /// `T8K_EDGE_LOGS`: where the scheduled usage job reads the edge's logs on AWS
    /// (`s3://logs-bucket/cloudfront/`).
    pub edge_logs: Option<String>,
    /// `T8K_ROUTES_STORE`: the CloudFront KeyValueStore the AWS `routes` job keeps current.
    pub routes_store: Option<String>,
    /// `T8K_KVS_ENDPOINT`: a KeyValueStore endpoint used as given (a stand-in); unset, the
    /// service's own.
    pub kvs_endpoint: Option<String>,
}

/// Every variable [`Env::from_process`] reads.
pub const ENV_VARS: [&str; 31] = [
    "ENABLE_MULTI_TENANT",
    "MAX_TENANTS",
    "PUBLIC_ENABLE_MULTI_TENANT",
    "MAX_CUSTOM_DOMAINS",
    "T8K_DNS_SERVERS",
    "T8K_ACME_CA_CERT",
    "T8K_SIGNUPS_PER_IP_HOUR",
    "T8K_SIGNUPS_PER_EMAIL_HOUR",
    "T8K_VERIFY_TTL_SECS",
    "T8K_BEACON_PER_SECOND",
    "T8K_MAX_UPLOAD",
    "T8K_DECODE_BUDGET",
    "T8K_DECODE_WAIT_MS",
    "T8K_SMTP_PASSWORD",
    "T8K_SMTP_PASSWORD_PARAMETER",
    "T8K_BACKUP_PASSPHRASE",
    "T8K_TRACK_LOCALHOST",
    "T8K_CACHE",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "T8K_ROOT",
    "BUILD_WEBHOOK_URL",
    "BUILD_WEBHOOK_SECRET",
    "BUILD_WEBHOOK_FORMAT",
    "BUILD_WEBHOOK_DEBOUNCE_SECS",
    "T8K_THEMES",
    "T8K_EDGE_LOGS",
    "T8K_ROUTES_STORE",
    "T8K_KVS_ENDPOINT",
];

/// Read besides [`ENV_VARS`]: the log filter, and `HOME` for the default cache folder.
const OTHER_VARS: [&str; 2] = ["T8K_LOG", "HOME"];

const OVERRIDES: [&str; 3] = [
    "ENABLE_MULTI_TENANT",
    "MAX_TENANTS",
    "PUBLIC_ENABLE_MULTI_TENANT",
];

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("overrides", &self.overrides)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl Default for Env {
    /// No variables set: every default.
    fn default() -> Env {
        Env::parse(&BTreeMap::new()).expect("the defaults parse")
    }
}

impl Env {
    /// Reads and parses the process environment; `Err` names the first bad variable.
    pub fn from_process() -> Result<Env> {
        #[allow(clippy::disallowed_methods)] // the one place the environment is read
        let read = |k: &&str| std::env::var(k).ok().map(|v| (k.to_string(), v));
        let vars: BTreeMap<String, String> = ENV_VARS
            .iter()
            .chain(OTHER_VARS.iter())
            .filter_map(read)
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        Env::parse(&vars)
    }

    /// The environment `pairs` describe (tests, embedding programs).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Env> {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Env::parse(&vars)
    }

    fn parse(vars: &BTreeMap<String, String>) -> Result<Env> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let count = |k: &'static str, default: usize| -> Result<usize> {
            match get(k) {
                None => Ok(default),
                Some(v) => v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    Error::invalid(
                        k,
                        format!("{v:?} is not a whole number above 0, like {default}"),
                    )
                }),
            }
        };
        let size = |k: &'static str, default: u64| match get(k) {
            None => Ok(default),
            Some(v) => crate::quota::parse_size(v, k),
        };
        let cache_dir = match get("T8K_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => get("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join(".cache/t8k"),
        };
        let track_localhost = match get("T8K_TRACK_LOCALHOST") {
            None | Some("0") => false,
            Some("1") => true,
            Some(v) => {
                return Err(Error::invalid(
                    "T8K_TRACK_LOCALHOST",
                    format!("{v:?} is neither 1 nor 0"),
                ));
            }
        };
        let per_second = count("T8K_BEACON_PER_SECOND", 1000)?;
        let env = Env {
            overrides: OVERRIDES
                .iter()
                .filter_map(|k| get(k).map(|v| (k.to_string(), v.to_owned())))
                .collect(),
            signups_per_ip_hour: count("T8K_SIGNUPS_PER_IP_HOUR", 10)?,
            signups_per_email_hour: count("T8K_SIGNUPS_PER_EMAIL_HOUR", 3)?,
            verify_ttl: Duration::from_secs(count("T8K_VERIFY_TTL_SECS", 48 * 3600)? as u64),
            beacon_per_second: u32::try_from(per_second)
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or_else(|| {
                    Error::invalid("T8K_BEACON_PER_SECOND", "must be at most 4294967295")
                })?,
            max_upload: usize::try_from(size("T8K_MAX_UPLOAD", 10 * 1024 * 1024)?)
                .unwrap_or(usize::MAX),
            decode_budget: size("T8K_DECODE_BUDGET", 512 * 1024 * 1024)?,
            decode_wait: Duration::from_millis(match get("T8K_DECODE_WAIT_MS") {
                None => 3000,
                Some(v) => v.parse().map_err(|_| {
                    Error::invalid(
                        "T8K_DECODE_WAIT_MS",
                        format!("{v:?} is not a whole number of milliseconds, like 3000"),
                    )
                })?,
            }),
            smtp_password: get("T8K_SMTP_PASSWORD").map(str::to_owned),
            smtp_password_parameter: get("T8K_SMTP_PASSWORD_PARAMETER").map(str::to_owned),
            backup_passphrase: get("T8K_BACKUP_PASSPHRASE").map(str::to_owned),
            track_localhost,
            cache_dir,
            s3_endpoint: get("AWS_ENDPOINT_URL_S3")
                .or_else(|| get("AWS_ENDPOINT_URL"))
                .map(str::to_owned),
            aws_region: get("AWS_REGION")
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .map(str::to_owned),
            root: get("T8K_ROOT").map(str::to_owned),
            log: get("T8K_LOG").map(str::to_owned),
            max_custom_domains: count(
                "MAX_CUSTOM_DOMAINS",
                crate::lifecycle::DEFAULT_MAX_CUSTOM_DOMAINS,
            )?,
            acme_ca_cert: get("T8K_ACME_CA_CERT").map(PathBuf::from),
            build_webhook: crate::trigger::Webhook::parse(get)?,
            themes: get("T8K_THEMES").map(PathBuf::from),
            edge_logs: get("T8K_EDGE_LOGS").map(str::to_owned),
            routes_store: get("T8K_ROUTES_STORE").map(str::to_owned),
            kvs_endpoint: get("T8K_KVS_ENDPOINT").map(str::to_owned),
            dns_servers: match get("T8K_DNS_SERVERS") {
                None => vec![],
                Some(v) => v
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| {
                        Error::invalid(
                            "T8K_DNS_SERVERS",
                            format!("{v:?} is not a list of ip:port, like 127.0.0.1:53"),
                        )
                    })?,
            },
        };
        // The overrides are layered later (Settings::resolve), but refused now if bad.
        env.bool("ENABLE_MULTI_TENANT")?;
        env.bool("PUBLIC_ENABLE_MULTI_TENANT")?;
        env.u64("MAX_TENANTS")?;
        Ok(env)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).map(|s| s.trim())
    }

    fn bool(&self, name: &'static str) -> Result<Option<bool>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(Error::invalid(
                name,
                format!("{v:?} is not a boolean; set it to true or false"),
            )),
        }
    }

    fn u64(&self, name: &'static str) -> Result<Option<u64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        v.parse().map(Some).map_err(|_| {
            Error::invalid(
                name,
                format!("{v:?} is not a whole number; set it to e.g. 100"),
            )
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    File,
    Env,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::File => "file",
            Source::Env => "env",
            Source::Default => "default",
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
    /// The file field or environment variable the value came from.
    pub from: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub domain: Setting<String>,
    pub enable_multi_tenant: Setting<bool>,
    pub public_enable_multi_tenant: Setting<bool>,
    pub max_tenants: Setting<u64>,
    pub default_quota: Setting<String>,
    pub default_max_pages: Setting<u64>,
    pub default_max_users: Setting<u64>,
    /// BANDWIDTH_QUOTA of every tenant that sets none (`unlimited` when not set).
    pub default_bandwidth_quota: Setting<String>,
    pub enable_custom_domains: Setting<bool>,
    pub require_email_verification: Setting<bool>,
    pub auto_ssl: Setting<bool>,
    pub tenant_name_min_length: Setting<usize>,
    pub tenant_name_max_length: Setting<usize>,
}

fn file<T>(value: T, field: &str) -> Setting<T> {
    Setting {
        value,
        source: Source::File,
        from: format!("tenants.json:{field}"),
    }
}

/// Env var beats file field beats default.
fn layered<T>(
    env: Option<T>,
    var: &str,
    file_value: Option<T>,
    field: &str,
    default: T,
) -> Setting<T> {
    match (env, file_value) {
        (Some(value), _) => Setting {
            value,
            source: Source::Env,
            from: var.to_owned(),
        },
        (None, Some(value)) => file(value, field),
        (None, None) => Setting {
            value: default,
            source: Source::Default,
            from: "config/defaults.json".into(),
        },
    }
}

impl Settings {
    pub fn resolve(reg: &Registry, env: &Env) -> Result<Settings> {
        let d = defaults();
        let s = Settings {
            domain: file(reg.domain.clone(), "domain"),
            enable_multi_tenant: layered(
                env.bool("ENABLE_MULTI_TENANT")?,
                "ENABLE_MULTI_TENANT",
                reg.enable_multi_tenant,
                "enable_multi_tenant",
                false,
            ),
            public_enable_multi_tenant: layered(
                env.bool("PUBLIC_ENABLE_MULTI_TENANT")?,
                "PUBLIC_ENABLE_MULTI_TENANT",
                reg.public_enable_multi_tenant,
                "public_enable_multi_tenant",
                false,
            ),
            max_tenants: layered(
                env.u64("MAX_TENANTS")?,
                "MAX_TENANTS",
                Some(reg.max_tenants),
                "max_tenants",
                d.max_tenants,
            ),
            default_quota: file(reg.default_quota.clone(), "default_quota"),
            default_max_pages: layered(
                None,
                "",
                reg.default_max_pages,
                "default_max_pages",
                d.default_max_pages,
            ),
            default_max_users: layered(
                None,
                "",
                reg.default_max_users,
                "default_max_users",
                d.default_max_users,
            ),
            default_bandwidth_quota: layered(
                None,
                "",
                reg.default_bandwidth_quota.clone(),
                "default_bandwidth_quota",
                "unlimited".into(),
            ),
            enable_custom_domains: file(reg.enable_custom_domains, "enable_custom_domains"),
            require_email_verification: file(
                reg.require_email_verification,
                "require_email_verification",
            ),
            auto_ssl: file(reg.auto_ssl, "auto_ssl"),
            tenant_name_min_length: layered(
                None,
                "",
                reg.tenant_name_min_length,
                "tenant_name_min_length",
                crate::name::DEFAULT_MIN_LEN,
            ),
            tenant_name_max_length: layered(
                None,
                "",
                reg.tenant_name_max_length,
                "tenant_name_max_length",
                crate::name::DEFAULT_MAX_LEN,
            ),
        };
        crate::quota::parse_size(&s.default_quota.value, "default_quota")?;
        crate::bandwidth::limit::Limit::of("", "", Some(&s.default_bandwidth_quota.value))?;
        reg.name_policy()
            .map_err(|m| Error::invalid("config/t8k/tenants.json", m))?;
        Ok(s)
    }

    /// How many tenants this installation may hold: one when multi-tenant mode is off.
    pub fn tenant_limit(&self) -> u64 {
        if self.enable_multi_tenant.value {
            self.max_tenants.value
        } else {
            1
        }
    }

    /// `(name, value, source, from)` rows for display.
    pub fn rows(&self) -> Vec<(String, String, Source, String)> {
        let v = serde_json::to_value(self).expect("settings serialise");
        v.as_object()
            .expect("settings are an object")
            .iter()
            .map(|(name, s)| {
                let value = match &s["value"] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let source: Source = match s["source"].as_str() {
                    Some("env") => Source::Env,
                    Some("file") => Source::File,
                    _ => Source::Default,
                };
                (
                    name.clone(),
                    value,
                    source,
                    s["from"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(multi: Option<bool>) -> Registry {
        let d = defaults();
        Registry {
            max_tenants: 100,
            default_quota: d.default_quota,
            enable_custom_domains: true,
            require_email_verification: false,
            auto_ssl: false,
            domain: "example.com".into(),
            enable_multi_tenant: multi,
            public_enable_multi_tenant: None,
            default_max_pages: None,
            default_bandwidth_quota: None,
            default_max_users: None,
            tenant_name_min_length: None,
            tenant_name_max_length: None,
            smtp: None,
            edge_target: None,
            acme_directory: None,
            backup: None,
            acme_email: None,
            acme_dns_hook: None,
            registry_layout: crate::registry::LAYOUT,
            tenants_view: None,
            tenants: vec![],
            extra: Default::default(),
        }
    }

    #[test]
    fn env_overrides_file_overrides_default() {
        let reg = registry(Some(true));
        let s = Settings::resolve(&reg, &Env::default()).unwrap();
        assert_eq!(
            (s.enable_multi_tenant.value, s.enable_multi_tenant.source),
            (true, Source::File)
        );
        assert_eq!(s.public_enable_multi_tenant.source, Source::Default);
        assert_eq!(s.tenant_limit(), 100);

        let env =
            Env::from_pairs([("ENABLE_MULTI_TENANT", "false"), ("MAX_TENANTS", "7")]).unwrap();
        let s = Settings::resolve(&reg, &env).unwrap();
        assert_eq!(
            (s.enable_multi_tenant.value, s.enable_multi_tenant.source),
            (false, Source::Env)
        );
        assert_eq!(
            (s.max_tenants.value, s.max_tenants.source),
            (7, Source::Env)
        );
        assert_eq!(s.tenant_limit(), 1, "single-tenant mode holds one tenant");
    }

    #[test]
    fn bad_env_values_are_named() {
        // Refused when the environment is read, before any setting is resolved.
        let err = Env::from_pairs([("MAX_TENANTS", "lots")]).unwrap_err();
        assert!(err.to_string().contains("MAX_TENANTS"), "{err}");
        let err = Env::from_pairs([("ENABLE_MULTI_TENANT", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("ENABLE_MULTI_TENANT"), "{err}");
    }

    #[test]
    fn shipped_defaults_parse() {
        let d = defaults();
        assert!(d.max_tenants > 0 && d.default_max_pages > 0);
        crate::quota::parse_size(&d.default_quota, "default_quota").unwrap();
    }
}
