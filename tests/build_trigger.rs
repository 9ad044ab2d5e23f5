//! The build trigger: saves through the content API make `t8k serve` call the build webhook —
//! a real HTTP receiver on loopback here — once per burst (debounced per tenant, sent when the
//! window closes), signed with the shared secret; a receiver that answers 500 is retried, then
//! the failure is in `t8k report`, and the editor's saves all succeeded regardless.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{PASSWORD, Root, eventually, login_cookie, send_json};

/// One call the receiver got: its headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Call {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver: records every POST and answers with `status`.
struct Receiver {
    port: u16,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(200));
        let (c, s) = (calls.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = vec![];
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let Some((k, v)) = line.trim_end().split_once(':') else {
                        break;
                    };
                    headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                c.lock().unwrap().push(Call { headers, body });
                let code = s.load(Ordering::Relaxed);
                let mut out = stream;
                let _ = write!(
                    out,
                    "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            port,
            calls,
            status,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

const SECRET: &str = "webhook-secret-for-tests";

fn page(title: &str, n: usize) -> String {
    serde_json::json!({"slug": "about", "title": title, "panes": [{"markdown": format!("Save {n}."), "options": {}}]})
        .to_string()
}

#[test]
fn a_burst_of_saves_is_one_signed_call_and_a_failing_receiver_is_retried_then_reported() {
    let hook = Receiver::start();
    let mut root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.env.extend([
        (
            "BUILD_WEBHOOK_URL".to_owned(),
            format!("http://127.0.0.1:{}/hooks/t8k", hook.port),
        ),
        ("BUILD_WEBHOOK_SECRET".to_owned(), SECRET.to_owned()),
        ("BUILD_WEBHOOK_DEBOUNCE_SECS".to_owned(), "2".to_owned()),
    ]);
    let srv = root.serve(&[]);
    let host = "acme.localhost";
    let cookie = login_cookie(srv.port, host, "admin", PASSWORD);
    let c = [("Cookie", cookie.as_str())];
    let r = send_json(srv.port, "POST", host, "/api/pages", &c, &page("About", 0));
    assert_eq!(r.status, 201, "{}", r.text());
    for n in 1..10 {
        let r = send_json(
            srv.port,
            "PUT",
            host,
            "/api/pages/about",
            &c,
            &page("About", n),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert!(
        eventually(10, || !hook.calls().is_empty()),
        "the webhook was called"
    );
    std::thread::sleep(Duration::from_secs(3)); // a second call would have come by now
    let calls = hook.calls();
    assert_eq!(
        calls.len(),
        1,
        "ten saves in the window, one call: {calls:?}"
    );
    let call = &calls[0];
    let sig = call.header(t8k_core::trigger::SIGNATURE_HEADER).unwrap();
    assert!(t8k_core::trigger::verify(SECRET, &call.body, sig));
    assert!(!t8k_core::trigger::verify(
        "another secret",
        &call.body,
        sig
    ));
    let body: serde_json::Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(body["tenants"], serde_json::json!(["acme"]), "{body}");

    // A receiver that fails: retried (four attempts), then reported; the save itself is fine.
    hook.status.store(500, Ordering::Relaxed);
    let r = send_json(
        srv.port,
        "PUT",
        host,
        "/api/pages/about",
        &c,
        &page("Later", 10),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        eventually(20, || hook.calls().len() == 5),
        "four attempts: {:?}",
        hook.calls().len()
    );
    let report = eventually(10, || {
        let r = root.run(&["--json", "report"]).ok().json();
        common::report_row(&r, "acme")["trigger"]["ok"] == false
    });
    assert!(report, "the failed trigger is recorded");
    let r = root.run(&["--json", "report"]).ok().json();
    let row = common::report_row(&r, "acme");
    assert_eq!(row["trigger"]["attempts"], 4, "{row}");
    let problems = row["problems"].to_string();
    assert!(
        problems.contains("the build trigger failed") && problems.contains("500"),
        "{problems}"
    );
    assert!(
        row["build_queued"] == true,
        "the request stays queued: {row}"
    );
}
