#!/usr/bin/env bash
# The browser admin's figures, in one run:
#   1. the size of what it loads: every JavaScript module and the stylesheet, gzipped (-9),
#      against the budget (JS ≤ 40 KB, CSS ≤ 15 KB);
#   2. its first load in headless Chromium on loopback: DOMContentLoaded of the dashboard and
#      when its data has arrived, RUNS loads, beside two plain pages of the same server (the
#      server-rendered analytics page and the tenant's static home page) as the floor.
#
#   TMPDIR=/dev/shm scripts/bench-admin.sh [RUNS]   (default 30)
# Needs chromium and chromium-driver (apt, as scripts/test.sh installs) and node.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
for pkg in chromium chromium-driver; do
  dpkg -s $pkg >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && apt-get install -y -qq $pkg >/dev/null; }
done
. scripts/bench-lib.sh

echo "== size of the admin (gzip -9 each file, as a server compressing it would send)"
gz() { local n=0; for f in "$@"; do n=$((n + $(gzip -9c "$f" | wc -c))); done; echo $n; }
UI=functions/src/admin_ui
JS=$(gz $UI/*.js); CSS=$(gz $UI/*.css); HTML=$(gz $UI/*.html)
printf 'JavaScript: %d bytes gzipped (%d files, %d bytes raw); budget 40960: %s\n' "$JS" "$(ls $UI/*.js | wc -l)" "$(cat $UI/*.js | wc -c)" "$([ "$JS" -le 40960 ] && echo within || echo OVER)"
printf 'CSS:        %d bytes gzipped; budget 15360: %s\n' "$CSS" "$([ "$CSS" -le 15360 ] && echo within || echo OVER)"
printf 'HTML:       %d bytes gzipped (tenant and installation pages)\n' "$HTML"

R="$WORK/root"
t8k() { "$BIN/t8k" --root "$R" "$@"; }
t8k init --multi --domain example.com >/dev/null
printf 'correct horse battery\n' >"$WORK/pw"
t8k tenant create acme --name Acme --email a@acme.test --admin-password-file "$WORK/pw" >/dev/null
t8k build >/dev/null && t8k publish >/dev/null
PORT=$(free_port)
T8K_ROOT="$R" "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
DPORT=$(free_port)
chromedriver --port="$DPORT" >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$PORT"; wait_port "$DPORT"

echo "== first load in headless $(chromium --version 2>/dev/null | head -1) on loopback, $RUNS loads each"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; t8k serve (release) on a local data root in ${TMPDIR:-/tmp}"
node bench/admin-load.mjs "$DPORT" "$PORT" "$RUNS" admin 'correct horse battery'
