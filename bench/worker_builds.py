#!/usr/bin/env python3
"""Incremental builds inside a running `t8k worker`: the worker keeps each site's last build
(its manifest, its page rows), so an edit costs about what it changed. Edits one page's body
N times (a `t8k content import` of one file, which queues the tenant), waits for the worker to
serve each, and reads the build's own time from the worker's --json line.

usage: worker_builds.py T8K ROOT TENANT PAGES N

Prints one line: `median=... min=... max=... n=... written/kept=W/K` (seconds; the worker's
first build, which reads everything from disk, is left out).
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    t8k, root, tenant, pages, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    worker = subprocess.Popen(
        [t8k, "--root", root, "--json", "worker", "--jobs", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    secs, last = [], None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(n + 1):
                edit = os.path.join(tmp, str(i))
                os.makedirs(edit)
                k = (i * 389 + 5) % pages
                with open(os.path.join(edit, f"page-{k:06d}.md"), "w") as f:
                    # Text no earlier run wrote: an unchanged page queues no build.
                    f.write(f'+++\ntitle = "Page {k}"\n+++\n\nEdited in the worker, edit {i}, '
                            f'at {time.time_ns()}.\n')
                subprocess.run([t8k, "--root", root, "content", "import", tenant, edit],
                               check=True, stdout=subprocess.DEVNULL)
                served = json.loads(worker.stdout.readline())
                build = served["build"]
                if build.get("error"):
                    sys.exit(f"build failed: {build['error']}")
                if i > 0:
                    secs.append(build["seconds"])
                    last = build
    finally:
        worker.terminate()
        worker.wait()
    secs.sort()
    print(f"median={secs[len(secs) // 2]:.4f} min={secs[0]:.4f} max={secs[-1]:.4f} n={len(secs)} "
          f"written/kept={last['written']}/{last['kept']}")


if __name__ == "__main__":
    main()
