// Drives a running Brook with kafkajs (a client that never uses flexible versions):
// admin create/list/metadata, produce with keys and headers, offsets, and a group consumer.
// Usage: node smoke.js HOST:PORT TOPIC COUNT
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const [broker, topic, countText] = process.argv.slice(2);
const count = Number(countText || 100);

async function main() {
  const kafka = new Kafka({ clientId: 'brook-smoke', brokers: [broker], logLevel: logLevel.WARN, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  if (!created) throw new Error('createTopics reported the topic already existed');
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  if (metadata.topics[0].partitions.length !== 2) throw new Error('expected 2 partitions, got ' + metadata.topics[0].partitions.length);

  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ key: 'k' + (i % 7), value: 'kafkajs-' + i, headers: { seq: String(i) } });
  await producer.send({ topic, messages, compression: CompressionTypes.GZIP });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  if (total !== count) throw new Error(`expected ${count} records in the log, offsets say ${total}`);

  {
    const consumer = kafka.consumer({ groupId: 'smoke-' + Date.now() });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set();
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of ${count} before the deadline`)), 30000);
      consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value.toString() !== 'kafkajs-' + message.headers.seq.toString()) reject(new Error('header and value disagree'));
          seen.add(message.value.toString());
          if (seen.size === count) { clearTimeout(timer); resolve(); }
        },
      });
    });
    await consumer.disconnect();
  }
  await admin.disconnect();
  console.log(`kafkajs: created ${topic}, produced ${count}, offsets agree, consumed all in a group`);
}

main().catch((e) => { console.error('kafkajs smoke failed:', e); process.exit(1); });
