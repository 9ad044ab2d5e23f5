//! Secrets from AWS Systems Manager Parameter Store. A deployment's template must never hold
//! the SMTP password, so its functions are given the name of a SecureString parameter
//! (`T8K_SMTP_PASSWORD_PARAMETER`) and read it once as they start. The endpoint and
//! credentials are the SDK's usual ones (`AWS_ENDPOINT_URL`, the function's role).

use crate::error::{Error, Result};
use crate::settings::Env;

/// Reads a SecureString parameter, decrypted. Blocking: it runs on a thread and runtime of its
/// own, so it may be called from anywhere (the CLI, or a function's async start-up).
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

impl Env {
    /// Fills in the SMTP password from Parameter Store when it is not set but
    /// `T8K_SMTP_PASSWORD_PARAMETER` names where it is.
    pub fn resolve_secrets(&mut self) -> Result<()> {
        if self.smtp_password.is_none()
            && let Some(name) = self.smtp_password_parameter.clone()
        {
            self.smtp_password = Some(read_parameter(self, &name)?);
        }
        Ok(())
    }
}
