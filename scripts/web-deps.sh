#!/usr/bin/env bash
# Installs web/'s npm packages exactly as web/package-lock.json pins them (`npm ci`):
# uPlot, which the build inlines into every report.html (cmake/embed_web_assets.cmake), and
# playwright-core, which drives Debian's Chromium in the browser tests and the report
# benchmark. Idempotent: skips npm when node_modules already matches the lock file.
set -euo pipefail
WEB_DIR="$(cd "$(dirname "$0")/../web" && pwd)"

if ! command -v npm >/dev/null 2>&1; then
  echo "web-deps: npm is missing: install Node.js 20+ with npm (report.html inlines uPlot from npm at build time)" >&2
  exit 1
fi
stamp="$WEB_DIR/node_modules/.prescale-lock.sha256"
want="$(sha256sum "$WEB_DIR/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$WEB_DIR/node_modules/uplot/package.json" ]; then
  exit 0
fi
echo "web-deps: npm ci in web/ (uplot, playwright-core)" >&2
# playwright-core ships no browser and downloads none: the tests use /usr/bin/chromium.
(cd "$WEB_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" > "$stamp"
