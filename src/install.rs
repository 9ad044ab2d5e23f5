//! `t8k install --systemd`: the units that run t8k on one server, hardened, behind nginx.
//!
//! - `t8k-serve.service`: the functions (and the live sites as a fallback) on loopback;
//! - `t8k-worker.service`: builds and publishes each edit as it is queued;
//! - `t8k-edge.service`: keeps the nginx configuration current (`t8k edge nginx --watch`),
//!   and `t8k-nginx-reload.path` reloads nginx (as root, after `nginx -t`) when it changes;
//! - timers: analytics rollup, domain checks, certificate renewal, bandwidth from nginx's log
//!   and the limits, daily usage snapshots, a `--changed` build and publish (banners that
//!   start or end, channels that move), and backups (`--backups`).
//!
//! The data root is private to the `t8k` user (0700). Deploys go to a separate bundle folder
//! nginx may read (0755): nginx never reads the data root. Every service runs as the
//! dedicated user with a read-only system, no new privileges, a private /tmp and the
//! kernel, clock and namespaces out of reach, writing only the folders it must.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::edge::Output;
use crate::jobs::{Host, Job};

/// What `t8k install --systemd` writes units for.
#[derive(Clone, Debug)]
pub struct Plan {
    pub bin: PathBuf,
    pub user: String,
    pub root: PathBuf,
    pub sites: PathBuf,
    pub nginx_dir: PathBuf,
    pub access_log: PathBuf,
    pub port: u16,
    pub env_file: PathBuf,
    pub backups: bool,
}

/// Checks what an operator passed: absolute paths, a dedicated user, a free port.
pub fn check(p: &Plan) -> Result<(), String> {
    for (flag, path) in [
        ("--bin", &p.bin),
        ("--root", &p.root),
        ("--sites", &p.sites),
        ("--nginx-dir", &p.nginx_dir),
        ("--access-log", &p.access_log),
        ("--env-file", &p.env_file),
    ] {
        let text = path.to_string_lossy();
        if !path.is_absolute()
            || text
                .chars()
                .any(|c| c.is_whitespace() || c == '%' || c == '"')
        {
            return Err(format!(
                "{flag} {text}: give an absolute path without spaces, quotes or %"
            ));
        }
    }
    let user_ok = !p.user.is_empty()
        && p.user.len() <= 31
        && p.user
            .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && p.user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !user_ok || ["root", "nobody", "www-data"].contains(&p.user.as_str()) {
        return Err(format!(
            "--user {}: t8k runs as a user of its own (lower-case letters, digits, - and _; not root, nobody or www-data)",
            p.user
        ));
    }
    if p.root.starts_with(&p.sites) || p.sites.starts_with(&p.root) {
        return Err(
            "--sites must be outside --root: nginx reads the sites, never the data root".into(),
        );
    }
    if p.port == 0 {
        return Err("--port: give the port t8k serve listens on (1–65535)".into());
    }
    Ok(())
}

/// Every file: units, timers, the sysusers and tmpfiles entries, and nginx's include.
pub fn files(p: &Plan) -> Vec<Output> {
    let mut out = vec![
        Output::text("t8k-serve.service", serve(p)),
        Output::text("t8k-worker.service", worker(p)),
        Output::text("t8k-edge.service", edge(p)),
        Output::text("t8k-nginx-reload.path", reload_path(p)),
        Output::text("t8k-nginx-reload.service", RELOAD.into()),
        Output::text("t8k.sysusers.conf", sysusers(p)),
        Output::text("t8k.tmpfiles.conf", tmpfiles(p)),
        Output::text("t8k-nginx.conf", nginx_include(p)),
    ];
    for job in jobs(p) {
        out.push(Output::text(
            format!("t8k-{}.service", job.name),
            job_service(p, &job),
        ));
        out.push(Output::text(format!("t8k-{}.timer", job.name), timer(&job)));
    }
    out
}

fn jobs(p: &Plan) -> Vec<Job> {
    let (access_log, sites) = (
        p.access_log.display().to_string(),
        p.sites.display().to_string(),
    );
    crate::jobs::jobs(&Host::OneBox {
        access_log: &access_log,
        sites: &sites,
        backups: p.backups,
    })
}

/// What every t8k service shares: who it runs as, what it may touch, and what it may not.
fn hardening(p: &Plan, writes: &[&Path]) -> String {
    let mut paths = vec![p.root.display().to_string()];
    paths.extend(writes.iter().map(|w| w.display().to_string()));
    format!(
        "User={user}\nGroup={user}\nEnvironmentFile=-{env}\nEnvironment=T8K_CACHE=/var/cache/t8k\n\
         CacheDirectory=t8k\nCacheDirectoryMode=0700\n\
         # Deploys must be readable by nginx; the data root is kept private by its folder (0700).\n\
         UMask=0022\nReadWritePaths={paths}\n\
         NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\nPrivateMounts=yes\n\
         PrivateDevices=yes\nDevicePolicy=closed\nProtectKernelTunables=yes\n\
         ProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\n\
         ProtectClock=yes\nProtectHostname=yes\nProtectProc=invisible\nProcSubset=pid\n\
         RestrictNamespaces=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\n\
         LockPersonality=yes\nMemoryDenyWriteExecute=yes\nRemoveIPC=yes\n\
         RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\nSystemCallArchitectures=native\n\
         SystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n\
         CapabilityBoundingSet=\nAmbientCapabilities=\n",
        user = p.user,
        env = p.env_file.display(),
        paths = paths.join(" "),
    )
}

fn command(p: &Plan, args: &str) -> String {
    format!("{} --root {} {args}", p.bin.display(), p.root.display())
}

fn unit_head(description: &str) -> String {
    format!(
        "# Written by `t8k install --systemd`; regenerate rather than edit.\n[Unit]\n\
         Description={description}\nDocumentation=https://github.com/t8k/t8k#deploy-on-one-server\n\
         After=network-online.target\nWants=network-online.target\n\n"
    )
}

fn long_running(p: &Plan, description: &str, args: &str, writes: &[&Path]) -> String {
    format!(
        "{}[Service]\nType=simple\nExecStart={}\nRestart=on-failure\nRestartSec=2\n\
         KillSignal=SIGTERM\nTimeoutStopSec=90\n{}\n[Install]\nWantedBy=multi-user.target\n",
        unit_head(description),
        command(p, args),
        hardening(p, writes)
    )
}

fn serve(p: &Plan) -> String {
    long_running(
        p,
        "t8k functions (sign-up, auth, content, analytics beacons) on loopback",
        &format!(
            "serve --bind 127.0.0.1 --port {} --from {}",
            p.port,
            p.sites.display()
        ),
        &[],
    )
}

fn worker(p: &Plan) -> String {
    long_running(
        p,
        "t8k worker: build and publish each edit as it is queued",
        &format!("worker --to {}", p.sites.display()),
        &[&p.sites],
    )
}

fn edge(p: &Plan) -> String {
    long_running(
        p,
        "t8k edge: keep the nginx configuration current",
        &format!(
            "edge nginx --out {} --from {} --functions 127.0.0.1:{} --access-log {} --watch",
            p.nginx_dir.display(),
            p.sites.display(),
            p.port,
            p.access_log.display()
        ),
        &[&p.nginx_dir],
    )
}

fn reload_path(p: &Plan) -> String {
    format!(
        "# Written by `t8k install --systemd`.\n[Unit]\nDescription=Reload nginx when t8k's \
         configuration changes\n\n[Path]\nPathChanged={}\nUnit=t8k-nginx-reload.service\n\n\
         [Install]\nWantedBy=multi-user.target\n",
        p.nginx_dir.display()
    )
}

/// Runs as root (nginx's master takes a reload signal only from root), only after `nginx -t`
/// passes, and with what it needs: nginx's configuration and certificates to read, its pid
/// file and logs to write, the master to signal.
const RELOAD: &str = "# Written by `t8k install --systemd`.\n[Unit]\nDescription=Reload nginx \
     for t8k (after checking the configuration)\n\n[Service]\nType=oneshot\n\
     ExecStartPre=/usr/sbin/nginx -t -q\nExecStart=/usr/sbin/nginx -s reload\n\
     NoNewPrivileges=yes\nProtectSystem=strict\nReadWritePaths=/run /var/log/nginx /var/lib/nginx\n\
     ProtectHome=yes\nPrivateTmp=yes\nPrivateDevices=yes\nPrivateNetwork=yes\n\
     ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n\
     ProtectControlGroups=yes\nProtectClock=yes\nProtectHostname=yes\nRestrictNamespaces=yes\n\
     RestrictRealtime=yes\nRestrictSUIDSGID=yes\nLockPersonality=yes\nRestrictAddressFamilies=AF_UNIX\n\
     SystemCallArchitectures=native\nSystemCallFilter=@system-service\n\
     CapabilityBoundingSet=CAP_KILL CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_CHOWN CAP_SETUID CAP_SETGID\n";

fn job_service(p: &Plan, job: &Job) -> String {
    let mut s = unit_head(&format!("t8k: {}", job.what));
    s.push_str("[Service]\nType=oneshot\n");
    for c in &job.commands {
        let _ = writeln!(s, "ExecStart={}", command(p, c));
    }
    if !job.groups.is_empty() {
        let _ = writeln!(s, "SupplementaryGroups={}", job.groups);
    }
    s.push_str(&hardening(p, &[&p.sites]));
    s
}

fn timer(job: &Job) -> String {
    format!(
        "# Written by `t8k install --systemd`.\n[Unit]\nDescription=t8k: {} ({})\n\n[Timer]\n\
         OnCalendar={}\nRandomizedDelaySec=60\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
        job.what, job.on_calendar, job.on_calendar
    )
}

fn sysusers(p: &Plan) -> String {
    format!(
        "# /etc/sysusers.d/t8k.conf: the user every t8k service runs as.\nu {} - \"t8k platform\" {}\n",
        p.user,
        p.root.display()
    )
}

fn tmpfiles(p: &Plan) -> String {
    format!(
        "# /etc/tmpfiles.d/t8k.conf: a private data root, a bundle folder nginx reads, and the\n\
         # folder t8k edge writes nginx's configuration into.\n\
         d {root} 0700 {u} {u} -\nd {sites} 0755 {u} {u} -\nd {nginx} 0755 {u} {u} -\n",
        root = p.root.display(),
        sites = p.sites.display(),
        nginx = p.nginx_dir.display(),
        u = p.user
    )
}

fn nginx_include(p: &Plan) -> String {
    format!(
        "# /etc/nginx/conf.d/t8k.conf (inside http {{}}): the sites, /api/ and TLS, as\n\
         # `t8k edge nginx` (t8k-edge.service) keeps them.\ninclude {}/t8k.conf;\n",
        p.nginx_dir.display()
    )
}

/// The commands that put the files in place and start everything.
pub fn next_steps(out: &Path) -> String {
    let o = out.display();
    format!(
        "install -m 0644 {o}/t8k.sysusers.conf /etc/sysusers.d/t8k.conf && systemd-sysusers\n\
         install -m 0644 {o}/t8k.tmpfiles.conf /etc/tmpfiles.d/t8k.conf && systemd-tmpfiles --create\n\
         install -m 0644 {o}/t8k-nginx.conf /etc/nginx/conf.d/t8k.conf\n\
         install -m 0644 {o}/t8k-*.service {o}/t8k-*.timer {o}/t8k-*.path /etc/systemd/system/\n\
         systemctl daemon-reload\n\
         systemctl enable --now t8k-serve t8k-worker t8k-edge t8k-nginx-reload.path\n\
         systemctl enable --now $(cd {o} && ls t8k-*.timer)\n"
    )
}
