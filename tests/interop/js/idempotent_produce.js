// An idempotent kafkajs producer (run by tests/interop/test_idempotence.py): sends COUNT keyed
// records "js-<i>" (key "key-<i % KEYS>") in sends of 50, one after another, and prints
// {"acked": n} once every send is acknowledged.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, countArg, keysArg] = process.argv.slice(2);
  const count = parseInt(countArg, 10);
  const keys = parseInt(keysArg, 10);
  const kafka = new Kafka({ clientId: 'interop-idempotent', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                            retry: { retries: 10, initialRetryTime: 50 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let acked = 0;
  for (let i = 0; i < count; i += 50) {
    const messages = [];
    for (let j = i; j < Math.min(i + 50, count); j++) messages.push({ key: `key-${j % keys}`, value: `js-${j}` });
    const res = await producer.send({ topic, acks: -1, messages });
    for (const r of res) if (r.errorCode !== 0) throw new Error(`send failed: ${JSON.stringify(r)}`);
    acked += messages.length;
  }
  await producer.disconnect();
  console.log(JSON.stringify({ acked }));
}

main().catch((e) => { console.error(e); process.exit(1); });
