#!/usr/bin/env bash
# Installs what the test suites need beyond the .NET SDK: kcat (a librdkafka CLI, Debian package), kafkajs (npm, into
# tests/clients/node), and for the console's browser tests Debian's chromium plus playwright-core (npm, into
# tests/console-e2e; it drives /usr/bin/chromium and never downloads a browser), and promtool (Debian's prometheus
# package) to check the /metrics exposition. Safe to run repeatedly; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d tests/clients/node/node_modules/kafkajs ]; then
  echo "installing kafkajs"
  (cd tests/clients/node && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -d tests/console-e2e/node_modules/playwright-core ]; then
  echo "installing playwright-core"
  (cd tests/console-e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "test dependencies ready: $(kcat -V 2>&1 | head -1); node $(node --version); kafkajs $(node -p "require('./tests/clients/node/node_modules/kafkajs/package.json').version"); $(/usr/bin/chromium --version 2>/dev/null | head -1); $(promtool --version 2>&1 | head -1)"
