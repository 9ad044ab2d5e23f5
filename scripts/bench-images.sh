#!/usr/bin/env bash
# Image benchmark: t8k's responsive images against Hugo's image processing of the same files,
# in the same run, plus what a phone downloads and what publishing a theme to many tenants
# uploads.
#
#   scripts/bench-images.sh [PHOTOS] [TENANTS]        (defaults 200 1000)
#
# 1. PHOTOS camera-like 12-MP JPEGs (builder/examples/photos.rs: 4000 x 3000, ~5 MB) on one
#    page, made into 480/960/1600 px WebP q80 and JPEG q80 plus a 1200 px JPEG (the
#    OpenGraph card) by both tools, Lanczos resampling in both: wall time and peak RSS of the
#    first build (no cache), then of a second build (everything cached), and of t8k building
#    the same page without images;
#    and the peak RSS of a build of one 12,000 x 8,000 photo (96 MP, 288 MB of pixels);
# 2. the bytes a phone downloads for that page's images: the originals vs the 480 px WebPs;
# 3. TENANTS tenants on one theme published to a bundle store: bytes of theme assets
#    uploaded (each deploy held its own copy before shared assets).
# Timings are the best of RUNS (default 1 for first builds, which must start cold, and 3 for
# the rest). Run on /dev/shm for steady figures: TMPDIR=/dev/shm scripts/bench-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTOS=${1:-200}
TENANTS=${2:-1000}
RUNS=${RUNS:-3}

if ! command -v hugo >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq hugo >/dev/null; else echo "install hugo first" >&2; exit 1; fi
fi
cargo build --release --quiet -p t8k -p t8k-builder --bins --example photos
BIN="${CARGO_TARGET_DIR:-target}/release"
T8K="$BIN/t8k"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/t8k-imgbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PW="$WORK/pw"; echo "benchmark-password" > "$PW"

# time_of CMD...: "seconds max_rss_kb" of one run.
time_of() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
# best_of N CMD...: the fastest of N runs, each after `before` (a function the caller sets).
best_of() {
  local n=$1 best="" line; shift
  for _ in $(seq "$n"); do
    before
    line=$(time_of "$@")
    if [ -z "$best" ] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  echo "$best"
}
row() { printf "   %-34s %7.2f s  peak RSS %5d MB\n" "$1" "$2" $(($3 / 1024)); }

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(hugo version | cut -d' ' -f1-2); t8k $($T8K --version | cut -d' ' -f2); scratch on $(df --output=fstype "$WORK" | tail -1)"
echo "generating $PHOTOS photos (not timed)..."
"$BIN/examples/photos" "$WORK/photos" "$PHOTOS"
ORIGINALS=$(du -cb "$WORK"/photos/*.jpg | tail -1 | cut -f1)

# --- t8k: one page showing every photo ------------------------------------------------------
R="$WORK/root"
$T8K --root "$R" init --multi --domain bench.example.com >/dev/null
$T8K --root "$R" tenant create bench --name Bench --email b@bench.example.com --admin-password-file "$PW" >/dev/null
$T8K --root "$R" tenant set-quota bench --storage 100GB >/dev/null
mkdir -p "$WORK/site/gallery"
{ printf -- '+++\ntitle = "Gallery"\n+++\n'; for f in "$WORK"/photos/*.jpg; do n=$(basename "$f"); printf '![Photo %s](%s)\n\n' "$n" "$n"; done; } > "$WORK/site/gallery/index.md"
cp "$WORK"/photos/*.jpg "$WORK/site/gallery/"
$T8K --root "$R" content import bench "$WORK/site" >/dev/null
before() { rm -rf "$R/images" "$R/build"; }
read -r t_cold t_cold_kb <<<"$(best_of "${COLD_RUNS:-1}" "$T8K" --root "$R" build bench)"
processed=$(python3 -c "import json;print(json.load(open('$R/build/bench.build.json'))['images'])")
before() { :; }
read -r t_warm t_warm_kb <<<"$(best_of "$RUNS" "$T8K" --root "$R" build bench)"
reused=$(python3 -c "import json;print(json.load(open('$R/build/bench.build.json'))['images'])")

# The same page without images, for the cached build to be compared with.
R0="$WORK/root0"
$T8K --root "$R0" init --multi --domain bench.example.com >/dev/null
$T8K --root "$R0" tenant create bench --name Bench --email b@bench.example.com --admin-password-file "$PW" >/dev/null
mkdir -p "$WORK/site0/gallery"; sed 's/^!\[.*$/A line of text./' "$WORK/site/gallery/index.md" > "$WORK/site0/gallery/index.md"
$T8K --root "$R0" content import bench "$WORK/site0" >/dev/null
read -r t_none t_none_kb <<<"$(best_of "$RUNS" "$T8K" --root "$R0" build bench)"

# --- Hugo: the same photos as page resources, the same variants ------------------------------
H="$WORK/hugo"
mkdir -p "$H/content/gallery" "$H/layouts/_default"
cp "$WORK"/photos/*.jpg "$H/content/gallery/"
printf -- '---\ntitle: Gallery\n---\n' > "$H/content/gallery/index.md"
cat > "$H/hugo.toml" <<'TOML'
baseURL = "https://bench.example.com/"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[imaging]
resampleFilter = "Lanczos"
quality = 80
TOML
cat > "$H/layouts/_default/single.html" <<'HTML'
<!doctype html><title>{{ .Title }}</title>
{{ range .Resources.ByType "image" }}
{{ $w1 := .Resize "480x webp q80" }}{{ $w2 := .Resize "960x webp q80" }}{{ $w3 := .Resize "1600x webp q80" }}
{{ $j1 := .Resize "480x q80" }}{{ $j2 := .Resize "960x q80" }}{{ $j3 := .Resize "1600x q80" }}{{ $og := .Resize "1200x q80" }}
<picture><source type="image/webp" srcset="{{ $w1.RelPermalink }} 480w, {{ $w2.RelPermalink }} 960w, {{ $w3.RelPermalink }} 1600w">
<img src="{{ $j2.RelPermalink }}" srcset="{{ $j1.RelPermalink }} 480w, {{ $j2.RelPermalink }} 960w, {{ $j3.RelPermalink }} 1600w" width="{{ $j3.Width }}" height="{{ $j3.Height }}" alt="" data-og="{{ $og.RelPermalink }}"></picture>
{{ end }}
HTML
printf '<!doctype html><title>{{ .Title }}</title>\n' > "$H/layouts/_default/list.html"
before() { rm -rf "$H/resources" "$H/public"; }
read -r h_cold h_cold_kb <<<"$(best_of "${COLD_RUNS:-1}" hugo --quiet -s "$H")"
before() { rm -rf "$H/public"; }
read -r h_warm h_warm_kb <<<"$(best_of "$RUNS" hugo --quiet -s "$H")"
# Hugo's default resampling (Box) is cheaper and softer than Lanczos: its fastest setting.
sed -i 's/resampleFilter = "Lanczos"/resampleFilter = "Box"/' "$H/hugo.toml"
before() { rm -rf "$H/resources" "$H/public"; }
read -r h_box h_box_kb <<<"$(best_of "${COLD_RUNS:-1}" hugo --quiet -s "$H")"

echo
echo "1) $PHOTOS photos of 12 MP into 3 widths x (WebP + JPEG) + a 1200 px JPEG"
row "t8k  first build (no cache)" "$t_cold" "$t_cold_kb"
row "hugo first build (no cache)" "$h_cold" "$h_cold_kb"
row "hugo first build, Box filter" "$h_box" "$h_box_kb"
awk -v a="$t_cold" -v b="$h_cold" -v c="$h_box" 'BEGIN{ printf "   t8k is %.1fx Hugo'"'"'s speed on a cold cache (%.1fx with Hugo'"'"'s cheaper Box filter)\n", b/a, c/a }'
row "t8k  second build (all cached)" "$t_warm" "$t_warm_kb"
row "hugo second build (all cached)" "$h_warm" "$h_warm_kb"
row "t8k  the page without images" "$t_none" "$t_none_kb"
echo "   t8k images: first build $processed; second build $reused"

# One 12,000 x 8,000 photo: what memory a build of the largest image t8k takes costs.
"$BIN/examples/photos" "$WORK/huge" 1 12000 8000
R4="$WORK/root4"
$T8K --root "$R4" init --multi --domain bench.example.com >/dev/null
$T8K --root "$R4" tenant create bench --name Bench --email b@bench.example.com --admin-password-file "$PW" >/dev/null
$T8K --root "$R4" tenant set-quota bench --storage 10GB >/dev/null
mkdir -p "$WORK/site4/huge"; cp "$WORK"/huge/*.jpg "$WORK/site4/huge/"
printf -- '+++\ntitle = "Huge"\n+++\n![A 96-megapixel photo](photo-0000.jpg)\n' > "$WORK/site4/huge/index.md"
$T8K --root "$R4" content import bench "$WORK/site4" >/dev/null
before() { rm -rf "$R4/images" "$R4/build"; }
read -r t_huge t_huge_kb <<<"$(best_of 1 "$T8K" --root "$R4" build bench)"
row "t8k  one 12,000 x 8,000 photo" "$t_huge" "$t_huge_kb"
echo "   (its pixels alone: 288 MB as RGB)"

# --- 2. what a phone downloads ---------------------------------------------------------------
python3 - "$R/build/bench/gallery/index.html" "$R/build/_shared" "$ORIGINALS" "$PHOTOS" <<'PY'
import os, re, sys
page, shared, originals, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
small = [m.split(" ")[0] for m in re.findall(r'<source type="image/webp" srcset="([^"]+)"', page)]
total = sum(os.path.getsize(os.path.join(shared, u.removeprefix("/_t8k/"))) for u in small)
print(f"\n2) bytes a phone downloads for the page's {n} images")
print(f"   originals            {originals/1e6:9.1f} MB  ({originals/n/1e6:.2f} MB each)")
print(f"   480 px WebP (t8k)    {total/1e6:9.1f} MB  ({total/n/1e3:.0f} KB each, {originals/max(total,1):.0f}x less)")
PY

# --- 3. theme assets uploaded for TENANTS tenants ------------------------------------------
R3="$WORK/root3"
$T8K --root "$R3" init --multi --domain bench.example.com --max-tenants "$TENANTS" >/dev/null
echo
echo "3) setting up $TENANTS tenants on the default theme (not timed)..."
seq -f "t%05g" 1 "$TENANTS" | xargs -P "$(nproc)" -I{} \
  "$T8K" --root "$R3" tenant create {} --name "Site {}" --email a@{}.bench.example.com --no-admin-password >/dev/null
$T8K --root "$R3" build >/dev/null
ASSETS=$(du -cb "$R3"/build/_shared/assets/* | tail -1 | cut -f1)
SENT=$($T8K --root "$R3" --json publish --to "$WORK/bundles" | python3 -c "import json,sys;d=json.load(sys.stdin);print(d['shared_uploaded'], d['bytes_sent'], d['published'])")
read -r shared_n sent_bytes sites <<<"$SENT"
stored=$(du -cb "$WORK"/bundles/sites/_shared/assets/* | tail -1 | cut -f1)
echo "   theme assets: $(ls "$R3/build/_shared/assets" | wc -l) files, $ASSETS bytes"
echo "   before (a copy in every deploy): $((ASSETS * sites)) bytes uploaded for $sites sites"
echo "   after (shared): $shared_n files, $stored bytes uploaded once; all bytes sent: $sent_bytes"
