#!/usr/bin/env bash
# Browser end-to-end test: the bookshelf example in headless Chromium (Debian's chromium package,
# driven by playwright-core from npm). Installs what is missing, then runs `node --test`.
# STRATUS_BIN picks the binary (default: target/debug/stratus).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "tests/browser: installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/browser: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "tests/browser: installing playwright-core"
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

STRATUS_BIN="${STRATUS_BIN:-$PWD/target/debug/stratus}" exec node --test tests/browser/bookshelf.test.mjs
