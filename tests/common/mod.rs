//! Helpers for end-to-end tests: each test gets its own data root in a temp dir and runs the
//! real `t8k` binary against it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PASSWORD: &str = "correct horse battery";

pub struct Root {
    pub dir: tempfile::TempDir,
    /// `--root` when it is not the local folder (an `s3://` data root).
    pub spec: Option<String>,
    /// Extra environment for every command (S3 endpoint and credentials).
    pub env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32, needle: &str) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_t8k")
}

impl Root {
    pub fn new() -> Root {
        Root {
            dir: tempfile::tempdir().unwrap(),
            spec: None,
            env: vec![],
        }
    }

    /// A data root in a bucket of `s3`, under `prefix`, with a private local cache.
    pub fn s3(s3: &Moto, prefix: &str) -> Root {
        let mut root = Root::new();
        root.spec = Some(format!("s3://{}/{prefix}", s3.bucket));
        root.env = s3.env();
        root.env.push((
            "T8K_CACHE".into(),
            root.dir.path().join("cache").display().to_string(),
        ));
        root
    }

    /// Adds the S3 environment (for `--to s3://...` targets with a local data root).
    pub fn with_s3(mut self, s3: &Moto) -> Root {
        self.env.extend(s3.env());
        self
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A `t8k` command with this root and a clean environment for the settings t8k reads.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        match &self.spec {
            Some(spec) => c.arg("--root").arg(spec),
            None => c.arg("--root").arg(self.path()),
        };
        c.args(args);
        for v in [
            "T8K_ROOT",
            "ENABLE_MULTI_TENANT",
            "MAX_TENANTS",
            "PUBLIC_ENABLE_MULTI_TENANT",
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
        ] {
            c.env_remove(v);
        }
        c.env("HOME", self.dir.path());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    pub fn password_file(&self) -> PathBuf {
        let p = self.dir.path().join("pw.txt");
        if !p.exists() {
            std::fs::write(&p, format!("{PASSWORD}\n")).unwrap();
        }
        p
    }

    pub fn init_multi(&self, max_tenants: u64) {
        self.run(&[
            "init",
            "--multi",
            "--domain",
            "example.com",
            "--max-tenants",
            &max_tenants.to_string(),
        ])
        .ok();
    }

    pub fn create_args(&self, id: &str) -> Vec<String> {
        let pw = self.password_file();
        [
            "tenant",
            "create",
            id,
            "--name",
            "Test Site",
            "--email",
            "owner@example.com",
            "--admin-password-file",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([pw.display().to_string()])
        .collect()
    }

    pub fn create(&self, id: &str) -> Run {
        let args = self.create_args(id);
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    pub fn registry(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path().join("config/t8k/tenants.json")).unwrap())
            .unwrap()
    }

    pub fn listed_ids(&self) -> Vec<String> {
        let list = self.run(&["--json", "tenant", "list"]).ok().json();
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A response read off the wire.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one raw HTTP/1.1 request to 127.0.0.1:`port` — raw so that tests control the exact
/// path bytes (`%2e%2e`, backslashes) and the Host header.
pub fn http(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> HttpResponse {
    http_with_body(port, method, host, path, extra, b"")
}

pub fn get(port: u16, host: &str, path: &str) -> HttpResponse {
    http(port, "GET", host, path, &[])
}

/// A `t8k serve` process, stopped when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Root {
    /// Starts `t8k serve --port 0 --json` (plus `extra` args) and waits for it to listen.
    pub fn serve(&self, extra: &[&str]) -> Server {
        use std::io::BufRead;
        let mut args = vec!["--json", "serve", "--port", "0"];
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
        let port = v["listening"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Server { child, port }
    }
}

/// Polls `check` for up to `secs` seconds.
pub fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// A real S3 server for tests: moto's server (PyPI `moto[server]`, installed by
/// scripts/test.sh into .tools/venv), on a free loopback port, with one bucket. Its conditional
/// writes are atomic, like AWS S3 and MinIO (MinIO itself cannot be installed here).
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
    pub bucket: String,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn moto_binary() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("moto_server"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| panic!("moto_server not found: run ./scripts/test.sh, which installs moto[server] into .tools/venv"))
}

/// The Python that has boto3 (installed with moto): the venv's, else the system's.
fn python_with_boto3() -> PathBuf {
    let venv = moto_binary().with_file_name("python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new(moto_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let ok = eventually(30, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(ok, "moto_server did not start on port {port}");
        let moto = Moto {
            child,
            port,
            bucket: "t8k-test".into(),
        };
        moto.create_bucket(&moto.bucket.clone());
        moto
    }

    pub fn create_bucket(&self, name: &str) {
        let r = http(
            self.port,
            "PUT",
            &format!("127.0.0.1:{}", self.port),
            &format!("/{name}"),
            &[("Content-Length", "0")],
        );
        assert!(
            r.status == 200 || r.status == 409,
            "create bucket: {} {}",
            r.status,
            r.text()
        );
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    /// Reads an object straight from the server with boto3 (installed with moto), bypassing t8k.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let python = python_with_boto3();
        let script = "import sys, boto3, botocore\n\
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\n\
try:\n    sys.stdout.buffer.write(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read())\n\
except botocore.exceptions.ClientError:\n    sys.exit(3)\n";
        let out = Command::new(python)
            .args(["-c", script, &self.endpoint(), bucket, key])
            .output()
            .unwrap();
        match out.status.code() {
            Some(0) => Some(out.stdout),
            Some(3) => None,
            _ => panic!(
                "reading s3://{bucket}/{key}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Every object under `prefix`: key → hex SHA-256 of its bytes (one boto3 call).
    pub fn objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> std::collections::BTreeMap<String, String> {
        let python = python_with_boto3();
        let script = "import sys, json, hashlib, boto3\n\
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\n\
out = {}\n\
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[2], Prefix=sys.argv[3]):\n    for o in page.get('Contents', []):\n        out[o['Key']] = hashlib.sha256(s3.get_object(Bucket=sys.argv[2], Key=o['Key'])['Body'].read()).hexdigest()\n\
print(json.dumps(out))\n";
        let out = Command::new(python)
            .args(["-c", script, &self.endpoint(), bucket, prefix])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// A TCP proxy in front of a server, to take the server "down" mid-operation without losing
/// its state: once `limit` bytes have gone upstream it drops every connection and refuses new
/// ones until [`Proxy::up`].
pub struct Proxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    limit: std::sync::Arc<std::sync::atomic::AtomicU64>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    pub fn start(target: u16) -> Proxy {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = Proxy {
            port,
            up: Arc::new(AtomicBool::new(true)),
            sent: Arc::new(AtomicU64::new(0)),
            limit: Arc::new(AtomicU64::new(u64::MAX)),
            conns: Arc::new(Mutex::new(vec![])),
        };
        let (up, sent, limit, conns) = (
            p.up.clone(),
            p.sent.clone(),
            p.limit.clone(),
            p.conns.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                conns
                    .lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (up2, sent2, limit2, conns2) =
                    (up.clone(), sent.clone(), limit.clone(), conns.clone());
                std::thread::spawn(move || {
                    use std::io::Read;
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        if sent2.fetch_add(n as u64, Ordering::SeqCst) + n as u64
                            > limit2.load(Ordering::SeqCst)
                        {
                            up2.store(false, Ordering::SeqCst);
                            for c in conns2.lock().unwrap().drain(..) {
                                let _ = c.shutdown(std::net::Shutdown::Both);
                            }
                            break;
                        }
                    }
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                });
            }
        });
        p
    }

    /// Goes down once `bytes` more have been forwarded upstream.
    pub fn fail_after(&self, bytes: u64) {
        use std::sync::atomic::Ordering;
        self.limit
            .store(self.sent.load(Ordering::SeqCst) + bytes, Ordering::SeqCst);
    }

    pub fn is_up(&self) -> bool {
        self.up.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn up(&self) {
        use std::sync::atomic::Ordering;
        self.limit.store(u64::MAX, Ordering::SeqCst);
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Like [`http`], with a request body.
pub fn http_with_body(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    // Read until the body is complete by Content-Length (some servers, chromedriver among
    // them, keep the connection open despite `Connection: close`), else until EOF.
    let mut raw = vec![];
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| raw.len() >= head_end + 4 + n) {
                break;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// A real SMTP server for tests: Python's aiosmtpd (installed by scripts/test.sh into
/// .tools/venv), on a free loopback port, storing every message it accepts in a Maildir.
pub struct Smtp {
    child: std::process::Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    pub fn start() -> Smtp {
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
        Smtp {
            child,
            port,
            maildir,
        }
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

/// Every file under a data root → its bytes, to check that a refused request changed nothing.
/// SQLite databases are compared by content (every row of every table, as a reader sees it,
/// WAL included), since checkpoints rewrite their files without changing data; the local
/// store's lock files are left out.
pub fn snapshot(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(".t8k") || rel.ends_with("-shm") || rel.ends_with("-wal") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if rel.ends_with(".db") {
                out.insert(rel, dump_db(&p));
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every row of every table of a SQLite database, as text.
fn dump_db(path: &Path) -> Vec<u8> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            out.push_str(&format!("{t}: {}\n", cells.join(" | ")));
        }
    }
    out.into_bytes()
}

/// Asserts two snapshots are equal, naming the files that differ (not dumping their bytes).
pub fn assert_unchanged(
    before: &std::collections::BTreeMap<String, Vec<u8>>,
    after: &std::collections::BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: these files changed: {changed:?}"
    );
}

/// Logs `user` in at `host` through `POST /api/auth/login`; returns the `name=value` of the
/// session cookie.
pub fn login_cookie(port: u16, host: &str, user: &str, password: &str) -> String {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let len = body.len().to_string();
    let r = http_with_body(
        port,
        "POST",
        host,
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &len),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "login at {host}: {}", r.text());
    r.header("set-cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A headless Chromium (Debian's `chromium` + `chromium-driver`, installed by scripts/test.sh)
/// driven over the W3C WebDriver protocol by chromedriver on a free loopback port; the session
/// and the driver are stopped when dropped.
pub struct Browser {
    driver: std::process::Child,
    port: u16,
    session: String,
}

impl Browser {
    pub fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/test.sh installs chromium-driver)");
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
        };
        assert!(
            eventually(20, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "chromedriver did not start"
        );
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
        ];
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}});
        b.session = b.call("POST", "/session", &caps)["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned();
        b
    }

    fn call(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let path = if path == "/session" {
            path.to_owned()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let text = body.to_string();
        let len = text.len().to_string();
        let r = http_with_body(
            self.port,
            method,
            &format!("127.0.0.1:{}", self.port),
            &path,
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &len),
            ],
            text.as_bytes(),
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {}", r.text()));
        assert_eq!(r.status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            &serde_json::json!({"using": "css selector", "value": css}),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    pub fn open(&self, url: &str) {
        self.call("POST", "/url", &serde_json::json!({ "url": url }));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/clear"),
            &serde_json::json!({}),
        );
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            &serde_json::json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/click"),
            &serde_json::json!({}),
        );
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.element(css);
        self.call(
            "GET",
            &format!("/element/{id}/text"),
            &serde_json::json!({}),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.port,
                "DELETE",
                &format!("127.0.0.1:{}", self.port),
                &format!("/session/{}", self.session),
                &[],
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
