#!/usr/bin/env bash
# Backups against restic (Debian's `restic`), on the same data, in one run:
#   1. first backup of TENANTS tenants (TENANTS_WITH_MEDIA of them with MEDIA_MB of media
#      each — incompressible, as photos are — and one with a database of ~DB_MB of pages):
#      `t8k backup --all` (encrypted) against `restic backup` of config/, db/ and media/;
#   2. a second backup after a one-page edit of the big database's tenant: bytes sent, time;
#   3. `t8k backup --due` with nothing changed (every schedule due), across all tenants;
#   4. restore of the big tenant: `t8k restore --as` against `restic restore --include`.
#
#   TMPDIR=/dev/shm scripts/bench-backup.sh [TENANTS] [TENANTS_WITH_MEDIA] [MEDIA_MB] [DB_MB]
#   (defaults 1000 200 5 12). Installs restic (apt) when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
TENANTS=${1:-1000}
WITH_MEDIA=${2:-200}
MEDIA_MB=${3:-5}
DB_MB=${4:-12}
command -v restic >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq restic >/dev/null; }
. scripts/bench-lib.sh

R="$WORK/root"
t8k() { "$BIN/t8k" --root "$R" "$@"; }
export T8K_BACKUP_PASSPHRASE="bench passphrase, not secret"
export RESTIC_PASSWORD="$T8K_BACKUP_PASSPHRASE"
t8k init --multi --domain example.com --max-tenants $((TENANTS + 10)) >/dev/null
echo "creating $TENANTS tenants…" >&2
for i in $(seq -w 1 "$TENANTS"); do
  t8k tenant create "t$i" --name "T$i" --email "o@t$i.test" --no-admin-password >/dev/null
done
# The big database: DB_MB of pages of varied words, imported as Markdown.
python3 - "$WORK/big" "$DB_MB" <<'PY'
import os, random, sys
out, mb = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
rng = random.Random(7)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(3, 9))) for _ in range(5000)]
for i in range(mb * 20):
    body = ' '.join(rng.choice(words) for _ in range(8000))
    open(f"{out}/page-{i:04}.md", "w").write(f"---\ntitle: Page {i}\n---\n{body}\n")
PY
FIRST=$(printf 't%0*d' ${#TENANTS} 1)
t8k tenant set-quota "$FIRST" --pages 100000 --storage 10GB >/dev/null
t8k content import "$FIRST" "$WORK/big" >/dev/null
# Media as uploads store it (media/{t}/{h2}/{sha256}.jpg), incompressible bytes.
python3 - "$R" "$TENANTS" "$WITH_MEDIA" "$MEDIA_MB" <<'PY'
import hashlib, os, sys
root, n, with_media, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
width = len(str(n))
for i in range(1, with_media + 1):
    t = f"t{i:0{width}}"
    for k in range(4):
        data = os.urandom(mb * 1024 * 1024 // 4)
        sha = hashlib.sha256(data).hexdigest()
        d = f"{root}/media/{t}/{sha[:2]}"
        os.makedirs(d, exist_ok=True)
        open(f"{d}/{sha}.jpg", "wb").write(data)
PY
SIZE=$(du -sb "$R/config" "$R/db" "$R/media" | awk '{s+=$1} END {print s}')
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $("$BIN/t8k" --version), $(restic version | cut -d' ' -f1-2); data under ${TMPDIR:-/tmp}"
printf 'data: %d tenants, %.2f GB in config/, db/ and media/ (the big database: %s)\n' "$TENANTS" "$(echo "$SIZE/1000000000" | bc -l)" "$(du -h "$R/db/$FIRST/site.db" | cut -f1)"

secs() { local s; s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
t8k backup init --to "$WORK/t8k-repo" --encrypt >/dev/null
restic init -r "$WORK/restic-repo" >/dev/null 2>&1
cd "$R"
echo "== 1. first backup (both encrypted)"
printf 't8k backup --all   %6.2f s\n' "$(secs t8k backup --all)"
printf 'restic backup      %6.2f s\n' "$(secs restic -r "$WORK/restic-repo" backup config db media)"
printf 'repository size: t8k %s, restic %s\n' "$(du -sh "$WORK/t8k-repo" | cut -f1)" "$(du -sh "$WORK/restic-repo" | cut -f1)"

echo "== 2. second backup after a one-page edit of $FIRST"
python3 - "$WORK/big" <<'PY'
import glob, sys
pages = sorted(glob.glob(f"{sys.argv[1]}/*.md"))
p = pages[len(pages) // 2]; t = open(p).read(); open(p, "w").write(t.replace("\n---\n", "\n---\nEdited. ", 1))
PY
t8k content import "$FIRST" "$WORK/big" >/dev/null
s=$(date +%s.%N); SENT=$(t8k --json backup "$FIRST" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0]["new_bytes"])'); T=$(echo "$(date +%s.%N) - $s" | bc)
printf 't8k backup %s        %6.2f s, %d bytes sent\n' "$FIRST" "$T" "$SENT"
s=$(date +%s.%N); ADDED=$(restic -r "$WORK/restic-repo" backup --json config db media | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if "summary" in l][-1]["data_added"])'); T=$(echo "$(date +%s.%N) - $s" | bc)
printf 'restic backup (all)   %6.2f s, %d bytes added\n' "$T" "$ADDED"

echo "== 3. t8k backup --due, nothing changed, every schedule due ($TENANTS tenants)"
python3 - "$R" <<'PY'
import glob, json, sys
for p in glob.glob(f"{sys.argv[1]}/stats/*/backup.json"):
    s = json.load(open(p)); s["time"] = "2026-01-01T00:00:00Z"; json.dump(s, open(p, "w"))
PY
for run in 1 2 3; do printf 'run %d: %6.3f s\n' "$run" "$(secs t8k backup --due)"; done
t8k --json backup --due | python3 -c 'import json,sys; print("snapshots taken:", len(json.load(sys.stdin)["snapshots"]))'

echo "== 4. restore of $FIRST"
printf 't8k restore --as     %6.2f s\n' "$(secs t8k restore "$FIRST" --as restored)"
printf 'restic restore       %6.2f s\n' "$(secs restic -r "$WORK/restic-repo" restore latest --target "$WORK/restic-out" --include "/db/$FIRST" --include "/config/$FIRST" --include "/media/$FIRST")"
