#!/usr/bin/env bash
# Captures real clients' request and response frames through tools/Brook.Capture (a recording proxy in front of
# the real Brook server) and copies a selection into tests/Brook.Protocol.Tests/Fixtures/captured/, rewriting
# that folder's README.md. This script is the source of truth for how each fixture was made.
#   librdkafka via kcat:            ApiVersions, Metadata, Produce per codec (-z), Fetch, ListOffsets
#   librdkafka via Confluent.Kafka: ApiVersions, Metadata, Produce per codec (brook-capture confluent-produce), Fetch
#   kafkajs:                        ApiVersions, CreateTopics, Metadata, Produce (none, gzip), ListOffsets
#   kafka-python (Debian python3-kafka, python3-lz4, python3-snappy, python3-zstandard): Produce per codec
# Every produced record has key k{i % 3} and value <family>_<codec>-{i}-<100 x>, i = 1..COUNT, in one batch. The
# padding makes the batch compressible: librdkafka sends a batch uncompressed when compression would not shrink it.
# Usage: scripts/capture-fixtures.sh [--keep-raw DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dest="tests/Brook.Protocol.Tests/Fixtures/captured"
count=10
pad="$(printf 'x%.0s' $(seq 1 100))"
codecs=(none gzip snappy lz4 zstd)
keep_raw=""
[ "${1:-}" = "--keep-raw" ] && keep_raw="$2"

command -v kcat >/dev/null && [ -d tests/clients/node/node_modules/kafkajs ] || bash scripts/setup-test-deps.sh
if ! /usr/bin/python3 -c 'import kafka, lz4, snappy, zstandard' 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-kafka python3-lz4 python3-snappy python3-zstandard >/dev/null
fi
dotnet build src/Brook.Server -c Release -v quiet -nologo >/dev/null
dotnet build tools/Brook.Capture -c Release -v quiet -nologo >/dev/null
server="src/Brook.Server/bin/Release/net10.0/brook-server.dll"
capture="tools/Brook.Capture/bin/Release/net10.0/brook-capture.dll"

work="$(mktemp -d)"
raw="$work/raw"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
broker_port="$(free_port)"
proxy_port="$(free_port)"
proxy="127.0.0.1:$proxy_port"
server_pid=""; proxy_pid=""
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -30 "$work/server.log"; echo "--- proxy log"; tail -30 "$work/proxy.log"; exit 1; }

wait_port() { # host port pid
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || fail "process $3 exited before listening on $2"
    sleep 0.1
  done
  fail "nothing listened on $1:$2 within 20 s"
}

# The broker tells clients to come back through the proxy, so every connection after bootstrap is recorded too.
dotnet "$server" --listeners "PLAINTEXT://127.0.0.1:$broker_port" --advertised-listeners "PLAINTEXT://$proxy" --in-memory >"$work/server.log" 2>&1 &
server_pid=$!
wait_port 127.0.0.1 "$broker_port" "$server_pid"
dotnet "$capture" proxy --listen "$proxy" --upstream "127.0.0.1:$broker_port" --out "$raw" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
wait_port 127.0.0.1 "$proxy_port" "$proxy_pid"

records() { # family codec: "key:value" lines
  for i in $(seq 1 "$count"); do echo "k$((i % 3)):$1_$2-$i-$pad"; done
}
kcat_x=(-X topic.metadata.propagation.max.ms=5000 -X linger.ms=500)

echo "== kcat (librdkafka) metadata"
kcat -b "$proxy" -X client.id=kcat_metadata -L -t captured-kcat-none >/dev/null 2>&1 || true
for codec in "${codecs[@]}"; do
  echo "== kcat produce -z $codec"
  records kcat "$codec" | kcat -b "$proxy" -X "client.id=kcat_$codec" "${kcat_x[@]}" -P -t "captured-kcat-$codec" -z "$codec" -K: \
    || fail "kcat -P -z $codec"
done
echo "== kcat consume (Fetch) and offsets (ListOffsets)"
got="$(kcat -b "$proxy" -X client.id=kcat_fetch -C -t captured-kcat-zstd -o beginning -e -q -f '%s\n')" || fail "kcat -C"
[ "$(echo "$got" | wc -l)" -eq "$count" ] || fail "kcat -C read: $got"
kcat -b "$proxy" -X client.id=kcat_offsets -Q -t captured-kcat-zstd:0:-1 >/dev/null || fail "kcat -Q"

for codec in "${codecs[@]}"; do
  echo "== Confluent.Kafka produce $codec"
  dotnet "$capture" confluent-produce --bootstrap "$proxy" --topic "captured-confluent-$codec" --codec "$codec" \
    --client-id "confluent_$codec" --count "$count" || fail "Confluent.Kafka produce $codec"
done

echo "== Confluent.Kafka consume (Fetch)"
dotnet "$capture" confluent-consume --bootstrap "$proxy" --topic captured-confluent-zstd --client-id confluent_fetch --count "$count" \
  || fail "Confluent.Kafka consume"

for codec in "${codecs[@]}"; do
  echo "== kafka-python produce $codec"
  /usr/bin/python3 tests/clients/python/capture_kafka_python.py "$proxy" "$codec" "$count" || fail "kafka-python produce $codec"
done

echo "== kafkajs"
node tests/clients/node/capture.js "$proxy" captured-kafkajs "$count" || fail "kafkajs"

kill "$proxy_pid"; wait "$proxy_pid" || true; proxy_pid=""
[ -n "$keep_raw" ] && { rm -rf "$keep_raw"; cp -r "$raw" "$keep_raw"; echo "raw captures kept in $keep_raw"; }

# ---- selection: the first answered request of an API from a client (lowest sequence number), with its response.
rm -f "$dest"/*.bin
mkdir -p "$dest"
selected=()
pick() { # client-label api [nth match] [text the request must contain]
  local nth="${3:-1}" file
  file="$(cd "$raw" && ls -1 "$1-$2-v"*.req.bin 2>/dev/null | sort -t- -k4,4n \
    | while read -r f; do [ -f "${f%.req.bin}.resp.bin" ] || continue; if [ -z "${4:-}" ] || grep -qF "$4" "$f"; then echo "$f"; fi; done | sed -n "${nth}p")"
  [ -n "$file" ] || fail "no $2 request captured from $1"
  cp "$raw/$file" "$dest/"
  selected+=("$file")
  local resp="${file%.req.bin}.resp.bin"
  cp "$raw/$resp" "$dest/"; selected+=("$resp")
}
pick kcat_metadata ApiVersions
pick kcat_metadata Metadata 1 captured-kcat-none
for codec in "${codecs[@]}"; do pick "kcat_$codec" Produce; done
pick kcat_fetch Fetch
pick kcat_offsets ListOffsets
for codec in "${codecs[@]}"; do pick "confluent_$codec" Produce; done
for codec in "${codecs[@]}"; do pick "kafkapython_$codec" Produce; done
pick confluent_fetch Fetch
pick confluent_none ApiVersions
pick confluent_none Metadata 1 captured-confluent-none
pick kafkajs ApiVersions
pick kafkajs CreateTopics
pick kafkajs Metadata 1 captured-kafkajs
pick kafkajs Produce 1
pick kafkajs Produce 2
pick kafkajs ListOffsets

# ---- README
kcat_version="$(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\) .*/kcat \1 (librdkafka \2)/p')"
confluent_version="Confluent.Kafka $(sed -n 's/.*"Confluent.Kafka" Version="\([^"]*\)".*/\1/p' Directory.Packages.props) (bundled librdkafka.redist)"
kafkapython_version="kafka-python $(/usr/bin/python3 -c 'import kafka; print(kafka.__version__)') (Debian python3-kafka) on Python $(/usr/bin/python3 -c 'import platform; print(platform.python_version())')"
kafkajs_version="kafkajs $(node -p "require('./tests/clients/node/node_modules/kafkajs/package.json').version") on node $(node --version)"
source_of() { # client label -> "client | command"
  case "$1" in
    kcat_metadata) echo "$kcat_version | \`kcat -b PROXY -X client.id=kcat_metadata -L -t captured-kcat-none\`" ;;
    kcat_fetch) echo "$kcat_version | \`kcat -b PROXY -X client.id=kcat_fetch -C -t captured-kcat-zstd -o beginning -e\`" ;;
    kcat_offsets) echo "$kcat_version | \`kcat -b PROXY -X client.id=kcat_offsets -Q -t captured-kcat-zstd:0:-1\`" ;;
    kcat_*) local c="${1#kcat_}"; echo "$kcat_version | \`kcat -b PROXY -X client.id=kcat_$c ${kcat_x[*]} -P -t captured-kcat-$c -z $c -K:\` fed $count lines \`k{i%3}:kcat_$c-{i}-<100 x>\`" ;;
    confluent_fetch) echo "$confluent_version | \`brook-capture confluent-consume --bootstrap PROXY --topic captured-confluent-zstd --client-id confluent_fetch --count $count\`" ;;
    confluent_*) local c="${1#confluent_}"; echo "$confluent_version | \`brook-capture confluent-produce --bootstrap PROXY --topic captured-confluent-$c --codec $c --client-id confluent_$c --count $count\`" ;;
    kafkapython_*) local c="${1#kafkapython_}"; echo "$kafkapython_version | \`/usr/bin/python3 tests/clients/python/capture_kafka_python.py PROXY $c $count\`" ;;
    kafkajs) echo "$kafkajs_version | \`node tests/clients/node/capture.js PROXY captured-kafkajs $count\`" ;;
  esac
}
{
  sed "s/@COUNT@/$count/" <<'HEAD'
# Captured client frames

Request and response frames (without the 4-byte size prefix) recorded by `tools/Brook.Capture` between real
Kafka clients and a Brook server (`--in-memory`, advertising the proxy's address). Written by
`scripts/capture-fixtures.sh`, which is the source of truth for the commands below; rerun it to regenerate this
folder. Names are `<client id>-<api>-v<version>-<n>.req.bin` / `.resp.bin`, where the client id is the one the
command set and `n` is the proxy's request count in that run; a response pairs with the request of the same name.
Produced records have key `k{i % 3}` and value `<client family>_<codec>-{i}-` followed by 100 `x` (so that the
batch compresses: librdkafka sends a batch uncompressed when compression would not make it smaller) for
i = 1..@COUNT@, one batch per Produce request.
`PROXY` is the recording proxy's address.

librdkafka decides from the ApiVersions answer whether the broker can take a codec and otherwise sends the batch
uncompressed (its debug log: "Broker does not support compression type gzip: not compressing batch"). Against
this broker LZ4 is off in both librdkafka builds (librdkafka ties it to FindCoordinator, which this broker does not
advertise yet), and librdkafka 2.0.2 (kcat) also refuses gzip and snappy: its log disables feature MsgVer1,
which it probes as Produce v2 and Fetch v2, below Brook's lowest versions (3 and 4); the newer librdkafka in
Confluent.Kafka compresses gzip and snappy against the same broker. So `kcat_gzip`, `kcat_snappy`, `kcat_lz4` and `confluent_lz4` hold
uncompressed batches of the records asked for; kafka-python supplies compressed batches for every codec.

| File | Client | Command |
| --- | --- | --- |
HEAD
  for f in "${selected[@]}"; do
    echo "| \`$f\` | $(source_of "${f%%-*}") |"
  done
} > "$dest/README.md"
echo "captured ${#selected[@]} files into $dest ($(du -sh "$dest" | cut -f1))"
