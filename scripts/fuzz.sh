#!/usr/bin/env bash
# Long fuzzing run of the broker's request path (tools/Brook.Fuzz): mutated real-client and synthesized frames for
# every API through the real dispatcher of an in-memory broker; prints executions per second, outcomes per kind and
# any findings. Inputs that found something are saved (with a .txt saying what) under the findings directory; copy
# one to tests/Brook.Broker.Tests/Fixtures/fuzz/ once its bug is fixed, so `dotnet test` replays it for good.
# Usage: scripts/fuzz.sh [SECONDS (default 600)] [SEED] [FINDINGS_DIR (default fuzz-findings)]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
seed="${2:-$RANDOM}"
findings="${3:-fuzz-findings}"
dotnet build tools/Brook.Fuzz -c Release -v quiet -nologo >/dev/null
dotnet tools/Brook.Fuzz/bin/Release/net10.0/brook-fuzz.dll --seconds "$seconds" --seed "$seed" --findings "$findings"
