#!/usr/bin/env python3
"""Edit -> live latency: makes N edits of one page and times each from the edit being accepted
to the new bytes being served.

usage:
  live.py t8k  PORT HOST PASSWORD SLUG N   # PUT /api/pages/SLUG through `t8k serve`'s functions,
                                           # then poll the page on the same server
  live.py hugo PORT FILE URLPATH N         # rewrite FILE (a Hugo content file), then poll
                                           # `hugo server`

Prints one line: `p50=... p95=... max=... n=...` (milliseconds).
"""
import http.client
import json
import os
import sys
import time


def request(port, method, path, host, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Host": host}
    h.update(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Set-Cookie") or "", data


def wait_for(port, host, path, marker, deadline=30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < deadline:
        status, _, data = request(port, "GET", path, host)
        if status == 200 and marker in data:
            return time.perf_counter()
        time.sleep(0.005)
    sys.exit(f"{marker!r} never appeared at {path} within {deadline} s")


def t8k(port, host, password, slug, n):
    status, cookie, data = request(
        port, "POST", "/api/auth/login", host,
        json.dumps({"username": "admin", "password": password}),
    )
    if status != 200:
        sys.exit(f"login failed: {status} {data[:200]}")
    cookie = cookie.split(";")[0]
    out = []
    for i in range(n):
        marker = f"edit-marker-{i}-{time.time_ns()}"
        page = {"slug": slug, "title": f"Page {slug}",
                "panes": [{"markdown": f"Edited body.\n\n{marker}\n", "options": {}}]}
        status, _, data = request(port, "PUT", f"/api/pages/{slug}", host, json.dumps(page),
                                  {"Cookie": cookie, "Origin": f"http://{host}"})
        accepted = time.perf_counter()
        if status != 200:
            sys.exit(f"PUT failed: {status} {data[:200]}")
        out.append(wait_for(port, host, f"/{slug}/", marker.encode()) - accepted)
    return out


def hugo(port, path, urlpath, n):
    out = []
    for i in range(n):
        marker = f"edit-marker-{i}-{time.time_ns()}"
        with open(path + ".tmp", "w") as f:
            f.write(f'+++\ntitle = "Edited"\n+++\n\nEdited body.\n\n{marker}\n')
        os.replace(path + ".tmp", path)
        accepted = time.perf_counter()
        out.append(wait_for(port, "localhost", urlpath, marker.encode()) - accepted)
    return out


def main():
    mode = sys.argv[1]
    if mode == "t8k":
        port, host, password, slug, n = sys.argv[2:7]
        times = t8k(int(port), host, password, slug, int(n))
    else:
        port, path, urlpath, n = sys.argv[2:6]
        times = hugo(int(port), path, urlpath, int(n))
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000
    print(f"p50={pick(0.5):.0f} p95={pick(0.95):.0f} max={times[-1] * 1000:.0f} n={len(times)}")


if __name__ == "__main__":
    main()
