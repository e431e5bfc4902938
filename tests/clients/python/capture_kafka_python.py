"""Produces one batch with kafka-python (Debian python3-kafka) for scripts/capture-fixtures.sh.

Keys k{i % 3}, values kafkapython_<codec>-{i}-<100 x>, i = 1..COUNT, to topic captured-kafkapython-<codec>.
Usage: /usr/bin/python3 capture_kafka_python.py HOST:PORT CODEC COUNT
"""
import sys

from kafka import KafkaProducer

broker, codec, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
producer = KafkaProducer(
    bootstrap_servers=broker,
    client_id=f"kafkapython_{codec}",
    compression_type=None if codec == "none" else codec,
    api_version=(2, 1, 0),
    linger_ms=500,
    batch_size=1 << 20,
)
futures = [
    producer.send(f"captured-kafkapython-{codec}", key=f"k{i % 3}".encode(), value=f"kafkapython_{codec}-{i}-{'x' * 100}".encode())
    for i in range(1, count + 1)
]
producer.flush(30)
offsets = [f.get(timeout=30).offset for f in futures]
producer.close()
print(f"kafka-python: {len(offsets)} records with {codec}, offsets {offsets[0]}..{offsets[-1]}")
