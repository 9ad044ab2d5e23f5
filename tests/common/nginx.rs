//! An nginx master on loopback for the edge tests: the configuration an operator writes
//! around the include `t8k edge nginx` generates, checked with `nginx -t`, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// An nginx master on loopback, including the generated `t8k.conf` like an operator would.
pub struct Nginx {
    child: Child,
    pub conf: PathBuf,
    pub prefix: PathBuf,
}

impl Nginx {
    pub fn start(dir: &Path, include: &Path) -> Nginx {
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  \
                 client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  include {inc};\n}}\n",
                d = dir.display(),
                inc = include.display()
            ),
        )
        .unwrap();
        nginx_checked(&conf, dir, &["-t"]);
        let child = Command::new("nginx")
            .args(["-c", conf.to_str().unwrap(), "-p"])
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx starts");
        Nginx {
            child,
            conf,
            prefix: dir.to_path_buf(),
        }
    }

    /// `nginx -t` or `-s reload` against this server's configuration.
    pub fn run_checked(&self, args: &[&str]) {
        nginx_checked(&self.conf, &self.prefix, args);
    }
}

fn nginx_checked(conf: &Path, prefix: &Path, args: &[&str]) {
    let out = Command::new("nginx")
        .args(args)
        .args(["-c", conf.to_str().unwrap(), "-p"])
        .arg(prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nginx {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
