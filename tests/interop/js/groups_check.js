// kafkajs consumer-group member driven by tests/interop/test_groups_kafkajs.py.
//
// Usage:
//   node groups_check.js member CONFIG_JSON
//       One group member. CONFIG_JSON: {bootstrap, name (client id), group, topic, fromBeginning,
//       commitEvery (0: only on command), sessionTimeout, heartbeatInterval}. Prints one JSON
//       event per line, each with t (wall-clock seconds):
//         {ev: "join", partitions, member_id}   joined a generation; owns exactly `partitions`
//         {ev: "rebalancing"}                    gave up its partitions to rejoin
//         {ev: "fetch"}                          first fetch after a join (positions are known)
//         {ev: "msg", p, o, v}                   one record (v: the first 40 bytes of the value)
//         {ev: "commit", offsets, id?}           offsets the broker accepted
//         {ev: "commit_failed", offsets, detail, id?}
//         {ev: "stopping", id} / {ev: "stopped", id}   around a clean disconnect (LeaveGroup)
//         {ev: "error", detail}                  the consumer crashed
//       Reads commands, one JSON object a line, on stdin:
//         {cmd: "commit", id, offsets?}  commit `offsets` ({partition: offset}) or the positions
//                                         of the owned partitions it consumed from
//         {cmd: "stop", id}              disconnect cleanly and exit 0
//   node groups_check.js committed HOST:PORT GROUP TOPIC
//       Prints {"offsets": {partition: offset}} committed by GROUP (admin fetchOffsets).
'use strict';

const readline = require('readline');
const { performance } = require('perf_hooks');
const { Kafka, logLevel } = require('kafkajs');

function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function emit(event) {
  process.stdout.write(JSON.stringify({ t: now(), ...event }) + '\n');
}

function client(bootstrap, clientId) {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 } });
}

class Member {
  constructor(cfg) {
    this.cfg = cfg;
    this.owned = new Set();
    this.positions = new Map();
    this.sinceCommit = 0;
    this.fetched = false;
    this.consumer = client(cfg.bootstrap, cfg.name).consumer({
      groupId: cfg.group,
      sessionTimeout: cfg.sessionTimeout,
      heartbeatInterval: cfg.heartbeatInterval,
      rebalanceTimeout: 20000,
      maxWaitTimeInMs: 100,
    });
    const { GROUP_JOIN, REBALANCING, FETCH, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => this.joined(e.payload));
    this.consumer.on(REBALANCING, () => this.lose('rebalancing'));
    this.consumer.on(FETCH, () => {
      if (!this.fetched) {
        this.fetched = true;
        emit({ ev: 'fetch' });
      }
    });
    this.consumer.on(CRASH, (e) => emit({ ev: 'error', detail: String(e.payload.error) }));
  }

  joined(payload) {
    this.owned = new Set(payload.memberAssignment[this.cfg.topic] || []);
    this.positions.clear();
    this.fetched = false;
    emit({ ev: 'join', partitions: [...this.owned], member_id: payload.memberId });
  }

  lose(ev, extra = {}) {
    this.owned = new Set();
    this.positions.clear();
    emit({ ev, ...extra });
  }

  currentPositions() {
    const out = {};
    for (const [p, o] of this.positions) if (this.owned.has(p)) out[p] = o;
    return out;
  }

  async commit(offsets, id) {
    const list = Object.entries(offsets).map(([p, o]) => ({ topic: this.cfg.topic, partition: Number(p),
      offset: String(o) }));
    try {
      if (list.length) await this.consumer.commitOffsets(list);
      emit({ ev: 'commit', offsets, id });
      this.sinceCommit = 0;
    } catch (e) {
      emit({ ev: 'commit_failed', offsets, id, detail: String(e) });
    }
  }

  async onMessage({ partition, message }) {
    const o = Number(message.offset);
    emit({ ev: 'msg', p: partition, o, v: message.value.toString('latin1', 0, 40) });
    this.positions.set(partition, o + 1);
    this.sinceCommit += 1;
    if (this.cfg.commitEvery && this.sinceCommit >= this.cfg.commitEvery) {
      await this.commit(this.currentPositions());
    }
  }

  async command(cmd) {
    if (cmd.cmd === 'commit') {
      await this.commit(cmd.offsets || this.currentPositions(), cmd.id);
    } else if (cmd.cmd === 'stop') {
      await this.stop(cmd.id);
    } else {
      emit({ ev: 'error', detail: `unknown command ${JSON.stringify(cmd)}` });
    }
  }

  async stop(id) {
    this.lose('stopping', { id });
    await this.consumer.disconnect();
    emit({ ev: 'stopped', id });
    process.exit(0);
  }

  async run() {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.cfg.topic], fromBeginning: this.cfg.fromBeginning });
    await this.consumer.run({ autoCommit: false, eachMessage: (m) => this.onMessage(m) });
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => this.command(JSON.parse(line)).catch((e) => emit({ ev: 'error', detail: String(e) })));
    rl.on('close', () => this.stop(null)); // the test went away
  }
}

async function committed(bootstrap, groupId, topic) {
  const admin = client(bootstrap, 'groups-check-admin').admin();
  await admin.connect();
  try {
    const got = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offsets = {};
    for (const t of got) {
      for (const p of t.partitions) if (Number(p.offset) >= 0) offsets[p.partition] = Number(p.offset);
    }
    process.stdout.write(JSON.stringify({ offsets }) + '\n');
  } finally {
    await admin.disconnect();
  }
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'member' && args.length === 1) return new Member(JSON.parse(args[0])).run();
  if (mode === 'committed' && args.length === 3) return committed(...args);
  throw new Error('usage: node groups_check.js member CONFIG_JSON | committed HOST:PORT GROUP TOPIC');
}

main().catch((e) => {
  process.stderr.write(`groups_check failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
