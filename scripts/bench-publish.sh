#!/usr/bin/env bash
# Publish benchmark: t8k publish against `aws s3 sync` and `rclone sync --checksum`, on the same
# built platform, against a local S3 server (moto), in the same run.
#
#   scripts/bench-publish.sh [TENANTS] [PAGES_PER_TENANT]        (defaults 20 450: ~10,000 objects)
#
# For each tool: 1) first publish, 2) republish after changing one page, 3) republish unchanged.
# Prints wall time, object uploads, server-side copies and bytes sent.
# Installs awscli, rclone (apt) and moto (.tools/venv) when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
TENANTS=${1:-20}
PER=${2:-450}

need() { command -v "$1" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$2" >/dev/null; }; }
need aws awscli; need rclone rclone
if ! .tools/venv/bin/pip show moto >/dev/null 2>&1; then
  python3 -m venv .tools/venv && .tools/venv/bin/pip install --quiet "moto[server]==5.2.5"
fi
cargo build --release --quiet
T8K="$(pwd)/${CARGO_TARGET_DIR:-target}/release/t8k"
WORK=$(mktemp -d /tmp/t8k-pubbench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.tools/venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null; rm -rf "$WORK"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export RCLONE_CONFIG_MOTO_TYPE=s3 RCLONE_CONFIG_MOTO_PROVIDER=Other RCLONE_CONFIG_MOTO_ENDPOINT="$AWS_ENDPOINT_URL" \
       RCLONE_CONFIG_MOTO_ACCESS_KEY_ID=bench RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY=bench RCLONE_CONFIG_MOTO_FORCE_PATH_STYLE=true
for _ in $(seq 50); do curl -s -o /dev/null "$AWS_ENDPOINT_URL" && break; sleep 0.2; done
curl -s -X PUT "$AWS_ENDPOINT_URL/bench" >/dev/null

# The platform: TENANTS tenants x PER pages, built locally.
R="$WORK/root"
python3 bench/corpus.py "$WORK/corpus" "$PER"
$T8K --root "$R" init --multi --domain bench.example.com >/dev/null
python3 - "$R/config/t8k/tenants.json" "$PER" <<'PY'
import json, sys
reg = json.load(open(sys.argv[1])); reg["default_max_pages"] = int(sys.argv[2]) + 10
json.dump(reg, open(sys.argv[1], "w"), indent=2)
PY
for i in $(seq -f "%03g" 1 "$TENANTS"); do
  $T8K --root "$R" tenant create "site$i" --name "Site $i" --email "a@site$i.test" --no-admin-password >/dev/null
  $T8K --root "$R" content import "site$i" "$WORK/corpus" >/dev/null
done
$T8K --root "$R" build >/dev/null
OBJECTS=$(find "$R/build" -mindepth 2 -type f -not -name '*.build.json' | wc -l)

change_one_page() {
  sed -i 's/^title = "Page 7"$/title = "Page 7 (edited)"/' "$WORK/corpus/page-000007.md"
  $T8K --root "$R" content import site001 "$WORK/corpus" >/dev/null
  $T8K --root "$R" build --changed >/dev/null
}
revert_page() {
  sed -i 's/^title = "Page 7 (edited)"$/title = "Page 7"/' "$WORK/corpus/page-000007.md"
  $T8K --root "$R" content import site001 "$WORK/corpus" >/dev/null
  $T8K --root "$R" build --changed >/dev/null
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(aws --version 2>&1 | cut -d' ' -f1); $(rclone version | head -1); moto 5.2.5 on loopback"
echo "platform: $TENANTS tenants, $OBJECTS objects, $(du -sh "$R/build" | cut -f1)"
printf "%-8s %-22s %8s %9s %18s %12s\n" tool step seconds uploads "server-side copies" "bytes sent"

t8k_step() {
  local t0 t1
  t0=$(now); $T8K --root "$R" --json publish --to s3://bench/t8k >"$WORK/publish.json"; t1=$(now)
  python3 -c '
import json, sys
s = json.load(open(sys.argv[3]))
print("%-8s %-22s %8s %9s %18s %12s" % ("t8k", sys.argv[1], sys.argv[2], s["objects_uploaded"], s["objects_copied"], s["bytes_sent"]))
' "$1" "$(secs "$t0" "$t1")" "$WORK/publish.json"
}
aws_step() {
  local t0 t1
  t0=$(now); aws s3 sync "$R/build" s3://bench/aws --exclude '*.build.json' --only-show-errors --no-progress; t1=$(now)
  printf "%-8s %-22s %8s %9s %18s %12s\n" aws "$1" "$(secs "$t0" "$t1")" "$AWS_WRITES" 0 "$AWS_BYTES"
}
rclone_step() {
  local t0 t1 log
  log="$WORK/rclone-$2.log"
  t0=$(now); env -u AWS_CA_BUNDLE rclone sync --checksum --transfers 32 -v "$R/build" moto:bench/rclone --exclude '*.build.json' >"$log" 2>&1; t1=$(now)
  local writes bytes
  writes=$(grep -c -E ': Copied \((new|replaced existing)\)' "$log" || true)
  bytes=$( (grep -E ': Copied \((new|replaced existing)\)' "$log" || true) | sed -E 's/^.*INFO  : (.*): Copied.*$/\1/' | (cd "$R/build" && xargs -r -d '\n' stat -c %s 2>/dev/null || true) | awk '{s+=$1} END{print s+0}')
  printf "%-8s %-22s %8s %9s %18s %12s\n" rclone "$1" "$(secs "$t0" "$t1")" "$writes" 0 "$bytes"
}
# What aws s3 sync sends, listed with --dryrun just before the real run.
aws_measure() {
  local list
  list=$(aws s3 sync "$R/build" s3://bench/aws --exclude '*.build.json' --dryrun 2>/dev/null | sed -nE "s|^\(dryrun\) upload: ([^ ]+) to .*$|\1|p")
  AWS_WRITES=$(printf '%s' "$list" | grep -c . || true)
  AWS_BYTES=$(printf '%s' "$list" | xargs -r -d '\n' stat -c %s 2>/dev/null | awk '{s+=$1} END{print s+0}')
}

t8k_step "1 first publish"
aws_measure; aws_step "1 first publish"
rclone_step "1 first publish" first
change_one_page
t8k_step "2 one page changed"
aws_measure; aws_step "2 one page changed"
rclone_step "2 one page changed" one
t8k_step "3 unchanged"
aws_measure; aws_step "3 unchanged"
rclone_step "3 unchanged" none
revert_page
