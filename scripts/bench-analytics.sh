#!/usr/bin/env bash
# Analytics benchmark, on loopback, in one run:
#   1. POST /api/beacon through `t8k serve` (wrk, SECONDS long) next to a minimal hyper server
#      answering 202; then every accepted event is rolled up and counted (zero loss = the
#      rollup counts at least every 202 wrk saw; a few more may be in flight at the cut-off);
#   2. `t8k analytics rollup` of EVENTS synthetic events (bench/events.py).
#
#   scripts/bench-analytics.sh [SECONDS] [EVENTS] [CONNECTIONS]     (defaults 30 10000000 64)
# The per-tenant beacon limit is raised for the run (T8K_BEACON_PER_SECOND); installs wrk (apt)
# when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
EVENTS=${2:-10000000}
CONC=${3:-64}
. scripts/bench-lib.sh

R="$WORK/root"
"$BIN/t8k" --root "$R" init --multi --domain example.com >/dev/null
"$BIN/t8k" --root "$R" tenant create acme --name Acme --email a@acme.test --no-admin-password >/dev/null
PORT=$(free_port); HPORT=$(free_port)
T8K_ROOT="$R" T8K_BEACON_PER_SECOND=10000000 "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
SERVE=$!; PIDS+=("$SERVE")
"$BIN/examples/hello" "$HPORT" 202 >/dev/null & PIDS+=($!)
wait_port "$PORT"; wait_port "$HPORT"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; wrk -t2 -c$CONC -d${SECS}s on 127.0.0.1"
export WRK_HOST=acme.localhost WRK_UA="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
export WRK_BODY='{"event":"PAGEVIEWED","url":"https://acme.example.com/hello/","referrer":"https://search.example/"}'
b=$(wrk -t2 -c"$CONC" -d"${SECS}s" -s bench/wrk.lua "http://127.0.0.1:$PORT/api/beacon" | grep RESULT)
h=$(wrk -t2 -c"$CONC" -d"${SECS}s" -s bench/wrk.lua "http://127.0.0.1:$HPORT/" | grep RESULT)
kill -TERM "$SERVE"; wait "$SERVE" || true
for row in "t8k /api/beacon|$b" "hyper 202|$h"; do
  name=${row%%|*}; r=${row#*|}
  printf '%-16s %10s req/s  p50 %6s ms  p99 %6s ms  errors %s  non-2xx %s\n' "$name" "$(echo "$r" | field rps)" \
    "$(echo "$r" | field p50 | ms)" "$(echo "$r" | field p99 | ms)" "$(echo "$r" | field errors)" "$(echo "$r" | field non2xx)"
done
accepted=$(( $(echo "$b" | field requests) - $(echo "$b" | field non2xx) ))
rolled=$("$BIN/t8k" --root "$R" --json analytics rollup acme | python3 -c 'import sys,json; print(json.load(sys.stdin)["tenants"][0]["events"])')
echo "accepted (202 seen by wrk): $accepted; rolled up: $rolled; lost: $(( accepted > rolled ? accepted - rolled : 0 ))"

echo
echo "== rollup of $EVENTS events"
python3 bench/events.py "$R" acme "$EVENTS"
start=$(date +%s.%N)
out=$("$BIN/t8k" --root "$R" --json analytics rollup acme)
end=$(date +%s.%N)
echo "$out" | python3 -c 'import sys,json; t=json.load(sys.stdin)["tenants"][0]; print("merged", t["events"], "events from", t["objects"], "objects")'
awk -v a="$start" -v b="$end" -v n="$EVENTS" 'BEGIN{printf "rollup: %.1f s, %.0f events/s\n", b-a, n/(b-a)}'
