//! A real ACME CA for the certificate tests: Debian's Pebble on free loopback ports, with
//! pebble-challtestsrv as its DNS server (a name has no address until a test gives it
//! 127.0.0.1; DNS-01 TXT records are set through its management API). Pebble's own HTTPS
//! listener gets a certificate the test makes, trusted by t8k's ACME client only
//! (`T8K_ACME_CA_CERT`). Pebble keeps rejecting 5% of nonces, so the client's retry is used.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub struct Pebble {
    pebble: Child,
    challtest_child: Child,
    dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory: String,
    /// The certificate of Pebble's HTTPS listener (for `T8K_ACME_CA_CERT`).
    pub listener_ca: PathBuf,
    management: u16,
    /// pebble-challtestsrv's management API (set-txt, clear-txt, add-a, …).
    pub challtest: u16,
}

impl Pebble {
    /// Pebble validating HTTP-01 on `http_port` (where `t8k serve` listens); `None` when
    /// Pebble is not installed (see [`super::needs`]).
    pub fn start(http_port: u16) -> Option<Pebble> {
        Pebble::start_for(http_port, free_port())
    }

    /// Pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port` (a server that
    /// answers challenges itself, like Caddy).
    pub fn start_for(http_port: u16, tls_port: u16) -> Option<Pebble> {
        let found =
            super::on_path("pebble").is_some() && super::on_path("pebble-challtestsrv").is_some();
        if !super::needs("pebble and pebble-challtestsrv (apt install pebble)", found) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let listener = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, listener.cert.pem()).unwrap();
        std::fs::write(&key, listener.signing_key.serialize_pem()).unwrap();
        let (acme, management, dns, challtest) =
            (free_port(), free_port(), free_port(), free_port());
        let config = dir.path().join("pebble.json");
        std::fs::write(
            &config,
            serde_json::json!({"pebble": {
                "listenAddress": format!("127.0.0.1:{acme}"),
                "managementListenAddress": format!("127.0.0.1:{management}"),
                "certificate": cert,
                "privateKey": key,
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
            }})
            .to_string(),
        )
        .unwrap();
        let challtest_child = Command::new("pebble-challtestsrv")
            .args([
                "-management",
                &format!("127.0.0.1:{challtest}"),
                "-dns01",
                &format!("127.0.0.1:{dns}"),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-defaultIPv4",
                "",
                "-defaultIPv6",
                "",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv starts");
        let pebble = Command::new("pebble")
            .args(["-config", config.to_str().unwrap()])
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble starts");
        let p = Pebble {
            pebble,
            challtest,
            dir,
            directory: format!("https://127.0.0.1:{acme}/dir"),
            listener_ca: cert,
            management,
            challtest_child,
        };
        for port in [acme, management, challtest] {
            wait_for(port);
        }
        Some(p)
    }

    /// The root that signs what Pebble issues (made at its start), as a PEM file.
    pub fn issuing_root(&self) -> PathBuf {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--cacert"])
            .arg(&self.listener_ca)
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = self.dir.path().join("issuing-root.pem");
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    /// Gives `host` the address 127.0.0.1 in Pebble's DNS.
    pub fn resolves(&self, host: &str) {
        self.challtest_api(
            "add-a",
            &serde_json::json!({"host": format!("{host}."), "addresses": ["127.0.0.1"]}),
        );
    }

    fn challtest_api(&self, path: &str, body: &serde_json::Value) {
        let status = Command::new("curl")
            .args(["-sS", "--fail", "-o", "/dev/null", "-d"])
            .arg(body.to_string())
            .arg(format!("http://127.0.0.1:{}/{path}", self.challtest))
            .status()
            .expect("curl runs");
        assert!(status.success(), "challtestsrv {path} {body}");
    }

    /// A DNS-01 hook for `t8k config acme --dns-hook` that publishes TXT records through
    /// pebble-challtestsrv.
    pub fn dns_hook(&self) -> PathBuf {
        let path = self.dir.path().join("dns-hook");
        let api = format!("http://127.0.0.1:{}", self.challtest);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\n# HOOK set|unset NAME VALUE\nset -e\ncase \"$1\" in\n  \
                 set) curl -sS --fail -d \"{{\\\"host\\\":\\\"$2.\\\",\\\"value\\\":\\\"$3\\\"}}\" {api}/set-txt ;;\n  \
                 unset) curl -sS --fail -d \"{{\\\"host\\\":\\\"$2.\\\"}}\" {api}/clear-txt ;;\n  \
                 *) exit 2 ;;\nesac\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

fn wait_for(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pebble did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in [&mut self.pebble, &mut self.challtest_child] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
