#!/usr/bin/env bash
# Build benchmark: t8k against Hugo on the standard SSG corpus (N files of ~845 bytes: a title
# and three lorem-ipsum paragraphs), in the same run.
#
#   scripts/bench-build.sh [PAGES] [TENANTS] [PAGES_PER_TENANT]     (defaults 4000 1000 100)
#
# 1. one tenant with PAGES pages vs Hugo on the same PAGES files: pages/s and the ratio;
# 2. TENANTS tenants x PAGES_PER_TENANT pages vs Hugo on all of them as one site: wall time,
#    peak RSS;
# 3. a no-op `t8k build --changed` of that platform.
# Each timing is the best of RUNS (default 3). Needs hugo (apt-get install hugo) and
# /usr/bin/time; installs hugo when run as root and it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES=${1:-4000}
TENANTS=${2:-1000}
PER_TENANT=${3:-100}
RUNS=${RUNS:-3}

if ! command -v hugo >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq hugo >/dev/null; else echo "install hugo first" >&2; exit 1; fi
fi
cargo build --release --quiet
T8K="${CARGO_TARGET_DIR:-target}/release/t8k"
# On /dev/shm for steady figures: TMPDIR=/dev/shm scripts/bench-build.sh (a noisy disk skews both tools).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/t8k-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PW="$WORK/pw"; echo "benchmark-password" > "$PW"

# best_of CMD...: prints "seconds max_rss_kb" of the fastest of $RUNS runs.
best_of() {
  local best="" line
  for _ in $(seq "$RUNS"); do
    line=$(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1)
    if [ -z "$best" ] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  echo "$best"
}
rate() { awk -v p="$1" -v s="$2" 'BEGIN{ if (s<=0) s=0.005; printf "%.0f", p/s }'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(hugo version | cut -d' ' -f1-2); t8k $($T8K --version | cut -d' ' -f2)"

# --- 1. one tenant, $PAGES pages -------------------------------------------------------
python3 bench/corpus.py "$WORK/corpus1" "$PAGES"
R1="$WORK/root1"
$T8K --root "$R1" init --multi --domain bench.example.com >/dev/null
$T8K --root "$R1" tenant create bench --name Bench --email b@bench.example.com --admin-password-file "$PW" >/dev/null
$T8K --root "$R1" tenant set-quota bench --pages $((PAGES + 10)) --storage 10GB >/dev/null
$T8K --root "$R1" content import bench "$WORK/corpus1" >/dev/null
read -r t8k_s t8k_kb <<<"$(best_of "$T8K" --root "$R1" build bench)"
t8k_pages=$(python3 -c "import json;print(json.load(open('$R1/build/bench.build.json'))['pages'])")

H1="$WORK/hugo1"; cp -r bench/hugo-site "$H1"; mkdir -p "$H1/content"; cp "$WORK"/corpus1/*.md "$H1/content/"
read -r hugo_s hugo_kb <<<"$(best_of hugo --quiet -s "$H1" -d "$WORK/hugo1-out")"
echo
echo "1) one site, $PAGES content pages (t8k renders $t8k_pages HTML pages incl. listings)"
printf "   t8k : %6.2f s  %7s pages/s  peak RSS %4d MB\n" "$t8k_s" "$(rate "$PAGES" "$t8k_s")" $((t8k_kb / 1024))
printf "   hugo: %6.2f s  %7s pages/s  peak RSS %4d MB\n" "$hugo_s" "$(rate "$PAGES" "$hugo_s")" $((hugo_kb / 1024))
awk -v a="$t8k_s" -v b="$hugo_s" 'BEGIN{ if (a<=0) a=0.005; printf "   t8k/hugo pages/s ratio: %.2fx\n", b/a }'

# --- 2. $TENANTS tenants x $PER_TENANT pages -------------------------------------------
python3 bench/corpus.py "$WORK/corpus2" "$PER_TENANT"
R2="$WORK/root2"
$T8K --root "$R2" init --multi --domain bench.example.com --max-tenants "$TENANTS" >/dev/null
python3 - "$R2/config/t8k/tenants.json" "$PER_TENANT" <<'PY'
import json, sys
path, per = sys.argv[1], int(sys.argv[2])
reg = json.load(open(path)); reg["default_max_pages"] = per + 10
json.dump(reg, open(path, "w"), indent=2)
PY
echo
echo "2) setting up $TENANTS tenants x $PER_TENANT pages (not timed)..."
seq -f "t%05g" 1 "$TENANTS" | xargs -P "$(nproc)" -I{} sh -c \
  "$T8K --root '$R2' tenant create {} --name 'Site {}' --email a@{}.bench.example.com --no-admin-password >/dev/null && $T8K --root '$R2' content import {} '$WORK/corpus2' >/dev/null"
RUNS_SAVED=$RUNS; RUNS=1
rm -rf "$R2/build"
read -r plat_s plat_kb <<<"$(best_of "$T8K" --root "$R2" build)"
RUNS=$RUNS_SAVED
read -r noop_s _ <<<"$(best_of "$T8K" --root "$R2" build --changed)"

H2="$WORK/hugo2"; cp -r bench/hugo-site "$H2"; mkdir -p "$H2/content"
for i in $(seq -f "%05g" 1 "$TENANTS"); do
  mkdir -p "$H2/content/t$i"; for f in "$WORK"/corpus2/*.md; do ln "$f" "$H2/content/t$i/" 2>/dev/null || cp "$f" "$H2/content/t$i/"; done
done
RUNS=1
read -r hugo2_s hugo2_kb <<<"$(best_of hugo --quiet -s "$H2" -d "$WORK/hugo2-out")"
total=$((TENANTS * PER_TENANT))
echo "   t8k : $TENANTS tenants, $total pages: $(printf %.2f "$plat_s") s, $(rate $total "$plat_s") pages/s, peak RSS $((plat_kb / 1024)) MB"
echo "   hugo: one site, $total pages:      $(printf %.2f "$hugo2_s") s, $(rate $total "$hugo2_s") pages/s, peak RSS $((hugo2_kb / 1024)) MB"
echo "3) no-op t8k build --changed of the $TENANTS-tenant platform: $(printf %.3f "$noop_s") s (best of $RUNS_SAVED)"
