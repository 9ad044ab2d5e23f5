#!/usr/bin/env bash
# Registry scale benchmark: how the cost of tenant operations follows the number of tenants an
# installation already has.
#
#   scripts/bench-registry.sh [SIZES...]          (default: 10 100 10000 100000)
#
# For each size N, a fresh data root holding N tenants written straight into the layout t8k
# keeps (an entry, a place and a host key each; env.json and a hard link to one real site.db,
# so the builder has real databases to open), then:
#   1. `t8k registry compact` (the view in tenants.json, from a listing of every entry);
#   2. one more `t8k tenant create`: the median of 3, wall time;
#   3. CONCURRENT (default 50) sign-ups at once through `t8k serve` (POST /api/register):
#      total wall time and how many were created;
#   4. `GET /api/auth/me` with a valid session (the host lookup and session check every
#      function does): wrk p50/p99 and req/s, 5 s, 16 connections;
#   5. the registry bytes a function cold start reads: tenants.json and the host's entry;
#   6. a full `t8k build` (records the pass), then a no-op `t8k build --changed` (the planner:
#      queue + two listings), and, up to RESCAN_MAX (10,000) tenants, `--changed --rescan`
#      (every tenant's database opened and fingerprinted: what --changed did before).
# Run it on /dev/shm (TMPDIR=/dev/shm): the disk here is noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100 10000 100000)
CONCURRENT=${CONCURRENT:-50}
RESCAN_MAX=${RESCAN_MAX:-10000}
. scripts/bench-lib.sh

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
PW='correct horse battery'

# synth ROOT N: N tenants t0000001... cloned from the tenant `template`.
synth() { python3 bench/synth-registry.py "$1" "$2"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; data roots under ${TMPDIR:-/tmp}"
printf '%-8s %-9s %-8s %-17s %-30s %-13s %-9s %-9s %s\n' tenants compact create \
  "$CONCURRENT sign-ups" "/api/auth/me p50/p99/req/s" "cold-start B" build no-op rescan
for n in "${SIZES[@]}"; do
  R="$WORK/root-$n"
  "$BIN/t8k" --root "$R" init --multi --domain example.com >/dev/null
  printf '%s\n' "$PW" | "$BIN/t8k" --root "$R" tenant create template --name T \
    --email a@t.test --admin-password-stdin >/dev/null
  synth "$R" "$n"
  t=$(now); "$BIN/t8k" --root "$R" registry compact >/dev/null; compact=$(since "$t")

  times=()
  for i in 1 2 3; do
    t=$(now)
    printf '%s\n' "$PW" | "$BIN/t8k" --root "$R" tenant create "one$i" --name One \
      --email a@one.test --admin-password-stdin >/dev/null
    times+=("$(since "$t")")
  done
  create=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)

  PORT=$(free_port)
  T8K_ROOT="$R" T8K_SIGNUPS_PER_IP_HOUR=100000 "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
  SERVE=$!; PIDS+=("$SERVE")
  wait_port "$PORT"
  t=$(now)
  for i in $(seq "$CONCURRENT"); do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Host: localhost' -H 'Content-Type: application/json' \
      -d "{\"subdomain\":\"signup$i\",\"name\":\"S\",\"email\":\"s$i@s.test\",\"password\":\"$PW\"}" \
      "http://127.0.0.1:$PORT/api/register" > "$WORK/signup-$n-$i" &
  done
  wait $(jobs -p | grep -v "^$SERVE$") 2>/dev/null || true
  signups=$(since "$t")
  won=$(cat "$WORK"/signup-"$n"-* | grep -c '^20[12]$' || true)

  COOKIE=$(curl -s -D - -o /dev/null -H 'Host: one1.localhost' -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "http://127.0.0.1:$PORT/api/auth/login" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
  [ -n "$COOKIE" ] || { echo "login at $n tenants failed" >&2; exit 1; }
  out=$(WRK_HOST=one1.localhost WRK_COOKIE="$COOKIE" wrk -t2 -c16 -d5s -s bench/wrk.lua \
    "http://127.0.0.1:$PORT/api/auth/me" | grep RESULT)
  kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
  me=$(printf '%s / %s ms / %s' "$(echo "$out" | field p50 | ms)" "$(echo "$out" | field p99 | ms)" \
    "$(echo "$out" | field rps | awk '{printf "%.0f", $1}')")
  cold=$(( $(stat -c %s "$R/config/t8k/tenants.json") + $(stat -c %s "$R/config/t8k/tenants/one1") ))

  t=$(now); "$BIN/t8k" --root "$R" build >/dev/null; full=$(since "$t")
  t=$(now); "$BIN/t8k" --root "$R" build --changed >/dev/null; noop=$(since "$t")
  rescan=-
  if [ "$n" -le "$RESCAN_MAX" ]; then
    t=$(now); "$BIN/t8k" --root "$R" build --changed --rescan >/dev/null; rescan=$(since "$t")
  fi
  printf '%-8s %-9s %-8s %-17s %-30s %-13s %-9s %-9s %s\n' "$n" "$compact" "$create" \
    "$signups ($won ok)" "$me" "$cold" "$full" "$noop" "$rescan"
  rm -rf "$R"
done
