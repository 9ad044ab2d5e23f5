//! A certificate authority made by the test (rcgen), for TLS checks that need no ACME: the
//! test issues a certificate, `t8k certs import`s it, and trusts the CA in its client only.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// The CA certificate, PEM, for `curl --cacert`.
    pub pem: PathBuf,
}

impl TestCa {
    pub fn new(dir: &Path) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "t8k test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pem = dir.join("test-ca.pem");
        std::fs::write(&pem, issuer.pem()).unwrap();
        TestCa { issuer, pem }
    }

    /// A certificate for `names` signed by this CA: (chain file, key file) under `dir`.
    pub fn issue(&self, dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names.clone())
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let stem = names[0].replace('*', "wildcard");
        let (c, k) = (
            dir.join(format!("{stem}.crt")),
            dir.join(format!("{stem}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

/// `curl ARGS https://HOST:PORT{path}` to 127.0.0.1, trusting `ca` only.
fn curl(ca: &Path, host: &str, port: u16, path: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .arg("--cacert")
        .arg(ca)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .arg(format!("https://{host}:{port}{path}"))
        .output()
        .expect("curl runs")
}

/// The response headers of `GET https://HOST:PORT{path}`, lower-cased.
pub fn https_headers(ca: &Path, host: &str, port: u16, path: &str) -> String {
    let out = curl(ca, host, port, path, &["-o", "/dev/null", "-D", "-"]);
    String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
}

/// `curl https://HOST:PORT{path}` to 127.0.0.1, trusting `ca` only: (exit code, status, body).
pub fn https_get(ca: &Path, host: &str, port: u16, path: &str) -> (i32, u16, String) {
    let out = curl(ca, host, port, path, &["-w", "\n%{http_code}"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        status.trim().parse().unwrap_or(0),
        body.to_owned(),
    )
}
