//! Outgoing mail: over SMTP (lettre) when the installation configures a server (`smtp` in
//! `config/t8k/tenants.json`; the password from `T8K_SMTP_PASSWORD`, or the Parameter Store
//! parameter `T8K_SMTP_PASSWORD_PARAMETER` names), else written to the data root's
//! `outbox/` as a complete `.eml` message and logged, so a local installation works
//! with no mail server and an operator can still read (or forward) what would have been sent.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use t8k_core::key::{Key, layout};
use t8k_core::lifecycle::Installation;
use t8k_core::registry::{SmtpConfig, SmtpTls};
use t8k_core::store::Condition;

use crate::error::{ApiError, ApiResult};

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Names the outbox file, e.g. the tenant the mail is about.
    pub tag: String,
}

/// Where a message went.
#[derive(Debug)]
pub enum Sent {
    Smtp { host: String },
    Outbox { key: String },
}

/// Checks that `addr` is a mailbox lettre can send from or to.
pub fn check_address(addr: &str) -> Result<(), String> {
    addr.parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn mailbox(addr: &str, what: &str) -> ApiResult<Mailbox> {
    addr.parse().map_err(|e| {
        ApiError::bad_request(format!(
            "{what} {addr:?} is not a usable email address: {e}"
        ))
    })
}

fn message(from: &str, mail: &Mail) -> ApiResult<Message> {
    Message::builder()
        .from(mailbox(from, "the installation's sender address")?)
        .to(mailbox(&mail.to, "the email address")?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| ApiError::internal(format!("could not compose the email: {e}")))
}

/// `password`: see [`t8k_core::ssm::smtp_password`], for a server that wants a login.
fn transport(
    cfg: &SmtpConfig,
    password: Option<&str>,
) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
    let builder = match cfg.tls {
        SmtpTls::None => SmtpTransport::builder_dangerous(&cfg.host),
        SmtpTls::Starttls => SmtpTransport::starttls_relay(&cfg.host)?,
        SmtpTls::Tls => SmtpTransport::relay(&cfg.host)?,
    };
    let mut builder = builder
        .port(cfg.port)
        .timeout(Some(Duration::from_secs(15)));
    if let Some(user) = &cfg.username {
        let password = password.unwrap_or_default().to_owned();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Sends `mail` (blocking: call it from a worker thread).
pub fn send(inst: &Installation, mail: &Mail) -> ApiResult<Sent> {
    let (reg, _) = inst.registry()?;
    match &reg.smtp {
        Some(cfg) => {
            let msg = message(&cfg.from, mail)?;
            let password = t8k_core::ssm::smtp_password(&inst.env).map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::BAD_GATEWAY,
                    "mail_failed",
                    format!("could not send the email: {e}"),
                )
            })?;
            transport(cfg, password.as_deref())
                .and_then(|t| t.send(&msg))
                .map_err(|e| {
                    ApiError::new(
                        axum::http::StatusCode::BAD_GATEWAY,
                        "mail_failed",
                        format!(
                            "could not send the email through {}:{} ({e}); nothing was kept, try again later",
                            cfg.host, cfg.port
                        ),
                    )
                })?;
            Ok(Sent::Smtp {
                host: cfg.host.clone(),
            })
        }
        None => {
            let from = format!("t8k <no-reply@{}>", reg.domain);
            let msg = message(&from, mail)?;
            let stamp = t8k_core::timefmt::compact(t8k_core::timefmt::now());
            let nonce = &t8k_core::tenant_config::new_secret()[..8];
            let key = layout::outbox().join(&format!("{stamp}-{}-{nonce}.eml", mail.tag));
            let key: Key = key.map_err(|e| ApiError::internal(e.to_string()))?;
            inst.store()
                .put(&key, &msg.formatted(), Condition::IfAbsent)
                .map_err(t8k_core::Error::from)?;
            tracing::warn!(%key, "no SMTP server configured; mail written to the outbox");
            Ok(Sent::Outbox {
                key: key.to_string(),
            })
        }
    }
}
