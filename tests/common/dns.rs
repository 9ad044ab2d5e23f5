//! A real DNS server for the domain tests: Debian's dnsmasq on a free loopback port, answering
//! only the records a test gives it (no upstream, no /etc/hosts; any other name does not
//! exist), restarted to change them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Dnsmasq {
    child: Child,
    pub port: u16,
}

impl Dnsmasq {
    /// dnsmasq serving `records` (its `--txt-record=…`, `--cname=…`, `--host-record=…`
    /// options); `None` when dnsmasq is not installed (see [`super::needs`]).
    pub fn start(records: &[String]) -> Option<Dnsmasq> {
        let found = super::on_path("dnsmasq").is_some();
        if !super::needs("dnsmasq (apt install dnsmasq-base)", found) {
            return None;
        }
        Some(Dnsmasq::on(super::free_port(), records))
    }

    fn on(port: u16, records: &[String]) -> Dnsmasq {
        let child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                "--pid-file=",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--user=root",
                // Every name is local: one not given is NXDOMAIN, not REFUSED.
                "--local=/#/",
                &format!("--port={port}"),
            ])
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "dnsmasq did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Dnsmasq { child, port }
    }

    /// The same server with other records.
    pub fn replace(&mut self, records: &[String]) {
        self.stop();
        *self = Dnsmasq::on(self.port, records);
    }

    /// `T8K_DNS_SERVERS` for this server.
    pub fn servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        self.stop();
    }
}
