// Drives a broker with kafkajs for scripts/capture-fixtures.sh: CreateTopics, Metadata for the topic, one Produce
// per codec kafkajs ships (none, gzip) with keys k{i % 3} and values kafkajs_<codec>-{i}-<100 x>, then ListOffsets.
// Usage: node capture.js HOST:PORT TOPIC COUNT
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const [broker, topic, countText] = process.argv.slice(2);
const count = Number(countText || 10);

async function main() {
  const kafka = new Kafka({ clientId: 'kafkajs', brokers: [broker], logLevel: logLevel.WARN, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = kafka.producer();
  await producer.connect();
  for (const [codec, compression] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP]]) {
    const messages = [];
    for (let i = 1; i <= count; i++) messages.push({ key: 'k' + (i % 3), value: `kafkajs_${codec}-${i}-${'x'.repeat(100)}` });
    await producer.send({ topic, messages, compression });
  }
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  console.log(`kafkajs: ${topic} offsets ${JSON.stringify(offsets)}`);
}

main().catch((e) => { console.error('kafkajs capture failed:', e); process.exit(1); });
