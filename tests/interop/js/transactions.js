// kafkajs transactions (run by tests/interop/test_transactions.py): a committed transaction of
// "js-commit-<i>", an aborted one of "js-abort-<i>", then a committed one of "js-offsets-<i>"
// that also commits offset 7 of partition 0 of TOPIC for GROUP (sendOffsets); then a kafkajs
// consumer (read_committed, its default) reads TOPIC from the beginning until nothing new comes
// for 2 s. Prints {"done": true, "read_committed": [values]}.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, group] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'interop-transactions', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                            retry: { retries: 10, initialRetryTime: 50 } });
  const producer = kafka.producer({ transactionalId: 'js-txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const batch = (prefix) => Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: `${prefix}-${i}`, partition: i % 3 }));
  let tx = await producer.transaction();
  await tx.send({ topic, messages: batch('js-commit') });
  await tx.commit();
  tx = await producer.transaction();
  await tx.send({ topic, messages: batch('js-abort') });
  await tx.abort();
  tx = await producer.transaction();
  await tx.send({ topic, messages: batch('js-offsets') });
  await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }] });
  await tx.commit();
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${group}-reader`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  let last = Date.now();
  await consumer.run({ eachMessage: async ({ message }) => { values.push(message.value.toString()); last = Date.now(); } });
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline && (values.length < 40 || Date.now() - last < 2000)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  console.log(JSON.stringify({ done: true, read_committed: values }));
}

main().catch((e) => { console.error(e); process.exit(1); });
