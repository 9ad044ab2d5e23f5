#!/usr/bin/env bash
# Edit -> live benchmark: how soon an editor's save is served, and what makes it fast.
#
#   TMPDIR=/dev/shm scripts/bench-live.sh [EDITS] [PAGES] [BIG] [TENANTS]   (defaults 50 100 10000 500)
#
# 1. edit -> live, worker path, local root: `t8k serve` serving published deploys (--from the
#    root), `t8k worker` building and publishing; EDITS saves through PUT /api/pages/{slug} of
#    a PAGES-page tenant, each timed from the PUT's answer to the new bytes being served
#    (p50/p95/max). Peer in the same run: `hugo server` on the same PAGES pages, from the
#    content file's rename to the new bytes being served.
# 2. the same on a moto S3 bucket root (worker listing the queue every 0.25 s when idle).
# 3. incremental vs full build of one tenant of BIG pages, one page's body edited (the build's
#    own timing from --json; full: best of 3): by a `t8k build` process (median of 5 edits),
#    and inside a running `t8k worker`, which keeps each site's last build (median of 9).
# 4. worker throughput: TENANTS small tenants (3 pages) queued, `t8k worker --once` drains them
#    (build + publish each); against the batch path `t8k build --changed` + `t8k publish
#    --changed` (what CI runs).
# Needs hugo and moto (.tools/venv); installs them when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
EDITS=${1:-50}
PAGES=${2:-100}
BIG=${3:-10000}
TENANTS=${4:-500}

if ! command -v hugo >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq hugo >/dev/null; else echo "install hugo first" >&2; exit 1; fi
fi
if ! .tools/venv/bin/pip show moto >/dev/null 2>&1; then
  python3 -m venv .tools/venv && .tools/venv/bin/pip install --quiet "moto[server]==5.2.5"
fi
# Release binaries, a scratch folder, servers stopped on exit, free_port and wait_port.
source scripts/bench-lib.sh
T8K="$BIN/t8k"
PW="$WORK/pw"; echo "benchmark-password" > "$PW"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(hugo version | cut -d' ' -f1-2); t8k $($T8K --version | cut -d' ' -f2); work in ${TMPDIR:-/tmp}"

python3 bench/corpus.py "$WORK/corpus" "$PAGES"
SLUG=page-$(printf %06d $((PAGES / 2)))

# A platform with one PAGES-page tenant, built and published. $1: the root, then env.
platform() {
  local root=$1
  $T8K --root "$root" init --multi --domain bench.example.com >/dev/null
  $T8K --root "$root" tenant create acme --name Acme --email a@bench.example.com --admin-password-file "$PW" >/dev/null
  $T8K --root "$root" tenant set-quota acme --pages $((PAGES + 10)) --storage 10GB >/dev/null
  $T8K --root "$root" content import acme "$WORK/corpus" >/dev/null
}

# edit_to_live ROOT LABEL [worker args...]: serve + worker on ROOT, EDITS timed saves.
edit_to_live() {
  local root=$1 label=$2; shift 2
  $T8K --root "$root" worker --once >/dev/null
  local port; port=$(free_port)
  $T8K --root "$root" serve --from "$root" --port "$port" >/dev/null 2>&1 & PIDS+=($!)
  local serve=$!
  $T8K --root "$root" worker --jobs 2 "$@" >/dev/null 2>&1 & PIDS+=($!)
  local worker=$!
  wait_port "$port"
  local r; r=$(python3 bench/live.py t8k "$port" acme.localhost "$(cat "$PW")" "$SLUG" "$EDITS")
  kill "$serve" "$worker"; wait "$serve" "$worker" 2>/dev/null || true
  echo "   $label: $r (ms, $EDITS edits)"
}

echo
echo "1) edit -> live, one tenant of $PAGES pages, local data root"
platform "$WORK/root"
edit_to_live "$WORK/root" "t8k serve + t8k worker"
H="$WORK/hugo"; cp -r bench/hugo-site "$H"; mkdir -p "$H/content"; cp "$WORK"/corpus/*.md "$H/content/"
HPORT=$(free_port)
hugo server --quiet -s "$H" --port "$HPORT" --bind 127.0.0.1 --disableLiveReload >/dev/null 2>&1 & PIDS+=($!)
HUGO=$!
wait_port "$HPORT"; sleep 1
r=$(python3 bench/live.py hugo "$HPORT" "$H/content/$SLUG.md" "/$SLUG/" "$EDITS")
kill "$HUGO"; wait "$HUGO" 2>/dev/null || true
echo "   hugo server (peer: fast render mode, from memory, no publish): $r (ms, $EDITS edits)"

echo
echo "2) edit -> live on a moto S3 bucket root"
MPORT=$(free_port)
.tools/venv/bin/moto_server -H 127.0.0.1 -p "$MPORT" >/dev/null 2>&1 & PIDS+=($!)
MOTO=$!
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MPORT" T8K_CACHE="$WORK/cache"
wait_port "$MPORT"; curl -s -X PUT "$AWS_ENDPOINT_URL/bench" >/dev/null
platform "s3://bench/live"
edit_to_live "s3://bench/live" "t8k serve + t8k worker, moto" --max-idle 0.25
kill "$MOTO"; wait "$MOTO" 2>/dev/null || true
unset AWS_ENDPOINT_URL T8K_CACHE

echo
echo "3) one page edited in a tenant of $BIG pages: incremental vs full build"
python3 bench/corpus.py "$WORK/big" "$BIG"
B="$WORK/bigroot"
$T8K --root "$B" init --multi --domain bench.example.com >/dev/null
$T8K --root "$B" tenant create big --name Big --email a@bench.example.com --no-admin-password >/dev/null
$T8K --root "$B" tenant set-quota big --pages $((BIG + 10)) --storage 10GB >/dev/null
$T8K --root "$B" content import big "$WORK/big" >/dev/null
secs() { python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'; }
full=""
for _ in 1 2 3; do
  s=$($T8K --root "$B" --json build big --full | secs)
  if [ -z "$full" ] || awk -v a="$s" -v b="$full" 'BEGIN{exit !(a<b)}'; then full=$s; fi
done
incs=()
for i in 1 2 3 4 5; do
  mkdir -p "$WORK/edit$i"
  n=$((i * 977 % BIG))
  printf '+++\ntitle = "Page %s"\n+++\n\nEdited %s.\n' "$n" "$i" > "$WORK/edit$i/page-$(printf %06d "$n").md"
  $T8K --root "$B" content import big "$WORK/edit$i" >/dev/null
  out=$($T8K --root "$B" --json build big)
  incs+=("$(echo "$out" | secs)")
  written=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["written"], d["kept"])')
done
inc=$(printf '%s\n' "${incs[@]}" | sort -g | sed -n 3p)
wall_inc=$( { /usr/bin/time -f %e $T8K --root "$B" build big >/dev/null; } 2>&1 )
printf "   full build: %.3f s (best of 3)\n" "$full"
printf "   incremental, t8k build process: %.4f s (median of 5; files written/kept %s): %.0fx faster\n" \
  "$inc" "$written" "$(awk -v f="$full" -v i="$inc" 'BEGIN{ print f/i }')"
$T8K --root "$B" worker --once >/dev/null   # the queue drained: each edit is one build
warm=$(python3 bench/worker_builds.py "$T8K" "$B" big "$BIG" 9)
wmed=$(echo "$warm" | sed 's/.*median=\([0-9.]*\).*/\1/')
printf "   incremental, inside t8k worker: %s: %.0fx faster (target >= 20x)\n" \
  "$warm" "$(awk -v f="$full" -v i="$wmed" 'BEGIN{ print f/i }')"
echo "   wall time of a whole \`t8k build big\` process with nothing to render: ${wall_inc} s"

echo
echo "4) worker throughput: $TENANTS tenants of 3 pages queued"
W="$WORK/wroot"
python3 bench/corpus.py "$WORK/small" 3
$T8K --root "$W" init --multi --domain bench.example.com --max-tenants "$TENANTS" >/dev/null
seq -f "t%05g" 1 "$TENANTS" | xargs -P "$(nproc)" -I{} sh -c \
  "$T8K --root '$W' tenant create {} --name 'Site {}' --email a@{}.bench.example.com --no-admin-password >/dev/null && $T8K --root '$W' content import {} '$WORK/small' >/dev/null"
cp -r "$W" "$WORK/wroot2"
start=$(date +%s.%N)
served=$($T8K --root "$W" --json worker --once --jobs 2 | wc -l)
end=$(date +%s.%N)
awk -v n="$served" -v s="$start" -v e="$end" 'BEGIN{ printf "   t8k worker --once --jobs 2: %d tenants built + published in %.2f s: %.0f tenants/s\n", n, e-s, n/(e-s) }'
start=$(date +%s.%N)
$T8K --root "$WORK/wroot2" build --changed >/dev/null && $T8K --root "$WORK/wroot2" publish --changed >/dev/null
end=$(date +%s.%N)
awk -v n="$TENANTS" -v s="$start" -v e="$end" 'BEGIN{ printf "   batch, the CI path (t8k build --changed && t8k publish --changed): %.2f s: %.0f tenants/s\n", e-s, n/(e-s) }'
