#!/usr/bin/env python3
"""Cold start of a t8k function binary under the Lambda runtime API: the time from exec to the
function's first response, measured RUNS times, and the process's peak resident memory. The runtime API (AWS's; it cannot run here) is
implemented below on loopback: `invocation/next` hands out one queued event, `/response`
records the moment the answer arrives.

    bench/lambda-cold-start.py BINARY T8K_ROOT HOST PATH [RUNS]

A request other than a bare GET (the work a function is sized for: a login, a sign-up, an
upload) comes from the environment: BENCH_METHOD, BENCH_BODY (a file), BENCH_TYPE (its
content type), BENCH_COOKIE. BENCH_WARM=N also times N more invocations of the same event in
the same process (a warm function: what Lambda bills per request), reported as warm_median;
the peak then covers them all.
"""
import json, os, socket, statistics, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

binary, root, host, path = sys.argv[1:5]
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 30
method = os.environ.get("BENCH_METHOD", "GET")
warm = int(os.environ.get("BENCH_WARM", "0"))
headers = {"host": host, "origin": f"https://{host}", "user-agent": "Mozilla/5.0 bench"}
body, encoded = None, False
if os.environ.get("BENCH_BODY"):
    raw = open(os.environ["BENCH_BODY"], "rb").read()
    headers["content-type"] = os.environ.get("BENCH_TYPE", "application/json")
    headers["content-length"] = str(len(raw))
    try:
        body = raw.decode()
    except UnicodeDecodeError:
        import base64
        body, encoded = base64.b64encode(raw).decode(), True
event = json.dumps({
    "version": "2.0", "routeKey": "$default", "rawPath": path.split("?")[0],
    "rawQueryString": path.partition("?")[2], "headers": headers,
    "cookies": [os.environ["BENCH_COOKIE"]] if os.environ.get("BENCH_COOKIE") else [],
    "requestContext": {"accountId": "0", "apiId": "b", "domainName": host, "domainPrefix": "b",
        "http": {"method": method, "path": path.split("?")[0], "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.1", "userAgent": "bench"},
        "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "x", "timeEpoch": 0},
    "body": body, "isBase64Encoded": encoded}).encode()

# served: events handed out this run; answered: responses in; times: when each came back.
state = {"served": 0, "done": threading.Event(), "status": None}

class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def setup(self):
        super().setup()
        # Headers and body go out as separate writes: without NODELAY, Nagle holds the body
        # for the client's delayed ACK (40 ms), which would be counted as the function's time.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        if state["served"] > warm:   # past the last event: park until this run ends
            state["done"].wait(2); self.send_response(410); self.send_header("Content-Length", "0"); self.end_headers(); return
        state["served"] += 1
        state["sent"] = time.perf_counter()
        self.send_response(200)
        for k, v in [("Lambda-Runtime-Aws-Request-Id", f"req-{state['served']}"), ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                     ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:0:function:b"),
                     ("Lambda-Runtime-Trace-Id", "Root=1-0-0"), ("Content-Type", "application/json"),
                     ("Content-Length", str(len(event)))]:
            self.send_header(k, v)
        self.end_headers(); self.wfile.write(event)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.perf_counter()
        if state["served"] == 1:
            state["t"] = now
        else:
            state["warm"].append((now - state["sent"]) * 1000)
        try: state["status"] = json.loads(body).get("statusCode")
        except Exception: state["status"] = self.path
        self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
        if state["served"] > warm:
            state["done"].set()

class Server(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # a killed function's half-open connection is expected, not news

def one_run():
    """One cold start on a fresh runtime API (a fresh port, so a killed process's late
    `next` call can never take the event meant for the next process)."""
    srv = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.server_address[1]}", AWS_LAMBDA_FUNCTION_NAME="b",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="$LATEST", T8K_ROOT=root)
    state.update(served=0, done=threading.Event(), status=None, warm=[])
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = state["done"].wait(10 + warm)
    p.kill()
    # The child's own rusage: its peak resident set (KiB on Linux) through the first request.
    _, _, usage = os.wait4(p.pid, 0)
    p.returncode = -9
    srv.shutdown(); srv.server_close()
    if not ok:
        sys.exit(f"{binary}: no response within {10 + warm} s")
    return (state["t"] - t0) * 1000, state["status"], usage.ru_maxrss, state["warm"]

times, statuses, peaks, warms = [], set(), [], []
for _ in range(runs):
    t, status, peak, w = one_run()
    times.append(t); statuses.add(status); peaks.append(peak); warms.extend(w)
times.sort()
warm_median = f" warm_median={statistics.median(warms):.2f}" if warms else ""
print(f"RESULT runs={runs} min={times[0]:.1f} median={statistics.median(times):.1f} "
      f"p90={times[int(len(times) * 0.9) - 1]:.1f} peak_kib={max(peaks)}{warm_median} "
      f"status={','.join(map(str, sorted(statuses, key=str)))}")
