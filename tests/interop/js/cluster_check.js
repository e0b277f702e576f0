// kafkajs against a ZooKeeper cluster of samsa-server brokers: creates a topic through the first
// bootstrap broker, produces to every partition (so to every leader) with acks=all through the
// second, consumes everything in a consumer group through the third, and reads the group's
// committed offsets back through the admin client.
//
// Usage: node cluster_check.js BROKER1,BROKER2,BROKER3 TOPIC GROUP MESSAGES
//   (run by tests/interop/test_zk_clients.py)
// Prints one JSON line: {brokers, controller, leaders, consumed, ends, committed}; exits non-zero
// with a message on any error.
'use strict';

const { Kafka, logLevel } = require('kafkajs');

const PARTITIONS = 6;

function client(broker) {
  return new Kafka({ clientId: 'interop-kafkajs-cluster', brokers: [broker], logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200 } });
}

async function main() {
  const [list, topic, group, count] = process.argv.slice(2);
  const brokers = list.split(',');
  const messages = Number(count);
  const admin = client(brokers[0]).admin();
  await admin.connect();
  const created = await admin.createTopics({ waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 3 }] });
  if (!created) throw new Error(`topic ${topic} already existed`);
  const cluster = await admin.describeCluster();
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const leaders = md.topics[0].partitions.map((p) => p.leader);

  const producer = client(brokers[1]).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const batch = [];
  for (let i = 0; i < messages; i++) batch.push({ partition: i % PARTITIONS, key: `k${i}`, value: `v${i}` });
  await producer.send({ topic, acks: -1, messages: batch });
  await producer.disconnect();

  const consumer = client(brokers[2]).consumer({ groupId: group, maxWaitTimeInMs: 200, heartbeatInterval: 1000 });
  const consumed = new Set();
  let allIn;
  const done = new Promise((resolve) => { allIn = resolve; });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        consumed.add(message.value.toString());
        if (consumed.size === messages) allIn();
      },
    });
    const timeout = new Promise((_, reject) => setTimeout(
      () => reject(new Error(`consumed ${consumed.size} of ${messages} records in 60 s`)), 60000).unref());
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect(); // commits what was consumed
  }

  const ends = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
    .map((p) => Number(p.high));
  const fetched = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const committed = fetched[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  await admin.disconnect();
  console.log(JSON.stringify({ brokers: cluster.brokers.map((b) => b.nodeId).sort(), controller: cluster.controller,
    leaders, consumed: consumed.size, ends, committed }));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
