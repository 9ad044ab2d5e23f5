# Shared set-up of the loopback benchmarks (sourced by bench-functions.sh and
# bench-analytics.sh): wrk installed, release binaries built, a scratch folder and servers
# cleaned up on exit, and small helpers for ports and wrk's RESULT lines.
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p t8k -p t8k-functions --bins --example hello
case "${CARGO_TARGET_DIR:-target}" in
  /*) BIN="$CARGO_TARGET_DIR/release" ;;
  *) BIN="$(pwd)/${CARGO_TARGET_DIR:-target}/release" ;;
esac
# Scratch space under TMPDIR (e.g. TMPDIR=/dev/shm: the disk here is noisy).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/t8k-bench.XXXXXX")
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
# A field of wrk's RESULT line, e.g. `echo "$out" | field rps`.
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
# Microseconds to milliseconds.
ms() { awk '{printf "%.2f", $1/1000}'; }
