"""A stand-in for the CloudFront KeyValueStore API (DescribeKeyValueStore, ListKeys,
UpdateKeys, as AWS documents them), in memory, on loopback: the service cannot run here and
moto does not emulate it. It does not check signatures. UpdateKeys is all-or-nothing under
If-Match, as AWS's is; with --conflict-once, the first UpdateKeys finds the store changed by
someone else (412), as a concurrent writer would make it. Every request is logged to LOG as a
JSON line (method, path, and the body of updates), so a test can see what was sent.

Usage: kvs_standin.py PORT LOG [--conflict-once]
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

port, log = int(sys.argv[1]), sys.argv[2]
state = {"version": 1, "items": {}, "conflict": "--conflict-once" in sys.argv}


def etag():
    return f"KV{state['version']:08d}"


class Api(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body, tag=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if tag:
            self.send_header("ETag", tag)
        self.end_headers()
        self.wfile.write(data)

    def note(self, body=None):
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": unquote(urlparse(self.path).path), "body": body}) + "\n")

    def do_GET(self):
        url = urlparse(self.path)
        path = unquote(url.path)
        self.note()
        if path.endswith("/keys"):
            q = parse_qs(url.query)
            keys = sorted(state["items"])
            start = int(q.get("NextToken", ["0"])[0])
            size = int(q.get("MaxResults", ["50"])[0])
            page = keys[start:start + size]
            body = {"Items": [{"Key": k, "Value": state["items"][k]} for k in page]}
            if start + size < len(keys):
                body["NextToken"] = str(start + size)
            return self.answer(200, body)
        arn = path.split("/key-value-stores/", 1)[1]
        self.answer(200, {"ItemCount": len(state["items"]), "TotalSizeInBytes": 0, "KvsARN": arn,
                          "Created": 0, "ETag": etag()}, etag())

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.note(body)
        if state["conflict"]:
            state["conflict"] = False
            state["version"] += 1
        if self.headers.get("If-Match") != etag():
            return self.answer(412, {"Message": "the store changed"})
        if len(body.get("Puts", [])) + len(body.get("Deletes", [])) > 50:
            return self.answer(400, {"Message": "too many keys in one update"})
        for p in body.get("Puts", []):
            state["items"][p["Key"]] = p["Value"]
        for d in body.get("Deletes", []):
            state["items"].pop(d["Key"], None)
        state["version"] += 1
        self.answer(200, {"ItemCount": len(state["items"]), "TotalSizeInBytes": 0, "ETag": etag()}, etag())


ThreadingHTTPServer(("127.0.0.1", port), Api).serve_forever()
