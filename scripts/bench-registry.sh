#!/usr/bin/env bash
# Registry scale benchmark: how the cost of tenant operations follows the number of tenants an
# installation already has (the figures the scalable-registry work is judged by).
#
#   scripts/bench-registry.sh [SIZES...]          (default: 100 10000 100000)
#
# For each size N, a fresh data root whose registry lists N tenants — synthetic entries, the
# registry rows only (no databases), written straight into the registry the way `t8k` writes
# it — then:
#   1. one more `t8k tenant create`: the median of 3, wall time;
#   2. CONCURRENT (default 50) `t8k tenant create` at once: total wall time and how many won;
#   3. `GET /api/auth/me` with a valid session through `t8k serve` (the host lookup and session
#      check every function does): wrk p50/p99 and req/s, 5 s, 16 connections;
#   4. the registry's size on disk: what every function cold start reads and parses.
# Run it on /dev/shm for steady figures (TMPDIR=/dev/shm): the disk here is noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 10000 100000)
CONCURRENT=${CONCURRENT:-50}
. scripts/bench-lib.sh

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }

# synth ROOT N: adds N synthetic tenant rows (t0000001, ...) to the registry, with room for
# the benchmark's own tenants.
synth() {
  python3 - "$1/config/t8k/tenants.json" "$2" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
reg = json.load(open(path))
domain = reg["domain"]
reg["max_tenants"] = n + 1000
reg["tenants"] += [{"id": f"t{i:07d}", "domain": f"t{i:07d}.{domain}", "custom_domains": [],
                    "created": "2026-11-29T00:00:00Z", "active": True, "status": "active"}
                   for i in range(1, n + 1)]
json.dump(reg, open(path, "w"), indent=2)
PY
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; data roots under ${TMPDIR:-/tmp}"
printf '%-9s %-12s %-22s %-34s %s\n' tenants "create (s)" "$CONCURRENT concurrent (s)" "/api/auth/me p50 / p99 / req/s" "registry"
for n in "${SIZES[@]}"; do
  R="$WORK/root-$n"
  "$BIN/t8k" --root "$R" init --multi --domain example.com >/dev/null
  synth "$R" "$n"
  times=()
  for i in 1 2 3; do
    t=$(now)
    printf 'correct horse battery\n' | "$BIN/t8k" --root "$R" tenant create "one$i" --name One \
      --email a@one.test --admin-password-stdin >/dev/null
    times+=("$(since "$t")")
  done
  create=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)

  t=$(now)
  racers=()
  for i in $(seq "$CONCURRENT"); do
    ( printf 'correct horse battery\n' | "$BIN/t8k" --root "$R" tenant create "many$i" --name Many \
        --email a@many.test --admin-password-stdin >/dev/null 2>&1 && echo ok ) > "$WORK/race-$n-$i" &
    racers+=($!)
  done
  wait "${racers[@]}" || true
  race=$(since "$t")
  won=$(cat "$WORK"/race-"$n"-* | grep -c ok || true)

  PORT=$(free_port)
  T8K_ROOT="$R" "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
  SERVE=$!; PIDS+=("$SERVE")
  wait_port "$PORT"
  COOKIE=$(curl -s -D - -o /dev/null -H 'Host: one1.localhost' -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"correct horse battery"}' "http://127.0.0.1:$PORT/api/auth/login" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
  [ -n "$COOKIE" ] || { echo "login at $n tenants failed" >&2; exit 1; }
  out=$(WRK_HOST=one1.localhost WRK_COOKIE="$COOKIE" wrk -t2 -c16 -d5s -s bench/wrk.lua \
    "http://127.0.0.1:$PORT/api/auth/me" | grep RESULT)
  kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
  me=$(printf '%s / %s ms / %s' "$(echo "$out" | field p50 | ms)" "$(echo "$out" | field p99 | ms)" \
    "$(echo "$out" | field rps | awk '{printf "%.0f", $1}')")
  size=$(du -h "$R/config/t8k/tenants.json" | cut -f1)
  printf '%-9s %-12s %-22s %-34s %s\n' "$n" "$create" "$race ($won won)" "$me" "$size"
  rm -rf "$R"
done
