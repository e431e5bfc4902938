#!/usr/bin/env bash
# Installs what the test suites need beyond the .NET SDK. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "test dependencies: nothing extra needed yet"
