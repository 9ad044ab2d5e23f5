#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs the
# format check, clippy, and every test (unit, end-to-end, concurrency, crash).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

log "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Real servers for the tests, from PyPI, installed once into .tools/venv (git-ignored):
# moto's server for the bucket tests and the AWS stack (MinIO cannot be installed here;
# moto's conditional writes are atomic like AWS S3's), aiosmtpd, an SMTP server for the mail
# tests, and cfn-lint and checkov, the validators of the AWS template.
PY_PACKAGES=("moto[server]==5.2.5" "aiosmtpd==1.4.6" "cfn-lint==1.58.0" "checkov==3.3.30")
installed() {
  .tools/venv/bin/pip show moto aiosmtpd cfn-lint checkov 2>/dev/null \
    | grep -c '^Version: \(5.2.5\|1.4.6\|1.58.0\|3.3.30\)$' | grep -qx 4
}
if ! installed; then
  log "installing ${PY_PACKAGES[*]} into .tools/venv"
  if python3 -m venv .tools/venv; then
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  else
    # No venv module (Debian without python3-venv): a user install, found on PATH.
    rm -rf .tools/venv
    python3 -m pip install --quiet --user --disable-pip-version-check "${PY_PACKAGES[@]}"
    export PATH="$HOME/.local/bin:$PATH"
  fi
fi

# Real servers from Debian (and hugo, whose output the site-import test compares with): Chromium and its WebDriver for the browser tests, dnsmasq (the
# binary only, no system service) as the DNS server of the custom-domain tests, Pebble (an
# ACME CA, with pebble-challtestsrv as its DNS) for the certificate tests, curl as their
# HTTPS client, nginx and Caddy for the edge tests (their packages' services are not started:
# each test runs its own server on loopback), node to run the generated CloudFront Function,
# systemd-analyze to verify the units of `t8k install --systemd` (nothing is started).
export PATH="$PATH:/usr/sbin"
APT=()
{ command -v chromedriver >/dev/null && command -v chromium >/dev/null; } || APT+=(chromium chromium-driver)
command -v dnsmasq >/dev/null || APT+=(dnsmasq-base)
command -v pebble >/dev/null || APT+=(pebble)
command -v curl >/dev/null || APT+=(curl)
command -v nginx >/dev/null || APT+=(nginx)
command -v caddy >/dev/null || APT+=(caddy)
command -v node >/dev/null || APT+=(nodejs)
command -v hugo >/dev/null || APT+=(hugo)
command -v npm >/dev/null || APT+=(npm)
command -v systemd-analyze >/dev/null || APT+=(systemd)
if [ ${#APT[@]} -gt 0 ]; then
  log "installing ${APT[*]} (apt)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq "${APT[@]}" >/dev/null
  else
    echo "the tests need ${APT[*]}: run as root, or apt-get install them" >&2
    exit 1
  fi
fi

# axe-core, the accessibility checker the admin's browser test runs in each page (npm,
# pinned, into .tools/node_modules).
AXE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_VERSION\"" .tools/node_modules/axe-core/package.json; then
  log "installing axe-core@$AXE_VERSION into .tools"
  npm install --silent --prefix .tools --no-save --no-audit --no-fund "axe-core@$AXE_VERSION"
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
# Every outside program is installed above, so none may be skipped: a test that cannot find
# one fails instead of printing SKIPPED (tests/common/mod.rs, `needs`).
T8K_REQUIRE_ALL=1 cargo test --workspace
