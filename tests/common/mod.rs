//! Helpers for end-to-end tests: each test gets its own data root in a temp dir and runs the
//! real `t8k` binary against it.
#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod browser;
mod bundle;
mod dns;
mod edge_site;
mod http;
mod images;
mod nginx;
mod pebble;
mod smtp;
mod snapshot;
mod stores;
mod tls;

pub use browser::{Browser, accessible, axe_source, chart_problems};
pub use bundle::*;
pub use dns::Dnsmasq;
pub use edge_site::*;
pub use http::*;
pub use images::*;
pub use nginx::Nginx;
pub use pebble::Pebble;
pub use smtp::*;
pub use snapshot::*;
pub use stores::*;
pub use tls::*;

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

    /// Starts every command at once (each a real `t8k` process) and waits for all.
    pub fn at_once(&self, commands: &[Vec<&str>]) -> Vec<std::process::Output> {
        let children: Vec<_> = commands
            .iter()
            .map(|args| {
                self.cmd(args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
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
        self.init_multi_with(max_tenants, &[]);
    }

    /// [`Root::init_multi`] with more `t8k init` flags (`--require-email-verification`, …).
    pub fn init_multi_with(&self, max_tenants: u64, flags: &[&str]) {
        let max = max_tenants.to_string();
        let mut args = vec![
            "init",
            "--multi",
            "--domain",
            "example.com",
            "--max-tenants",
            &max,
        ];
        args.extend_from_slice(flags);
        self.run(&args).ok();
    }

    /// A new installation admin API key (`t8k config admin-key`), replacing any earlier one.
    pub fn admin_key(&self) -> String {
        let made = self.run(&["--json", "config", "admin-key"]).ok().json();
        made["admin_key"].as_str().unwrap().to_owned()
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

    /// A tenant's registry entry (`config/t8k/tenants/{id}`), if it has one.
    pub fn entry(&self, id: &str) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.path().join("config/t8k/tenants").join(id)).ok()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    /// Every registry entry, claims included.
    pub fn entries(&self) -> Vec<serde_json::Value> {
        let Ok(dir) = std::fs::read_dir(self.path().join("config/t8k/tenants")) else {
            return vec![];
        };
        // Dot files are a killed writer's temporary files, not entries.
        dir.map(|f| f.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
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

    /// The raw analytics event objects of a tenant (`events/{tenant}/{day}/…`), in no order.
    pub fn event_files(&self, tenant: &str) -> Vec<PathBuf> {
        let mut files = vec![];
        let mut stack = vec![self.file(&format!("events/{tenant}"))];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p)
                } else {
                    files.push(p)
                }
            }
        }
        files
    }

    /// Every stored event line of a tenant.
    pub fn event_lines(&self, tenant: &str) -> Vec<String> {
        let text = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        let lines = self.event_files(tenant).into_iter().map(text);
        lines
            .flat_map(|t| t.lines().map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }
}

/// The row of tenant `id` in `t8k report --json` output.
pub fn report_row<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == id)
        .unwrap_or_else(|| panic!("no row for {id} in {report}"))
}

impl Root {
    /// Writes `files` (name → Markdown with front matter) into the folder `folder` of the
    /// test's temp dir and imports them into `tenant` with `t8k content import`.
    pub fn import_pages(&self, tenant: &str, folder: &str, files: &[(String, String)]) {
        let src = self.dir.path().join(folder);
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        write_files(&src, &refs);
        self.run(&["content", "import", tenant, src.to_str().unwrap()])
            .ok();
    }
}

/// The repository's folder (its themes, examples, tools).
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder tree (a theme to change in a test).
pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A `t8k serve` process, stopped when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
    /// The HTTPS port, with `--tls-port`.
    pub tls_port: Option<u16>,
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
        self.serve_to(extra, Stdio::inherit())
    }

    /// [`Root::serve`] with the server's stderr (its log) sent to `stderr`.
    pub fn serve_to(&self, extra: &[&str], stderr: Stdio) -> Server {
        use std::io::BufRead;
        let mut args = vec!["--json", "serve", "--port", "0"];
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
        let port_of = |url: &serde_json::Value| -> Option<u16> {
            url.as_str()?.rsplit(':').next()?.parse().ok()
        };
        Server {
            port: port_of(&v["listening"]).unwrap(),
            tls_port: port_of(&v["tls"]),
            child,
        }
    }
}

/// A multi-tenant root with `acme` and `other` (admin password [`PASSWORD`]), built and served.
pub fn served_platform() -> (Root, Server) {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.create("other").ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    (root, srv)
}

/// Whether a test's outside program (a server, a browser) is here. When it is not, the test
/// prints why and skips — unless `T8K_REQUIRE_ALL=1` (scripts/test.sh and so CI set it), where
/// a missing program fails the test, so nothing is ever skipped silently there.
pub fn needs(what: &str, found: bool) -> bool {
    #[allow(clippy::disallowed_methods)] // the test harness's own switch, not t8k's config
    let required = std::env::var("T8K_REQUIRE_ALL").is_ok_and(|v| v == "1");
    if !found {
        assert!(
            !required,
            "{what} is missing and T8K_REQUIRE_ALL=1: run ./scripts/test.sh, which installs it"
        );
        eprintln!("SKIPPED: {what} is not installed (./scripts/test.sh installs it)");
    }
    found
}

/// `name` in a folder of `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)] // a test looking for a tool, not t8k's configuration
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `n` requests at once (`request(i)` returns a status) and returns their statuses.
pub fn race(n: usize, request: impl Fn(usize) -> u16 + Sync) -> Vec<u16> {
    std::thread::scope(|s| {
        let request = &request;
        let hs: Vec<_> = (0..n).map(|i| s.spawn(move || request(i))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// How many of `statuses` are `status`.
pub fn tally(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
