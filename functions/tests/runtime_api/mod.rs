//! A stand-in for AWS's Lambda runtime API (the documented `invocation/next`, `/response`
//! and `/error` endpoints) on a loopback port: the service cannot run here, so the tests run
//! each function binary against this and feed it events.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use t8k_core::lifecycle::{InitOptions, Installation};
use t8k_core::settings::Env;

/// The installation of the data root at `dir`.
pub fn installation(dir: &std::path::Path) -> Installation {
    let store = Box::new(t8k_core::store::local::LocalStore::new(dir));
    Installation::new(store, Env::default())
}

/// A new multi-tenant installation at `dir` (example.com, up to 10 tenants), for the binaries
/// to run against.
pub fn platform(dir: &std::path::Path) -> Installation {
    let inst = installation(dir);
    inst.init(&InitOptions {
        domain: "example.com".into(),
        multi: true,
        max_tenants: Some(10),
        public_enable_multi_tenant: Some(true),
        require_email_verification: false,
        auto_ssl: false,
        enable_custom_domains: true,
    })
    .unwrap();
    inst
}

type Waiters = Arc<Mutex<HashMap<String, mpsc::Sender<(String, Value)>>>>;

#[derive(Clone)]
struct Api {
    events: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<(String, String)>>>,
    waiters: Waiters,
}

async fn next(State(api): State<Api>) -> axum::response::Response {
    let Some((id, event)) = api.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let mut h = HeaderMap::new();
    h.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    h.insert("lambda-runtime-deadline-ms", deadline.parse().unwrap());
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:t8k-test"
            .parse()
            .unwrap(),
    );
    h.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".parse().unwrap(),
    );
    h.insert("content-type", "application/json".parse().unwrap());
    (h, event).into_response()
}

fn finish(api: &Api, id: &str, kind: &str, body: &str) -> StatusCode {
    let v = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
    if let Some(tx) = api.waiters.lock().unwrap().remove(id) {
        let _ = tx.send((kind.to_owned(), v));
    }
    StatusCode::ACCEPTED
}

/// A Lambda runtime API serving the events a test queues, one process at a time.
pub struct RuntimeApi {
    rt: tokio::runtime::Runtime,
    port: u16,
    queue: tokio::sync::mpsc::UnboundedSender<(String, String)>,
    waiters: Waiters,
    child: Option<Child>,
    count: u32,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (queue, rx) = tokio::sync::mpsc::unbounded_channel();
        let waiters: Waiters = Default::default();
        let api = Api {
            events: Arc::new(tokio::sync::Mutex::new(rx)),
            waiters: waiters.clone(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(
                    |State(a): State<Api>, Path(id): Path<String>, body: String| async move {
                        finish(&a, &id, "response", &body)
                    },
                ),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(
                    |State(a): State<Api>, Path(id): Path<String>, body: String| async move {
                        finish(&a, &id, "error", &body)
                    },
                ),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(|body: String| async move {
                    eprintln!("init error: {body}");
                    StatusCode::ACCEPTED
                }),
            )
            .with_state(api);
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        rt.spawn(async move { axum::serve(listener, app).await });
        RuntimeApi {
            rt,
            port,
            queue,
            waiters,
            child: None,
            count: 0,
        }
    }

    /// Starts a function binary against this runtime API.
    pub fn exec(&mut self, binary: &str, root: &std::path::Path, env: &[(&str, &str)]) {
        let child = Command::new(binary)
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", self.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "t8k-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .env("T8K_ROOT", root)
            .stdout(Stdio::null())
            .spawn()
            .expect("the function binary starts");
        self.child = Some(child);
    }

    /// One invocation: the event in, the function's response (or error) out.
    pub fn invoke(&mut self, event: Value) -> (String, Value) {
        self.count += 1;
        let id = format!("req-{}", self.count);
        let (tx, rx) = mpsc::channel();
        self.waiters.lock().unwrap().insert(id.clone(), tx);
        self.queue.send((id, event.to_string())).unwrap();
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the function answers within 60 s")
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = &self.rt;
    }
}
