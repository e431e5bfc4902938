#!/usr/bin/env bash
# Installs what the test suites need beyond the .NET SDK: kcat (a librdkafka CLI, Debian package) and kafkajs
# (npm, into tests/clients/node). Safe to run repeatedly; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
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
echo "test dependencies ready: $(kcat -V 2>&1 | head -1); node $(node --version); kafkajs $(node -p "require('./tests/clients/node/node_modules/kafkajs/package.json').version")"
