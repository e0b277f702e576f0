// kafkajs transactions (run by tests/interop/test_transactions.py): a committed transaction of
// "js-commit-<i>", an aborted one of "js-abort-<i>", then a committed one of "js-offsets-<i>"
// that also commits offset 7 of partition 0 of TOPIC for GROUP (sendOffsets). Prints
// {"done": true}.
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
  console.log(JSON.stringify({ done: true }));
}

main().catch((e) => { console.error(e); process.exit(1); });
