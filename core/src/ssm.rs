//! Secrets from AWS Systems Manager Parameter Store. A deployment's template must never hold
//! the SMTP password, so its functions are given the name of a SecureString parameter
//! (`T8K_SMTP_PASSWORD_PARAMETER`) and read it when they first send mail. The endpoint and
//! credentials are the SDK's usual ones (`AWS_ENDPOINT_URL`, the function's role).

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::settings::Env;

/// Reads a SecureString parameter, decrypted. Blocking: it runs on a thread and runtime of its
/// own, so it may be called from anywhere, async code included.
pub fn read_parameter(env: &Env, name: &str) -> Result<String> {
    let (named, region) = (name.to_owned(), env.aws_region.clone());
    let name = named.clone();
    let answer = crate::aws::run_apart(async move {
        let client = aws_sdk_ssm::Client::new(&crate::aws::sdk_config(region, None).await);
        let got = client
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| aws_sdk_ssm::error::DisplayErrorContext(e).to_string())?;
        Ok(got.parameter.and_then(|p| p.value))
    })
    .unwrap_or_else(|e| Err(e.to_string()));
    match answer {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(Error::invalid(
            "T8K_SMTP_PASSWORD_PARAMETER",
            format!("parameter {named} has no value"),
        )),
        Err(why) => Err(Error::invalid(
            "T8K_SMTP_PASSWORD_PARAMETER",
            format!(
                "cannot read parameter {named} from Parameter Store ({why}); create it with `aws ssm put-parameter --type SecureString --name {named} --value …`, or unset the variable"
            ),
        )),
    }
}

/// The SMTP password: `T8K_SMTP_PASSWORD`, else the parameter `T8K_SMTP_PASSWORD_PARAMETER`
/// names, read the first time a mail needs it and kept for the life of the process. Read
/// there and not at start, so a command or function that sends no mail never asks Parameter
/// Store, and a missing parameter stops only the mail.
pub fn smtp_password(env: &Env) -> Result<Option<String>> {
    static READ: OnceLock<String> = OnceLock::new();
    if let Some(password) = &env.smtp_password {
        return Ok(Some(password.clone()));
    }
    let Some(name) = &env.smtp_password_parameter else {
        return Ok(None);
    };
    if let Some(read) = READ.get() {
        return Ok(Some(read.clone()));
    }
    let read = read_parameter(env, name)?;
    Ok(Some(READ.get_or_init(|| read).clone()))
}
