#!/usr/bin/env python3
"""Writes N synthetic analytics events for TENANT into a local data root, as t8k serve would:
JSONL objects of 1,000 events under events/{tenant}/{day}/ (for the rollup benchmark).

    bench/events.py ROOT TENANT N
"""
import json, os, random, sys, time

root, tenant, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
day = time.strftime("%Y-%m-%d", time.gmtime())
folder = os.path.join(root, "events", tenant, day)
os.makedirs(folder, exist_ok=True)
rng = random.Random(7)
paths = [f"/post-{i}/" for i in range(200)] + ["/"]
verbs = ["PAGEVIEWED"] * 6 + ["GLOSSED"] * 3 + ["READ", "CLICKED"]
refs = [None, None, "search.example/", "news.example/item", "social.example/"]
now_ms = int(time.time() * 1000)
per_object = 1000
for o in range((n + per_object - 1) // per_object):
    lines = []
    for i in range(min(per_object, n - o * per_object)):
        e = {"ts": now_ms - rng.randrange(20 * 3600 * 1000), "event": rng.choice(verbs),
             "path": rng.choice(paths), "visitor": "%016x" % rng.randrange(50_000)}
        r = rng.choice(refs)
        if r:
            e["referrer"] = r
        lines.append(json.dumps(e, separators=(",", ":")))
    with open(os.path.join(folder, f"20261128T000000Z-{o:08d}.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
