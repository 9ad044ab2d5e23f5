#!/usr/bin/env bash
# Edge benchmark, on loopback, in one run:
#   1. GET /api/edge/ask (Caddy's on-demand TLS question) through `t8k serve`, against a
#      minimal hyper "hello" server: three alternating pairs, req/s and p99;
#   2. nginx serving a tenant's page through the generated `t8k edge nginx` configuration,
#      against the same nginx serving the same file from a plain `root`: three alternating
#      pairs (the host map must cost nothing measurable);
#   3. `t8k domain check` of DOMAINS pending domains against a local dnsmasq, one at a time
#      and with --concurrency 16.
#
#   TMPDIR=/dev/shm scripts/bench-edge.sh [SECONDS] [CONC] [DOMAINS]   (defaults 10 64 1000)
# Installs wrk, nginx and dnsmasq (apt) when missing and run as root. The data root and the
# bundles are under TMPDIR (use /dev/shm: the disk here is noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONC=${2:-64}
DOMAINS=${3:-1000}
export PATH="$PATH:/usr/sbin"
for tool in nginx dnsmasq; do
  command -v $tool >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq $tool >/dev/null; }
done
. scripts/bench-lib.sh

R="$WORK/root"
t8k() { "$BIN/t8k" --root "$R" "$@"; }
t8k init --multi --domain example.com --max-tenants 1000 >/dev/null
printf 'correct horse battery\n' >"$WORK/pw"
t8k tenant create acme --name Acme --email a@acme.test --admin-password-file "$WORK/pw" >/dev/null
t8k build >/dev/null && t8k publish >/dev/null
chmod 755 "$WORK"

PORT=$(free_port)
T8K_ROOT="$R" "$BIN/t8k" serve --port "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
HPORT=$(free_port)
"$BIN/examples/hello" "$HPORT" >/dev/null &
PIDS+=($!)
wait_port "$PORT"; wait_port "$HPORT"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; wrk -t2 -c$CONC -d${SECS}s on 127.0.0.1; scratch in ${TMPDIR:-/tmp}"

# Runs wrk on A and B in PAIRS alternating pairs (default 3) and prints each row and the
# median ratio. WRK overrides the wrk command (e.g. pinned to a core).
# pairs NAME_A URL_A HOST_A NAME_B URL_B HOST_B
pairs() {
  local ratios=() a b n=${PAIRS:-3} wrk_cmd=${WRK:-wrk -t2 -c$CONC}
  for pair in $(seq "$n"); do
    a=$(WRK_HOST="$3" $wrk_cmd -d"${SECS}s" -s bench/wrk.lua "$2" | grep RESULT)
    b=$(WRK_HOST="$6" $wrk_cmd -d"${SECS}s" -s bench/wrk.lua "$5" | grep RESULT)
    for row in "$1|$a" "$4|$b"; do
      r=${row#*|}
      printf 'pair %s  %-22s %10s req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s  non-2xx %s\n' "$pair" "${row%%|*}" \
        "$(echo "$r" | field rps)" "$(echo "$r" | field p50 | ms)" "$(echo "$r" | field p99 | ms)" \
        "$(echo "$r" | field errors)" "$(echo "$r" | field non2xx)"
    done
    ratios+=("$(awk -v a="$(echo "$a" | field rps)" -v b="$(echo "$b" | field rps)" 'BEGIN{printf "%.1f", 100*a/b}')")
  done
  printf '%s / %s per pair: %s%%; median %s%%\n' "$1" "$4" "$(IFS=/; echo "${ratios[*]}" | sed 's|/|%, |g')" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")"
}

echo
echo "== GET /api/edge/ask?domain=acme.example.com vs a minimal hyper server"
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/edge/ask?domain=acme.example.com"
pairs "t8k /api/edge/ask" "http://127.0.0.1:$PORT/api/edge/ask?domain=acme.example.com" 127.0.0.1 \
  "hyper hello" "http://127.0.0.1:$HPORT/" 127.0.0.1
echo "latency at a lighter load (8 connections), where queueing on 2 cores does not dominate:"
WRK="wrk -t2 -c8" pairs "t8k /api/edge/ask" "http://127.0.0.1:$PORT/api/edge/ask?domain=acme.example.com" 127.0.0.1 \
  "hyper hello" "http://127.0.0.1:$HPORT/" 127.0.0.1

echo
echo "== nginx: the generated t8k edge configuration vs a plain root, same nginx, same file"
echo "(one nginx worker on core 0, wrk on core 1; seven alternating pairs, as the two share a noisy host;"
echo " the plain root sends the same headers, so what differs is the host map and its checks)"
NP=$(free_port); PP=$(free_port)
t8k edge nginx --out "$WORK/edge" --listen "127.0.0.1:$NP" --tls-listen "127.0.0.1:$(free_port)" \
  --functions "127.0.0.1:$PORT" >/dev/null
DEPLOY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deploy"])' "$R/sites/acme/live.json")
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity 01;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  include $WORK/edge/t8k.conf;
  # The same page from a plain root, with the same response headers as the generated
  # configuration sends (charset, Cache-Control, nosniff): what differs is the host map.
  server {
    listen 127.0.0.1:$PP;
    charset utf-8;
    add_header Cache-Control \$t8k_cache;
    add_header X-Content-Type-Options nosniff;
    root $R/sites/acme/$DEPLOY;
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
trap 'nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -s stop 2>/dev/null; kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port "$NP"; wait_port "$PP"
[ "$(curl -s "http://127.0.0.1:$NP/" -H 'Host: acme.example.com' | sha256sum)" = "$(curl -s "http://127.0.0.1:$PP/" | sha256sum)" ] \
  || { echo "the two servers do not serve the same page" >&2; exit 1; }
PAIRS=7 WRK="taskset -c 1 wrk -t1 -c32" pairs "nginx + t8k host map" "http://127.0.0.1:$NP/" acme.example.com \
  "nginx plain root" "http://127.0.0.1:$PP/" 127.0.0.1

echo
TENANTS=$(( DOMAINS < 100 ? 1 : 100 )); EACH=$(( DOMAINS / TENANTS ))
echo "== t8k domain check: $DOMAINS pending domains ($TENANTS tenants × $EACH) against dnsmasq"
DNSPORT=$(free_port)
export MAX_CUSTOM_DOMAINS=$EACH
for t in $(seq -w 1 "$TENANTS"); do
  t8k tenant create "dns$t" --name "DNS $t" --email a@acme.test --admin-password-file "$WORK/pw" >/dev/null
  for i in $(seq 1 "$EACH"); do t8k domain add "dns$t" "d$i.t$t.bench.test" >/dev/null; done
done
# Every other domain gets its TXT record and a CNAME to the main domain (→ active); the
# rest stay pending (NXDOMAIN).
for t in $(seq -w 1 "$TENANTS"); do t8k --json domain list "dns$t"; done | python3 -c '
import json, sys
dec, text, i = json.JSONDecoder(), sys.stdin.read(), 0
n = 0
while i < len(text.rstrip()):
    doc, i = dec.raw_decode(text, i)
    while i < len(text) and text[i].isspace():
        i += 1
    for d in doc["domains"]:
        if n % 2 == 0:
            r = d["records"]
            print("txt-record=%s,%s" % (r["txt_name"], r["txt_value"]))
            print("cname=%s,example.com" % d["host"])
        n += 1
print("host-record=example.com,127.0.0.1")' >"$WORK/dns.conf"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file="$WORK/dns.conf" --pid-file= \
  --listen-address=127.0.0.1 --bind-interfaces --user=root --local=/#/ --port="$DNSPORT" &
PIDS+=($!)
wait_port "$DNSPORT"
for conc in 1 16; do
  start=$(date +%s.%N)
  T8K_DNS_SERVERS="127.0.0.1:$DNSPORT" t8k --json domain check --concurrency $conc >"$WORK/check.json"
  end=$(date +%s.%N)
  python3 - "$WORK/check.json" "$conc" "$start" "$end" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
states = {}
for r in rows:
    k = r.get("status", "unsure")
    states[k] = states.get(k, 0) + 1
secs = float(sys.argv[4]) - float(sys.argv[3])
print(f"concurrency {sys.argv[2]:>2}: {len(rows)} domains in {secs:.2f} s ({len(rows)/secs:.0f} domains/s): {states}")
EOF
done
