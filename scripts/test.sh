#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs the
# format check, clippy, and every test (unit, end-to-end, concurrency, crash).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

log "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# A real S3 server for the bucket tests: moto's server (MinIO cannot be installed here; moto's
# conditional writes are atomic like AWS S3's). Installed once into .tools/venv (git-ignored).
MOTO_VERSION=5.2.5
if ! .tools/venv/bin/pip show moto 2>/dev/null | grep -qx "Version: $MOTO_VERSION"; then
  log "installing moto[server]==$MOTO_VERSION into .tools/venv"
  if python3 -m venv .tools/venv; then
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  else
    # No venv module (Debian without python3-venv): a user install, found on PATH.
    rm -rf .tools/venv
    python3 -m pip install --quiet --user --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    export PATH="$HOME/.local/bin:$PATH"
  fi
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
cargo test --workspace
