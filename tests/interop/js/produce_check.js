// kafkajs against samsa-server: create topics with the admin client, produce 10,000 keyed messages
// with headers per codec (none and gzip, the ones kafkajs has without extra packages), then check
// metadata and that the end offsets add up to what was produced, per partition, and read
// everything back through a consumer group.
//
// Usage: node produce_check.js HOST:PORT [produce|offsets]   (run by tests/interop/test_kafkajs.py)
//   produce  (default) create the topics, produce, check metadata and offsets, consume
//   offsets  only check metadata, report the offsets of the topics produced before, consume
// Prints one JSON line with what it saw; exits non-zero with a message on any mismatch.
'use strict';

const assert = require('assert');
const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const MESSAGES = 10000;
const PARTITIONS = 3;
const CHUNK = 500;
const CODECS = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
];

function message(topic, i) {
  return {
    key: `key-${String(i % 97).padStart(3, '0')}`,
    value: `${topic}|${String(i).padStart(6, '0')}|` + 'kafkajs-payload '.repeat(1 + (i % 9)),
    headers: { idx: String(i), tag: topic },
  };
}

// Which partition kafkajs's own default partitioner puts each message in, so that the expected
// end offset of every partition is known before asking the broker.
function partitionsOf(topic, messages, partitionMetadata) {
  const partitioner = Partitioners.DefaultPartitioner();
  return messages.map((message) => partitioner({ topic, partitionMetadata, message }));
}

async function produceTopic(producer, admin, topic, compression) {
  const messages = [];
  for (let i = 0; i < MESSAGES; i++) messages.push(message(topic, i));
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const parts = partitionsOf(topic, messages, md.topics[0].partitions);
  const expected = new Array(PARTITIONS).fill(0);
  for (const p of parts) expected[p] += 1;
  const running = new Array(PARTITIONS).fill(0);
  for (let at = 0; at < MESSAGES; at += CHUNK) {
    const result = await producer.send({ topic, compression, acks: -1, messages: messages.slice(at, at + CHUNK) });
    for (const r of result) {
      assert.strictEqual(r.errorCode, 0, `${topic}: produce error ${r.errorCode} on partition ${r.partition}`);
      // Each batch lands right after the previous one of its partition.
      assert.strictEqual(Number(r.baseOffset), running[r.partition],
        `${topic}: partition ${r.partition} base offset ${r.baseOffset}, expected ${running[r.partition]}`);
    }
    for (const p of parts.slice(at, at + CHUNK)) running[p] += 1;
  }
  assert.deepStrictEqual(running, expected);
  return expected;
}

async function checkOffsets(admin, topic, expected) {
  const offsets = await admin.fetchTopicOffsets(topic);
  assert.strictEqual(offsets.length, PARTITIONS, `${topic}: ${offsets.length} partitions in ListOffsets`);
  let total = 0;
  for (const o of offsets) {
    assert.strictEqual(Number(o.low), 0, `${topic}/${o.partition}: log start offset ${o.low}`);
    assert.strictEqual(Number(o.high), expected[o.partition],
      `${topic}/${o.partition}: end offset ${o.high}, produced ${expected[o.partition]}`);
    assert.strictEqual(o.offset, o.high);
    total += Number(o.high) - Number(o.low);
  }
  assert.strictEqual(total, MESSAGES, `${topic}: end offsets add up to ${total}, produced ${MESSAGES}`);
  return offsets.map((o) => [o.partition, Number(o.low), Number(o.high)]);
}

async function checkMetadata(admin, topics) {
  const md = await admin.fetchTopicMetadata({ topics });
  assert.strictEqual(md.topics.length, topics.length);
  for (const t of md.topics) {
    assert.ok(topics.includes(t.name), `unexpected topic ${t.name}`);
    const ids = t.partitions.map((p) => p.partitionId).sort();
    assert.deepStrictEqual(ids, [...Array(PARTITIONS).keys()], `${t.name}: partition ids ${ids}`);
    for (const p of t.partitions) {
      assert.strictEqual(p.partitionErrorCode, 0, `${t.name}/${p.partitionId}: error ${p.partitionErrorCode}`);
      assert.ok(p.leader >= 0, `${t.name}/${p.partitionId}: no leader`);
      assert.deepStrictEqual(p.replicas, [p.leader]);
      assert.deepStrictEqual(p.isr, [p.leader]);
    }
  }
  const cluster = await admin.describeCluster();
  assert.strictEqual(cluster.brokers.length, 1, `describeCluster: ${JSON.stringify(cluster.brokers)}`);
  return cluster;
}

// Checks one consumed record against what message(topic, i) produced; returns i.
function checkRecord(topic, partition, record) {
  const value = record.value.toString();
  const m = /^([^|]+)\|(\d{6})\|/.exec(value);
  assert.ok(m && m[1] === topic, `${topic}/${partition}: value ${value.slice(0, 40)} is not from this topic`);
  const i = Number(m[2]);
  const want = message(topic, i);
  assert.strictEqual(value, want.value, `${topic}: value of message ${i}`);
  assert.strictEqual(record.key.toString(), want.key, `${topic}: key of message ${i}`);
  const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, v.toString()]));
  assert.deepStrictEqual(headers, want.headers, `${topic}: headers of message ${i}`);
  return i;
}

// Reads both topics from the beginning through a fresh consumer group and checks every record:
// content, each message exactly once, offsets 0..n-1 in order per partition, per-key produce order.
// Returns the number of records per partition of each topic.
async function consumeAll(kafka, topics, mode) {
  const consumer = kafka.consumer({ groupId: `interop-kafkajs-${mode}-${Date.now()}`, maxWaitTimeInMs: 200,
    heartbeatInterval: 1000 });
  const seen = {};
  const next = {};
  const lastOfKey = {};
  let total = 0;
  let failure = null;
  for (const t of topics) {
    seen[t] = new Set();
    next[t] = new Array(PARTITIONS).fill(0);
    lastOfKey[t] = new Map();
  }
  let allIn;
  const done = new Promise((resolve) => { allIn = resolve; });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message: record }) => {
        try {
          const offset = Number(record.offset);
          assert.strictEqual(offset, next[topic][partition],
            `${topic}/${partition}: offset ${offset}, expected ${next[topic][partition]}`);
          next[topic][partition] = offset + 1;
          const i = checkRecord(topic, partition, record);
          assert.ok(!seen[topic].has(i), `${topic}: message ${i} consumed twice`);
          seen[topic].add(i);
          const key = record.key.toString();
          const keyAt = lastOfKey[topic].get(key);
          assert.ok(!keyAt || (keyAt.partition === partition && keyAt.i < i),
            `${topic}: key ${key} out of produce order or in two partitions (message ${i})`);
          lastOfKey[topic].set(key, { partition, i });
        } catch (e) {
          failure = failure || e;
        }
        total += 1;
        if (failure || total === topics.length * MESSAGES) allIn();
      },
    });
    const timeout = new Promise((_, reject) => setTimeout(
      () => reject(new Error(`consumed ${total} of ${topics.length * MESSAGES} records in 120 s`)), 120000).unref());
    await Promise.race([done, timeout]);
    // A little longer: anything more would be a duplicate or a record nobody produced.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  if (failure) throw failure;
  assert.strictEqual(total, topics.length * MESSAGES, `consumed ${total} records`);
  for (const t of topics) assert.strictEqual(seen[t].size, MESSAGES, `${t}: ${seen[t].size} distinct messages`);
  return Object.fromEntries(topics.map((t) => [t, next[t]]));
}

async function main() {
  const bootstrap = process.argv[2];
  const mode = process.argv[3] || 'produce';
  assert.ok(bootstrap && ['produce', 'offsets'].includes(mode),
    'usage: node produce_check.js HOST:PORT [produce|offsets]');
  const kafka = new Kafka({ clientId: 'interop-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN,
    retry: { retries: 3 } });
  const admin = kafka.admin();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await admin.connect();
  await producer.connect();
  const report = { topics: {} };
  try {
    const topics = CODECS.map(([name]) => `js-${name}`);
    if (mode === 'produce') {
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
      });
      assert.strictEqual(created, true, 'createTopics reported that the topics already existed');
    }
    const listed = await admin.listTopics();
    for (const t of topics) assert.ok(listed.includes(t), `listTopics lacks ${t}: ${listed}`);
    for (const [name, compression] of CODECS) {
      const topic = `js-${name}`;
      if (mode === 'produce') {
        const expected = await produceTopic(producer, admin, topic, compression);
        report.topics[topic] = { expected, offsets: await checkOffsets(admin, topic, expected) };
      } else {
        const offsets = await admin.fetchTopicOffsets(topic);
        report.topics[topic] = { offsets: offsets.map((o) => [o.partition, Number(o.low), Number(o.high)]) };
      }
    }
    const cluster = await checkMetadata(admin, topics);
    report.controller = cluster.controller;
    report.consumed = await consumeAll(kafka, topics, mode);
    for (const t of topics) {
      const ends = [...report.topics[t].offsets].sort((a, b) => a[0] - b[0]).map(([, , high]) => high);
      assert.deepStrictEqual(report.consumed[t], ends, `${t}: records consumed per partition vs end offsets`);
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`kafkajs check failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
