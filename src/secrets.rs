//! Reading passwords without ever taking them from the command line (where shell history and
//! `ps` would keep them): from a file, standard input, or an interactive prompt.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::UsageError;
use crate::cli::{OnePassword, PasswordArgs};

fn refuse(flag: &str, instead: &str) -> anyhow::Error {
    UsageError(format!(
        "{flag} is refused: a password on the command line is kept in shell history and visible in `ps`. Use {instead} instead"
    ))
    .into()
}

fn first_line(text: &str, source: &str) -> Result<String> {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_owned();
    if line.is_empty() {
        bail!("{source} holds no password on its first line");
    }
    Ok(line)
}

fn from_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read password file {}", path.display()))?;
    first_line(&text, &path.display().to_string())
}

fn from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    first_line(&line, "standard input")
}

fn prompt(what: &str) -> Result<String> {
    let first = rpassword::prompt_password(format!("{what} password: "))?;
    let again = rpassword::prompt_password(format!("{what} password again: "))?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// Admin and editor passwords for a new tenant. `None` for admin only with
/// `--no-admin-password`; without any source, prompts on a terminal and otherwise asks for one.
pub fn tenant_passwords(args: &PasswordArgs) -> Result<(Option<String>, Option<String>)> {
    if args.admin_password.is_some() || args.password.is_some() {
        return Err(refuse(
            "--admin-password",
            "--admin-password-file FILE or --admin-password-stdin",
        ));
    }
    if args.editor_password.is_some() {
        return Err(refuse("--editor-password", "--editor-password-file FILE"));
    }
    let admin = if let Some(f) = &args.admin_password_file {
        Some(from_file(f)?)
    } else if args.admin_password_stdin {
        Some(from_stdin()?)
    } else if args.no_admin_password {
        None
    } else if std::io::stdin().is_terminal() {
        Some(prompt("Admin")?)
    } else {
        return Err(UsageError(
            "the admin password is needed: give --admin-password-file FILE or --admin-password-stdin (or --no-admin-password to set it later)".into(),
        )
        .into());
    };
    let editor = args
        .editor_password_file
        .as_deref()
        .map(from_file)
        .transpose()?;
    Ok((admin, editor))
}

pub fn one_password(args: &OnePassword) -> Result<String> {
    if args.password.is_some() {
        return Err(refuse(
            "--password",
            "--password-file FILE or --password-stdin",
        ));
    }
    if let Some(f) = &args.password_file {
        from_file(f)
    } else if args.password_stdin {
        from_stdin()
    } else if std::io::stdin().is_terminal() {
        prompt("New")
    } else {
        Err(
            UsageError("give the password with --password-file FILE or --password-stdin".into())
                .into(),
        )
    }
}
