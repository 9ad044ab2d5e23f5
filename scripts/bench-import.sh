#!/usr/bin/env bash
# Import + build of a nested Hugo site of N Markdown files (default 1,000): 10 sections of 10
# subsections of N/100 pages, each page linking three others with `ref` and one with a plain
# relative link, tags on every page. Prints the import and build times, the same site built
# by `hugo` (the peer, with minimal layouts), and the share of internal links that resolve in
# t8k's bundle. Run it on /dev/shm (the disk here is noisy):
#   TMPDIR=/dev/shm scripts/bench-import.sh [N]
set -euo pipefail
N=${1:-1000}
cd "$(dirname "$0")/.."
BIN=${T8K_BIN:-target/release/t8k}
[ -x "$BIN" ] || cargo build --release -q
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SITE=$WORK/site
python3 - "$SITE" "$N" <<'EOF'
import os, sys
site, n = sys.argv[1], int(sys.argv[2])
per = max(1, n // 100)
def w(rel, text):
    p = os.path.join(site, rel); os.makedirs(os.path.dirname(p), exist_ok=True); open(p, "w").write(text)
w("hugo.toml", 'baseURL = "https://example.org/"\ntitle = "Bench"\ndisableKinds = ["RSS", "sitemap", "robotsTXT"]\n')
for layout, body in [("_default/single.html", "{{ .Content }}"), ("_default/list.html", "{{ .Content }}{{ range .Pages }}<a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}"), ("index.html", "{{ .Content }}")]:
    w("layouts/" + layout, body)
w("content/_index.md", "+++\ntitle = \"Home\"\n+++\nWelcome.\n")
pages = [(s, t, p) for s in range(10) for t in range(10) for p in range(per)]
for s in range(10):
    w(f"content/section-{s}/_index.md", f"+++\ntitle = \"Section {s}\"\n+++\n")
    for t in range(10):
        w(f"content/section-{s}/topic_{t}/_index.md", f"+++\ntitle = \"Topic {s}.{t}\"\n+++\n")
for i, (s, t, p) in enumerate(pages):
    links = [pages[(i * 7 + k * 13) % len(pages)] for k in range(1, 4)]
    refs = " ".join(f"[see]({{{{< ref \"section-{a}/topic_{b}/page-{c}.md\" >}}}})" for a, b, c in links)
    w(f"content/section-{s}/topic_{t}/page-{p}.md",
      f"+++\ntitle = \"Page {s}.{t}.{p}\"\ndate = 2024-01-{1 + p % 28:02}\ntags = [\"tag-{p % 20}\"]\n+++\n"
      f"## Intro\n\nSome *text* for page {p}. {refs}\n\nA sibling: [next](../page-{(p + 1) % per}/).\n\n" + "Lorem ipsum dolor sit amet. " * 20 + "\n")
EOF
FILES=$(find "$SITE/content" -name '*.md' | wc -l)
ROOT=$WORK/root
T8K="$BIN --root $ROOT"
$T8K init --multi --domain bench.example.com >/dev/null
$T8K tenant create bench --name Bench --email b@bench.example.com --no-admin-password >/dev/null
$T8K tenant set-quota bench --pages 100000 --storage 10GB >/dev/null
now() { date +%s.%N; }
t0=$(now); $T8K --json content import bench "$SITE" > "$WORK/import.json"; t1=$(now)
$T8K build bench >/dev/null; t2=$(now)
hugo --quiet --source "$SITE" --destination "$WORK/hugo-out" >/dev/null; t3=$(now)
python3 - "$ROOT/build/bench" "$WORK/import.json" "$FILES" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import json, os, re, sys
bundle, report, files = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
t0, t1, t2, t3 = map(float, sys.argv[4:8])
total = ok = 0
for d, _, names in os.walk(bundle):
    for name in names:
        if not name.endswith(".html"): continue
        html = open(os.path.join(d, name), encoding="utf-8").read()
        rel = "/" + os.path.relpath(d, bundle).replace(".", "") + "/"
        for url in re.findall(r'(?:href|src)="([^"#?]*)', html):
            if not url or url.startswith(("http:", "https:", "mailto:", "//")): continue
            path = os.path.normpath(os.path.join(rel, url)) + ("/" if url.endswith("/") else "")
            target = os.path.join(bundle, path.lstrip("/"), "index.html") if path.endswith("/") else os.path.join(bundle, path.lstrip("/"))
            total += 1; ok += os.path.isfile(target)
print(f"{files} Markdown files, {report['files']} pages, {report['warnings']} warnings, {report['skipped']} skipped")
print(f"t8k import  {t1 - t0:6.2f} s")
print(f"t8k build   {t2 - t1:6.2f} s   (import + build {t2 - t0:.2f} s)")
print(f"hugo build  {t3 - t2:6.2f} s   (peer, same content, minimal layouts)")
print(f"internal links resolving in t8k's bundle: {ok}/{total} ({100 * ok / max(total, 1):.1f}%)")
EOF
