//! The steps of `t8k deploy aws`: build the packages with cargo lambda, upload them, deploy
//! the template. Printed for the operator to read (or paste into CI), run with `--run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::json;
use t8k_functions::iam::Unit;

use crate::cli::DeployAwsArgs;
use crate::{UsageError, output};

/// One step: what it does, and the command.
pub struct Step {
    pub what: String,
    pub argv: Vec<String>,
}

/// A checked deployment.
pub struct Deploy {
    pub stack: String,
    pub region: Option<String>,
    pub domain: String,
    pub certificate: Option<String>,
    pub code_bucket: String,
    pub smtp_password_parameter: Option<String>,
    pub packages: PathBuf,
    /// This release's folder in the code bucket.
    pub prefix: String,
}

/// Stack names become bucket names (`{stack}-data-{account}`), so S3's rules apply.
pub fn check_stack(name: &str) -> Result<(), String> {
    let ok = (3..=28).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--stack {name:?}: 3 to 28 lower-case letters, digits and hyphens, starting with a letter (it names the stack's buckets, e.g. {name}-data-ACCOUNT)"
        ))
    }
}

impl Deploy {
    fn from_args(a: &DeployAwsArgs) -> Result<Deploy> {
        let missing = |flag: &str| UsageError(format!("{flag} is required to deploy"));
        let stack = a.stack.clone().ok_or_else(|| missing("--stack"))?;
        check_stack(&stack).map_err(UsageError)?;
        let domain = a.domain.clone().ok_or_else(|| missing("--domain"))?;
        if t8k_core::hosts::normalise(&domain).as_deref() != Some(domain.as_str()) {
            bail!(UsageError(format!(
                "--domain {domain:?}: give a lower-case host name such as example.com"
            )));
        }
        if let Some(p) = &a.smtp_password_parameter
            && !p.starts_with('/')
        {
            bail!(UsageError(format!(
                "--smtp-password-parameter {p:?}: give the parameter's name, starting with / (e.g. /t8k/smtp-password), not the password"
            )));
        }
        let stamp = t8k_core::timefmt::compact(t8k_core::timefmt::now());
        Ok(Deploy {
            prefix: format!("t8k/{stack}/{}-{stamp}/", env!("CARGO_PKG_VERSION")),
            stack,
            region: a.region.clone(),
            domain,
            certificate: a.certificate.clone(),
            code_bucket: a
                .code_bucket
                .clone()
                .ok_or_else(|| missing("--code-bucket"))?,
            smtp_password_parameter: a.smtp_password_parameter.clone(),
            packages: a.packages.clone(),
        })
    }

    fn aws(&self, args: &[&str]) -> Vec<String> {
        let mut argv: Vec<String> = std::iter::once("aws")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        if let Some(r) = &self.region {
            argv.extend(["--region".into(), r.clone()]);
        }
        argv
    }

    /// Every step, in order.
    pub fn steps(&self, template: &Path) -> Vec<Step> {
        let step = |what: String, argv: Vec<String>| Step { what, argv };
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let mut out = vec![];
        if self.packages == Path::new("target/lambda") {
            // The builder and the jobs render sites: the themes go in their packages.
            for (package, what) in [
                ("t8k-functions", "the functions and the builder"),
                ("t8k", "the jobs (the t8k binary)"),
            ] {
                out.push(step(
                    format!("build {what} for arm64 (cargo lambda)"),
                    words(&format!("cargo lambda build --release --arm64 --output-format zip -p {package} --include themes")),
                ));
            }
        }
        for unit in Unit::ALL {
            let zip = self.packages.join(unit.binary()).join("bootstrap.zip");
            let to = format!(
                "s3://{}/{}{}.zip",
                self.code_bucket,
                self.prefix,
                unit.binary()
            );
            out.push(step(
                format!("upload {}", unit.binary()),
                self.aws(&["s3", "cp", &zip.to_string_lossy(), &to]),
            ));
        }
        let mut overrides = vec![
            format!("Domain={}", self.domain),
            format!("CodeBucket={}", self.code_bucket),
            format!("CodePrefix={}", self.prefix),
        ];
        overrides.extend(
            self.certificate
                .iter()
                .map(|c| format!("CertificateArn={c}")),
        );
        overrides.extend(
            self.smtp_password_parameter
                .iter()
                .map(|p| format!("SmtpPasswordParameter={p}")),
        );
        let mut deploy = self.aws(&[
            "cloudformation",
            "deploy",
            "--stack-name",
            &self.stack,
            "--template-file",
            &template.to_string_lossy(),
            // Templates over 51,200 bytes go through a bucket.
            "--s3-bucket",
            &self.code_bucket,
            "--s3-prefix",
            self.prefix.trim_end_matches('/'),
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides",
        ]);
        deploy.extend(overrides);
        out.push(step(format!("deploy the stack {}", self.stack), deploy));
        out.push(step(
            "show the stack's outputs (the data root, the CloudFront name to point DNS at)".into(),
            self.aws(&[
                "cloudformation",
                "describe-stacks",
                "--stack-name",
                &self.stack,
                "--query",
                "Stacks[0].Outputs",
                "--output",
                "table",
            ]),
        ));
        out
    }
}

fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_step(s: &Step) -> Result<()> {
    eprintln!("==> {}", s.what);
    let status = Command::new(&s.argv[0])
        .args(&s.argv[1..])
        .status()
        .with_context(|| format!("cannot run {} (is it installed? cargo lambda: pip install cargo-lambda; aws: the AWS CLI)", s.argv[0]))?;
    if !status.success() {
        bail!("{} failed ({status}): {}", s.what, shell_line(&s.argv));
    }
    Ok(())
}

pub fn run(args: DeployAwsArgs, json: bool) -> Result<()> {
    if args.template {
        print!("{}", super::template_text());
        return Ok(());
    }
    let d = Deploy::from_args(&args)?;
    let template = std::env::temp_dir().join(format!("t8k-{}-template.json", d.stack));
    t8k_core::atomic::write_file(&template, super::template_text().as_bytes())
        .with_context(|| format!("cannot write {}", template.display()))?;
    let steps = d.steps(&template);
    if args.run {
        for s in &steps {
            run_step(s)?;
        }
    }
    let listed: Vec<_> = steps
        .iter()
        .map(|s| json!({"what": s.what, "command": shell_line(&s.argv)}))
        .collect();
    let summary = json!({"stack": d.stack, "template": template, "code_prefix": d.prefix, "steps": listed, "ran": args.run});
    output::emit(json, &summary, || {
        if !args.run {
            println!(
                "# Deploying t8k as the stack {} (run these, or pass --run):",
                d.stack
            );
            for s in &steps {
                println!("\n# {}\n{}", s.what, shell_line(&s.argv));
            }
        }
        println!(
            "\n# Then, once: the data root, the admin key, the SMTP server, the backups and the routes:\n\
             t8k --root s3://{stack}-data-ACCOUNT init --multi --domain {domain}\n\
             t8k --root s3://{stack}-data-ACCOUNT config admin-key\n\
             t8k --root s3://{stack}-data-ACCOUNT backup init --to s3://{stack}-backups-ACCOUNT\n\
             t8k --root s3://{stack}-data-ACCOUNT edge cloudfront --out edge/ --kvs-id ROUTES_STORE_ARN   # then load edge/kvs.json into the store",
            stack = d.stack,
            domain = d.domain
        );
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_must_make_bucket_names() {
        assert!(check_stack("t8k-prod").is_ok());
        for bad in ["T8k", "t8k_prod", "-t8k", "t8k-", "ab", &"a".repeat(29)] {
            let err = check_stack(bad).unwrap_err();
            assert!(err.contains("lower-case letters"), "{bad}: {err}");
        }
    }
}
