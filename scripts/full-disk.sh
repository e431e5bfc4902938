#!/usr/bin/env bash
# Full disk: runs the real brook-server with its data directory on a small tmpfs (most of it taken by a filler file)
# and produces with Confluent.Kafka until the disk is full (tools/Brook.CrashHarness, command full-disk). Checks that
# producers get KAFKA_STORAGE_ERROR while the broker keeps running, reads and restarts keep working on the full disk,
# nothing refused shows up, and writes resume after a topic or the filler file is deleted.
# Mounting needs root (or CAP_SYS_ADMIN); where that is refused the check is skipped, saying so, with exit code 0.
# Usage: scripts/full-disk.sh [Debug|Release] [--short]     (--short: a smaller disk, for CI)
set -euo pipefail
cd "$(dirname "$0")/.."
config="Release"
size_mb=64
filler_mb=40
for arg in "$@"; do
  case "$arg" in
    --short) size_mb=32; filler_mb=20 ;;
    Debug|Release) config="$arg" ;;
    *) echo "usage: scripts/full-disk.sh [Debug|Release] [--short]" >&2; exit 2 ;;
  esac
done
server="src/Brook.Server/bin/$config/net10.0/brook-server.dll"
harness="tools/Brook.CrashHarness/bin/$config/net10.0/brook-crash-harness.dll"
[ -f "$server" ] || dotnet build src/Brook.Server -c "$config" -v quiet -nologo >/dev/null
[ -f "$harness" ] || dotnet build tools/Brook.CrashHarness -c "$config" -v quiet -nologo >/dev/null

work="$(mktemp -d)"
mnt="$work/mnt"
mkdir "$mnt"
if ! mount -t tmpfs -o "size=${size_mb}m" tmpfs "$mnt" 2>"$work/mount.err"; then
  echo "SKIP full-disk check: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): $(tr '\n' ' ' < "$work/mount.err")"
  rm -rf "$work"
  exit 0
fi
cleanup() { umount -l "$mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dd if=/dev/zero of="$mnt/filler" bs=1M count="$filler_mb" status=none 2>/dev/null || true
echo "== full disk: ${size_mb} MiB tmpfs, ${filler_mb} MiB filler"
if ! dotnet "$harness" full-disk --server "$server" --mount "$mnt" --filler "$mnt/filler" --log "$work/server.log"; then
  echo "--- server log (last 40 lines)"
  tail -40 "$work/server.log"
  exit 1
fi
