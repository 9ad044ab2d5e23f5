#!/usr/bin/env bash
# Functions benchmark, on loopback, in one run:
#   1. login (Argon2id, OWASP parameters: 19 MiB, t=2, p=1) through `t8k serve`: req/s, p50/p99,
#      and the server's peak memory, at CONC connections (hashes are bounded to one per core);
#   2. GET /api/quota with a valid session, against a minimal hyper "hello" server;
#   3. cold start of the Lambda binaries (exec to first response under a runtime API).
#
#   scripts/bench-functions.sh [SECONDS] [CONC]        (defaults 10 64)
# Installs wrk (apt) when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONC=${2:-64}
. scripts/bench-lib.sh

R="$WORK/root"
"$BIN/t8k" --root "$R" init --multi --domain example.com >/dev/null
printf 'correct horse battery\n' | "$BIN/t8k" --root "$R" tenant create acme --name Acme --email a@acme.test --admin-password-stdin >/dev/null

PORT=$(free_port)
T8K_ROOT="$R" "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
SERVE=$!; PIDS+=("$SERVE")
HPORT=$(free_port)
"$BIN/examples/hello" "$HPORT" >/dev/null &
PIDS+=($!)
wait_port "$PORT"; wait_port "$HPORT"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; wrk -t2 -c$CONC -d${SECS}s on 127.0.0.1"
echo
echo "== login (POST /api/auth/login, valid password; Argon2id 19 MiB, t=2)"
( while kill -0 "$SERVE" 2>/dev/null; do awk '/VmRSS/{print $2}' /proc/"$SERVE"/status; sleep 0.2; done ) > "$WORK/rss" &
SAMPLER=$!
for c in "$(nproc)" "$CONC"; do
  out=$(WRK_HOST=acme.localhost WRK_BODY='{"username":"admin","password":"correct horse battery"}' \
    wrk -t2 -c"$c" -d"${SECS}s" --timeout 30s -s bench/wrk.lua "http://127.0.0.1:$PORT/api/auth/login" | grep RESULT)
  printf 'login, %3s connections: %s req/s, p50 %.1f ms, p99 %.1f ms, errors %s, non-2xx %s\n' "$c" \
    "$(echo "$out" | field rps)" "$(echo "$out" | field p50 | awk '{print $1/1000}')" \
    "$(echo "$out" | field p99 | awk '{print $1/1000}')" "$(echo "$out" | field errors)" "$(echo "$out" | field non2xx)"
  sleep 3
done
kill $SAMPLER 2>/dev/null || true
echo "server peak RSS during the login runs: $(( $(sort -n "$WORK/rss" | tail -1) / 1024 )) MiB (hashes are bounded to one per core)"

COOKIE=$(curl -s -D - -o /dev/null -H 'Host: acme.localhost' -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"correct horse battery"}' "http://127.0.0.1:$PORT/api/auth/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$COOKIE" ] || { echo "login for the quota run failed" >&2; exit 1; }
curl -sf -H 'Host: acme.localhost' -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/api/quota" >/dev/null

echo
echo "== GET /api/quota (valid session) vs a minimal hyper server, three alternating pairs"
# The two servers share the cores with wrk and with whatever else the host runs, so one pair
# can be skewed by a burst of noise: the pairs alternate, and the middle ratio is reported.
ratios=()
for pair in 1 2 3; do
  q=$(WRK_HOST=acme.localhost WRK_COOKIE="$COOKIE" wrk -t2 -c"$CONC" -d"${SECS}s" -s bench/wrk.lua "http://127.0.0.1:$PORT/api/quota" | grep RESULT)
  h=$(wrk -t2 -c"$CONC" -d"${SECS}s" -s bench/wrk.lua "http://127.0.0.1:$HPORT/" | grep RESULT)
  for row in "t8k /api/quota|$q" "hyper hello|$h"; do
    name=${row%%|*}; r=${row#*|}
    printf 'pair %s  %-16s %10s req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s  non-2xx %s\n' "$pair" "$name" \
      "$(echo "$r" | field rps)" "$(echo "$r" | field p50 | awk '{print $1/1000}')" \
      "$(echo "$r" | field p99 | awk '{print $1/1000}')" "$(echo "$r" | field errors)" "$(echo "$r" | field non2xx)"
  done
  ratios+=("$(awk -v a="$(echo "$q" | field rps)" -v b="$(echo "$h" | field rps)" 'BEGIN{printf "%.1f", 100*a/b}')")
done
printf 'quota / hello per pair: %s%%; median %s%%\n' "$(IFS=/; echo "${ratios[*]}" | sed 's|/|%, |g')" \
  "$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 2p)"

echo
echo "== Lambda cold start (exec → first response, 30 runs each; peak RSS through that request)"
# Every HTTP function, each with a real request against the data root (signed out where the
# function needs a session: the answer after host and tenant are resolved).
for fn in "t8k-register example.com /api/register/check?name=fresh" "t8k-auth acme.example.com /api/auth/me" \
  "t8k-quota acme.example.com /api/quota" "t8k-content acme.example.com /api/pages" \
  "t8k-users acme.example.com /api/users" "t8k-admin example.com /api/admin/me" \
  "t8k-beacon acme.example.com /api/beacon"; do
  set -- $fn
  r=$(python3 bench/lambda-cold-start.py "$BIN/$1" "$R" "$2" "$3" 30 | grep RESULT)
  strip -o "$WORK/stripped" "$BIN/$1"
  printf '%-12s %5.1f MB (stripped %4.1f MB)  min %s ms, median %s ms, p90 %s ms, peak %s MiB (status %s)\n' "$1" \
    "$(stat -c %s "$BIN/$1" | awk '{print $1/1e6}')" "$(stat -c %s "$WORK/stripped" | awk '{print $1/1e6}')" \
    "$(echo "$r" | field min)" "$(echo "$r" | field median)" \
    "$(echo "$r" | field p90)" "$(echo "$r" | field peak_kib | awk '{printf "%.1f", $1/1024}')" "$(echo "$r" | field status)"
done

echo
echo "== The work each function is sized for: memory configured (deploy/aws/template.json) vs peak measured"
# One cold process per run answering the request, then 20 warm invocations of it (what Lambda
# bills per request); the peak covers them all.
python3 - "$WORK/photo.png" <<'PY'
import struct, sys, zlib
w, h = 3000, 2000   # a 6-megapixel photo's size, as a phone uploads it
rows = b"".join(b"\0" + bytes((x * 7 + y) % 256 for x in range(w * 3)) for y in range(0, h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
printf '{"username":"admin","password":"correct horse battery"}' > "$WORK/login.json"
printf '{"event":"PAGEVIEWED","url":"https://acme.example.com/","referrer":""}' > "$WORK/beacon.json"
configured() { python3 -c "import json,sys; t=json.load(open('deploy/aws/template.json')); print(next(r['Properties']['MemorySize'] for r in t['Resources'].values() if r['Type']=='AWS::Lambda::Function' and r['Properties']['FunctionName']['Fn::Sub'].endswith('-$1')))"; }
declare -A WARM
for row in "t8k-auth|auth|POST /api/auth/login|$WORK/login.json|application/json|" \
  "t8k-beacon|beacon|POST /api/beacon|$WORK/beacon.json|text/plain;charset=UTF-8|" \
  "t8k-content|content|POST /api/media?alt=Photo|$WORK/photo.png|image/png|$COOKIE" \
  "t8k-quota|quota|GET /api/quota|||$COOKIE"; do
  IFS='|' read -r bin name req body type cookie <<<"$row"
  set -- $req
  r=$(BENCH_METHOD=$1 BENCH_BODY=$body BENCH_TYPE=$type BENCH_COOKIE=$cookie BENCH_WARM=20 \
    python3 bench/lambda-cold-start.py "$BIN/$bin" "$R" acme.example.com "$2" 10 | grep RESULT)
  WARM[$name]=$(echo "$r" | field warm_median)
  printf '%-12s %-28s configured %5s MB  peak %6.1f MiB  cold %s ms  warm median %s ms  (status %s)\n' "$bin" "$req" \
    "$(configured "$name")" "$(echo "$r" | field peak_kib | awk '{print $1/1024}')" "$(echo "$r" | field ' median')" \
    "${WARM[$name]}" "$(echo "$r" | field status)"
done

echo
echo "== A month on AWS: 1,000 tenants x 10,000 page views (bench/aws-cost.py)"
start=$(date +%s%N); "$BIN/t8k" --root "$R" build acme >/dev/null; build_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N); "$BIN/t8k" --root "$R" analytics rollup >/dev/null; rollup_ms=$(( ($(date +%s%N) - start) / 1000000 ))
# A page's HTML and the theme's assets it links (shared by every site), as CloudFront
# sends them (gzip).
read -r page_bytes asset_bytes asset_count < <(python3 - "$R/build" <<'PY'
import gzip, pathlib, re, sys
build = pathlib.Path(sys.argv[1])
pages = [p.read_bytes() for p in (build / "acme").rglob("index.html")]
linked = sorted({m for p in pages for m in re.findall(rb"/_t8k/assets/([\w.-]+)", p)})
assets = [gzip.compress((build / "_shared/assets" / a.decode()).read_bytes()) for a in linked]
print(sum(len(gzip.compress(p)) for p in pages) // max(1, len(pages)), sum(map(len, assets)), len(assets))
PY
)
python3 bench/aws-cost.py --beacon-ms "${WARM[beacon]}" --login-ms "${WARM[auth]}" --api-ms "${WARM[quota]}" --build-ms "$build_ms" \
  --rollup-ms "$rollup_ms" --page-bytes "$page_bytes" --asset-bytes "$asset_bytes" --asset-count "$asset_count"
