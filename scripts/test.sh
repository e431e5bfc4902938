#!/usr/bin/env bash
# Runs every test project and prints a closing "N passed, N failed, N skipped" line. Extra arguments go to dotnet test.
# First it installs the external clients the tests drive (scripts/setup-test-deps.sh: quick when they are already there).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${BROOK_SKIP_TEST_DEPS:-}" != "1" ]; then
  bash scripts/setup-test-deps.sh || { echo "scripts/setup-test-deps.sh failed: the tests need kcat, node with kafkajs and chromium"; exit 1; }
fi
results="$(mktemp -d)"
dotnet test Brook.slnx --logger "trx;LogFilePrefix=brook" --results-directory "$results" "$@"
status=$?
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find(".//{*}Counters")
    if c is None: continue
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
