#!/usr/bin/env bash
# Install the npm packages the browser checks use (puppeteer-core, speedscope)
# into tests/browser/node_modules, from the checked-in package-lock.json.
# Needs no input (CI runs it as root with no stdin).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error </dev/null
