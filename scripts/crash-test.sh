#!/usr/bin/env bash
# Crash consistency: tools/Brook.CrashHarness runs the real brook-server as a child process while Confluent.Kafka
# clients work against it (idempotent acks=all producers over several partitions, a consumer group committing after
# processing, a transactional consume-transform-produce pipeline), kills it with SIGKILL at random moments, restarts it
# on the same port and data, and finally checks that nothing acknowledged was lost, duplicated or reordered, that
# committed offsets never passed what was processed, and that transactions are all-or-nothing and exactly once.
# Usage: scripts/crash-test.sh [Debug|Release] [--kills N (default 100)] [--relaxed] [other brook-crash-harness options]
#   --relaxed: the broker fsyncs only every 1,000,000 messages (log.flush.interval.messages), to show what a kill -9
#              costs without fsync per append (it should cost nothing: the page cache survives a process crash).
set -euo pipefail
cd "$(dirname "$0")/.."
config="Release"
args=()
kills=100
while [ $# -gt 0 ]; do
  case "$1" in
    Debug|Release) config="$1" ;;
    --kills) kills="$2"; shift ;;
    --relaxed) args+=(--overrides "log.flush.interval.messages=1000000") ;;
    *) args+=("$1") ;;
  esac
  shift
done
server="src/Brook.Server/bin/$config/net10.0/brook-server.dll"
harness="tools/Brook.CrashHarness/bin/$config/net10.0/brook-crash-harness.dll"
[ -f "$server" ] || dotnet build src/Brook.Server -c "$config" -v quiet -nologo >/dev/null
[ -f "$harness" ] || dotnet build tools/Brook.CrashHarness -c "$config" -v quiet -nologo >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== crash test: $kills kills"
if ! dotnet "$harness" crash --server "$server" --work "$work" --kills "$kills" "${args[@]}"; then
  echo "--- server log (last 40 lines)"
  tail -40 "$work/server.log"
  exit 1
fi
