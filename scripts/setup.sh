#!/usr/bin/env bash
# Installs what Hallmark needs and this machine lacks, and nothing that is already there:
# Node.js 24, redis-server (unless REDIS_URL names a Redis), the npm dependencies (under Node 24),
# with --test, Chromium for the browser tests, and with --chaos, a PostgreSQL server for the fault tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || { say "cannot install $* here (no apt-get): install it yourself"; exit 1; }
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { say "could not install $* (apt-get failed; are you root?)"; exit 1; }
}

# Node.js 24: the machine's Node 20 is past its end of life, and npm under Node 20 skips Hardhat's EDR binding.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) say "no Node 24 package for $(uname -m)"; exit 1 ;; esac
  prefix=/usr/local
  [ -w "$prefix/bin" ] || prefix="$HOME/.local"
  say "Node $(node -v 2>/dev/null || echo '(none)') found; installing Node 24 (npm package node-linux-$arch@24) into $prefix"
  npm i -g --prefix "$prefix" --no-audit --no-fund "node-linux-$arch@24" >/dev/null
  export PATH="$prefix/bin:$PATH"
  hash -r
  [ "$(node_major)" -ge 24 ] || { say "Node 24 was installed into $prefix/bin: put it first on PATH"; exit 1; }
fi

# Redis: only when none is named; the platform starts its own redis-server from PATH.
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
  say "installing redis-server (Debian package)"
  apt_install redis-server
fi

# Chromium for the browser tests (test/e2e/browser): Debian's build, since playwright-core never downloads one.
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null; then
  say "installing chromium (Debian package) for the browser tests"
  apt_install chromium
fi
# Noto CJK, so the Chinese pages and printable certificates render their glyphs (the browser tests check they do).
if [ "${1:-}" = "--test" ] && ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
  say "installing fonts-noto-cjk (Debian package) for the Chinese pages in the browser tests"
  apt_install fonts-noto-cjk
fi

# The fault tests run against a PostgreSQL server (Debian's), started by the test setup itself.
if [ "${1:-}" = "--chaos" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing postgresql (Debian package) for the fault tests"
  apt_install postgresql
fi

# Dependencies, installed by Node 24's npm from the lock file; again when the lock file changed or the EDR binding is missing.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || ! node -e 'require("@nomicfoundation/edr")' >/dev/null 2>&1; then
  say "installing npm dependencies (npm ci: exactly the versions package-lock.json records)"
  # npm ci, not npm install: every machine and CI get the committed lock's versions, and a lock file that no longer
  # matches package.json fails here instead of being rewritten quietly. Add or upgrade a dependency with
  # `npm install <pkg>` and commit both files.
  npm ci --no-audit --no-fund
fi
