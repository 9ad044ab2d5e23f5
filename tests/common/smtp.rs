//! A real SMTP server for the sign-up mail tests.

use super::*;

/// A real SMTP server for tests: Python's aiosmtpd (installed by scripts/test.sh into
/// .tools/venv), on a free loopback port, storing every message it accepts in a Maildir.
pub struct Smtp {
    child: std::process::Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    /// `None` (the test skips) when aiosmtpd is not installed, see [`needs`].
    pub fn start() -> Option<Smtp> {
        let found = Command::new(python_with_boto3())
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !needs("aiosmtpd (PyPI)", found) {
            return None;
        }
        let port = free_port();
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new(python_with_boto3())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet, so the handler creates the Maildir's folders.
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python -m aiosmtpd starts (run ./scripts/test.sh to install it)");
        let up = eventually(20, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "aiosmtpd did not start on port {port}");
        Some(Smtp {
            child,
            port,
            maildir,
        })
    }

    /// Every message received so far, as raw RFC 5322 text.
    pub fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        let Ok(dir) = std::fs::read_dir(new) else {
            return vec![];
        };
        dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path and query of the first `http(s)://…/api/register/verify?token=…` link in an email
/// (undoing quoted-printable soft breaks, should the mailer have used them).
pub fn verify_link(message: &str) -> Option<String> {
    let text = message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = text.find("/api/register/verify?token=")?;
    let end = text[start..]
        .find(|c: char| c.is_whitespace())
        .map_or(text.len(), |n| start + n);
    Some(text[start..end].to_owned())
}

impl Root {
    /// Sends the installation's mail to an SMTP server on loopback `port` (plain SMTP).
    pub fn use_smtp(&self, port: u16) {
        self.use_smtp_as(port, None);
    }

    /// [`Root::use_smtp`], logging in as `username` (the password comes from the
    /// environment of the command that sends).
    pub fn use_smtp_as(&self, port: u16, username: Option<&str>) {
        let port = port.to_string();
        let mut args = vec!["config", "smtp", "--host", "127.0.0.1", "--port", &port];
        args.extend(["--tls", "none", "--from", "t8k <no-reply@example.com>"]);
        args.extend(username.iter().flat_map(|u| ["--username", u]));
        self.run(&args).ok();
    }
}
