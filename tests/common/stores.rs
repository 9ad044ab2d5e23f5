//! Real servers the bucket tests talk to: moto's S3, and a proxy that can cut it off.

use super::*;

/// A real S3 server for tests: moto's server (PyPI `moto[server]`, installed by
/// scripts/test.sh into .tools/venv), on a free loopback port, with one bucket. Its conditional
/// writes are atomic, like AWS S3 and MinIO (MinIO itself cannot be installed here).
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
    pub bucket: String,
}

fn moto_binary() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    on_path("moto_server")
}

/// The Python that has boto3 (installed with moto): the venv's, else the system's.
pub fn python_with_boto3() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

impl Moto {
    /// `None` (the test skips) when moto is not installed, see [`needs`].
    pub fn start() -> Option<Moto> {
        let binary = moto_binary();
        if !needs("moto_server (PyPI moto[server])", binary.is_some()) {
            return None;
        }
        let port = free_port();
        let child = Command::new(binary?)
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
        Some(moto)
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

    /// Lets anyone read the objects under `prefix` of `bucket` (a bucket policy, as an
    /// operator sets one for a web server that proxies to the bucket unsigned).
    pub fn public_read(&self, bucket: &str, prefix: &str) {
        let script = "import json\n\
s3.put_bucket_policy(Bucket=sys.argv[2], Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::' + sys.argv[2] + '/' + sys.argv[3] + '*'}]}))\n";
        let out = self.boto3(script, &[bucket, prefix]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `script` with `s3`, a boto3 client of this server, and `sys` imported; `args`
    /// follow the endpoint in `sys.argv`.
    fn boto3(&self, script: &str, args: &[&str]) -> std::process::Output {
        let head = "import sys, boto3, botocore\n\
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\n";
        Command::new(python_with_boto3())
            .args(["-c", &format!("{head}{script}"), &self.endpoint()])
            .args(args)
            .output()
            .unwrap()
    }

    /// Writes an object straight to the server with boto3, bypassing t8k (what another
    /// service, e.g. S3's access logging, puts in a bucket).
    pub fn put(&self, bucket: &str, key: &str, body: &str) {
        let script =
            "s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=sys.argv[4].encode())\n";
        let out = self.boto3(script, &[bucket, key, body]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Reads an object straight from the server with boto3 (installed with moto), bypassing t8k.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let script = "try:\n    sys.stdout.buffer.write(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read())\n\
except botocore.exceptions.ClientError:\n    sys.exit(3)\n";
        let out = self.boto3(script, &[bucket, key]);
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
        let script = "import json, hashlib\n\
out = {}\n\
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[2], Prefix=sys.argv[3]):\n    for o in page.get('Contents', []):\n        out[o['Key']] = hashlib.sha256(s3.get_object(Bucket=sys.argv[2], Key=o['Key'])['Body'].read()).hexdigest()\n\
print(json.dumps(out))\n";
        let out = self.boto3(script, &[bucket, prefix]);
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
