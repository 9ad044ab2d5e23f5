//! Helpers for end-to-end tests: each test gets its own data root in a temp dir and runs the
//! real `t8k` binary against it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PASSWORD: &str = "correct horse battery";

pub struct Root {
    pub dir: tempfile::TempDir,
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
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A `t8k` command with this root and a clean environment for the settings t8k reads.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("--root").arg(self.path()).args(args);
        for v in [
            "T8K_ROOT",
            "ENABLE_MULTI_TENANT",
            "MAX_TENANTS",
            "PUBLIC_ENABLE_MULTI_TENANT",
        ] {
            c.env_remove(v);
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
