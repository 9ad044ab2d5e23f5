#!/usr/bin/env bash
# Bandwidth from the edge: how fast `t8k usage ingest` reads an nginx access log, against a
# plain awk that sums the same bytes per host (no attribution, no ledger, no stats written).
#
#   TMPDIR=/dev/shm scripts/bench-ingest.sh [LINES] [TENANTS]   (defaults 2000000 100)
#
# The log is the JSON lines `t8k edge nginx` writes, for TENANTS tenants' hosts plus some
# unknown ones. Figures: wall time, lines per second and peak memory (RSS) of each; then a
# second `t8k usage ingest` with nothing new (the ledger's cost).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-2000000}
TENANTS=${2:-100}
source scripts/bench-lib.sh
T8K="$BIN/t8k"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); awk: $(readlink -f "$(command -v awk)"); work in ${TMPDIR:-/tmp}"

R="$WORK/root"
$T8K --root "$R" init --multi --domain bench.example.com --max-tenants "$TENANTS" >/dev/null
seq -f "t%04g" 1 "$TENANTS" | xargs -P "$(nproc)" -I{} \
  "$T8K" --root "$R" tenant create {} --name "Site {}" --email a@{}.bench.example.com --no-admin-password >/dev/null
LOG="$WORK/access.log"
python3 - "$LOG" "$LINES" "$TENANTS" <<'PY'
import random, sys
path, n, tenants = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
with open(path, "w") as f:
    for i in range(n):
        t = rng.randrange(tenants + 5)
        host = f"t{t + 1:04d}.bench.example.com" if t < tenants else f"unknown{t}.test"
        f.write('{"time":"2026-11-%02dT%02d:%02d:00+00:00","host":"%s","status":200,"bytes":%d,"uri":"/p/%d/"}\n'
                % (i * 28 // n + 1, i % 24, i % 60, host, rng.randrange(200, 60000), i % 500))
PY
echo "log: $LINES lines, $(du -h "$LOG" | cut -f1)"

run() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
read -r ts tm < <(run "$T8K" --root "$R" --json usage ingest --format nginx "$LOG")
read -r as am < <(run awk -F'"' '{ b[$8] += substr($13, 2, index($13, ",") - 2) } END { for (h in b) print h, b[h] }' "$LOG")
read -r rs _ < <(run "$T8K" --root "$R" --json usage ingest --format nginx "$LOG")
lps() { awk -v n="$LINES" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
echo "t8k usage ingest: $ts s ($(lps "$ts") lines/s), peak RSS $((tm / 1024)) MB"
echo "awk sum per host (peer, no attribution or state): $as s ($(lps "$as") lines/s), peak RSS $((am / 1024)) MB"
echo "t8k usage ingest again, nothing new: $rs s"
# The counts agree with awk's: every tenant's bytes for the month.
"$T8K" --root "$R" --json report | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("bytes attributed (t8k report, all tenants):", sum(t.get("bandwidth_month") or 0 for t in r["tenants"]))'
awk -F'"' '$8 ~ /\.bench\.example\.com$/ { s += substr($13, 2, index($13, ",") - 2) } END { printf "bytes for tenant hosts (awk): %.0f\n", s }' "$LOG"
