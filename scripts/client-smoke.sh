#!/usr/bin/env bash
# Starts the real Brook server (a built brook-server) on a free port with a fresh data directory and drives it
# with kcat (librdkafka), kafkajs and the brook CLI: metadata, produce, consume, restart. Exits non-zero on the first mismatch.
# Usage: scripts/client-smoke.sh [Debug|Release]
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-Release}"
server="src/Brook.Server/bin/$config/net10.0/brook-server.dll"
[ -f "$server" ] || dotnet build src/Brook.Server -c "$config" >/dev/null

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
bootstrap="127.0.0.1:$port"
http_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
sasl_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_server() {
  dotnet "$server" --listeners "PLAINTEXT://$bootstrap,SASL_PLAINTEXT://127.0.0.1:$sasl_port" --data-dir "$work/data" --http "http://127.0.0.1:$http_port" >>"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if kcat -b "$bootstrap" -L -m 1 >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
    sleep 0.1
  done
  echo "server did not answer metadata within 10 s"; cat "$work/server.log"; exit 1
}
fail() { echo "FAIL: $*"; echo "--- server log"; tail -50 "$work/server.log"; exit 1; }

start_server
echo "== kcat metadata"
kcat -b "$bootstrap" -L -m 5 | grep -q "1 brokers" || fail "kcat -L did not list the broker"

echo "== kcat produce and consume (auto-created topic, snappy)"
seq 1 1000 | sed 's/^/line-/' > "$work/in.txt"
kcat -b "$bootstrap" -P -t kcat-lines -z snappy -K: -X topic.metadata.propagation.max.ms=5000 < <(awk '{print "key" NR%5 ":" $0}' "$work/in.txt") || fail "kcat -P"
kcat -b "$bootstrap" -C -t kcat-lines -o beginning -e -q -f '%s\n' > "$work/out.txt" || fail "kcat -C"
diff <(sort "$work/in.txt") <(sort "$work/out.txt") >/dev/null || fail "kcat consumed $(wc -l < "$work/out.txt") lines, not the 1000 produced"

echo "== brook CLI sees the topic and its 1000 records"
cli="src/Brook.Cli/bin/$config/net10.0/brook.dll"
[ -f "$cli" ] || dotnet build src/Brook.Cli -c "$config" >/dev/null
topics="$(dotnet "$cli" topics list -b "$bootstrap" --no-headers)" || fail "brook topics list"
grep -q "^kcat-lines"$'\t' <<<"$topics" || fail "brook topics list does not show kcat-lines"
records="$(dotnet "$cli" topics describe kcat-lines -b "$bootstrap" --no-headers | awk -F'\t' '{ n += $8 } END { print n }')"
[ "$records" = "1000" ] || fail "brook topics describe counts $records records in kcat-lines, not 1000"

echo "== kcat -G: two balanced consumers in one group share a 4-partition topic"
node -e "
const { Kafka, logLevel } = require('./tests/clients/node/node_modules/kafkajs');
const admin = new Kafka({ brokers: ['$bootstrap'], logLevel: logLevel.NOTHING }).admin();
admin.connect().then(() => admin.createTopics({ topics: [{ topic: 'kcat-group', numPartitions: 4 }] })).then(() => admin.disconnect());
" || fail "creating kcat-group"
seq 1 2000 | sed 's/^/g-/' > "$work/group-in.txt"
awk '{print "k" NR ":" $0}' "$work/group-in.txt" | kcat -b "$bootstrap" -P -t kcat-group -K: || fail "kcat -P kcat-group"
consumers=()
for c in 1 2; do
  timeout 60 kcat -b "$bootstrap" -G smoke-group -o beginning -e -q -f '%s\n' -X session.timeout.ms=10000 kcat-group > "$work/group-out-$c.txt" 2>"$work/group-err-$c.txt" &
  consumers+=($!)
done
wait "${consumers[@]}" || true
for c in 1 2; do [ -s "$work/group-out-$c.txt" ] || fail "group consumer $c received nothing: $(cat "$work/group-err-$c.txt")"; done
diff <(sort -u "$work/group-in.txt") <(cat "$work"/group-out-*.txt | sort -u) >/dev/null || fail "the two group consumers together did not read all 2000 messages"
echo "  consumer 1: $(wc -l < "$work/group-out-1.txt") messages, consumer 2: $(wc -l < "$work/group-out-2.txt")"

echo "== kcat (Debian's librdkafka) logs in with SCRAM-SHA-256 and SCRAM-SHA-512"
for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
  dotnet "$cli" users upsert smoke-user --password smoke-secret --mechanism "$mechanism" -b "$bootstrap" >/dev/null || fail "brook users upsert ($mechanism)"
  echo "scram:$mechanism" | kcat -b "127.0.0.1:$sasl_port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms="$mechanism" \
    -X sasl.username=smoke-user -X sasl.password=smoke-secret -P -t kcat-scram -K: || fail "kcat SCRAM login and produce ($mechanism)"
done
scram_out="$(kcat -b "127.0.0.1:$sasl_port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=smoke-user \
  -X sasl.password=smoke-secret -C -t kcat-scram -o beginning -e -q -f '%s\n')" || fail "kcat SCRAM consume"
[ "$(wc -l <<<"$scram_out")" = "2" ] || fail "kcat over SCRAM read '$scram_out', not two records"

echo "== kafkajs"
node tests/clients/node/smoke.js "$bootstrap" kafkajs-topic 500 || fail "kafkajs"

echo "== metrics and health"
curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null || fail "/health/ready"
curl -sf "http://127.0.0.1:$http_port/health" >/dev/null || fail "/health"
metrics="$(curl -sf "http://127.0.0.1:$http_port/metrics")" || fail "/metrics"
grep -q '^brook_topic_messages_in_total{topic="kcat-lines"} 1000$' <<<"$metrics" || fail "/metrics does not count the 1000 kcat records"
promtool check metrics <<<"$metrics" || fail "promtool check metrics finds problems in /metrics"
promtool check rules deploy/prometheus/brook-alerts.yml >/dev/null || fail "promtool check rules finds problems in deploy/prometheus/brook-alerts.yml"

echo "== restart keeps the data"
kill -TERM "$pid"; wait "$pid" || true; pid=""
start_server
kcat -b "$bootstrap" -C -t kcat-lines -o beginning -e -q -f '%s\n' > "$work/out2.txt" || fail "kcat -C after restart"
diff <(sort "$work/in.txt") <(sort "$work/out2.txt") >/dev/null || fail "after restart kcat read $(wc -l < "$work/out2.txt") lines, not 1000"
echo "client smoke: ok"
