#!/usr/bin/python3
"""Transactions on three samsa-server brokers coordinated by a real ZooKeeper, where the
transaction coordinator (the leader of the transactional id's __transaction_state partition,
replication factor 3) is one broker and the topic's partitions are led by all three:

- confluent-kafka (librdkafka) commits and aborts transactions over six partitions of a
  replication-factor-3 topic: the coordinator sends WriteTxnMarkers to the other leaders, each
  leader checks the producer's first write to its partition with the coordinator
  (AddPartitionsToTxn from a broker, KIP-890); read_committed sees exactly the committed records.
- Kafka's Java client 4.x (transaction version 2: Produce v12 adds the partition through its
  leader, which asks the coordinator) commits, aborts and sends offsets.
- The coordinator stops between transactions: another broker, which replicated its partition
  of __transaction_state, takes the producer's next transactions.
- The coordinator is SIGKILLed between a commit's markers (failpoint txn-after-first-marker on
  that broker only): the partition's new leader replays the PrepareCommit record and finishes the
  commit on every partition, with no client asking; the killed broker comes back as a follower.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_zk_transactions.py
"""

import os
import json
import subprocess
import time
import unittest

import harness
from zk_cluster import start_three_brokers, wait_until
from test_zk_cluster import topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTITIONS = 6
STATE_PARTITIONS = 3
EXTRA = {"transaction.state.log.num.partitions": str(STATE_PARTITIONS), "offsets.topic.num.partitions": "3",
         "group.initial.rebalance.delay.ms": "0"}


def java_hash(s):
    """Java's String.hashCode, which Kafka's coordinator partitioning uses."""
    h = 0
    for ch in s:  # the ids here are ASCII: one UTF-16 unit each
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= (1 << 31) else h


def state_partition(txn_id):
    """Kafka's Utils.abs(hashCode) % partitions."""
    h = java_hash(txn_id)
    return (0 if h == -(1 << 31) else abs(h)) % STATE_PARTITIONS


def create_topic(bootstrap, name, brokers):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=3)],
                                   operation_timeout=30, request_timeout=30).values():
        fut.result(timeout=40)
    wait_until(f"{name} led with three in-sync replicas on every broker", lambda: all(
        (v := topic_view(b, name)) and len(v) == PARTITIONS and all(x[0] >= 0 and len(x[2]) == 3 for x in v.values())
        for b in brokers), timeout=30)


def read_values(bootstrap, topic, isolation, timeout=60):
    """Every record value of the topic under `isolation`, reading each partition to its end
    (read_committed: its last stable offset, which waits for the markers)."""
    conf = {"bootstrap.servers": bootstrap, "group.id": f"check-{isolation}-{time.monotonic_ns()}",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "isolation.level": isolation}
    return [m.value().decode() for m in harness.consume_to_end(conf, topic, range(PARTITIONS), timeout)]


def producer(bootstrap, txn_id, **extra):
    conf = {"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5}
    conf.update(extra)
    return Producer(conf)


def run_transactions(p, topic, tag, count, commit_every=2):
    """`count` transactions of 30 records over every partition, committing one in
    `commit_every` (the others flushed, then aborted): (committed values, aborted values)."""
    committed, aborted = [], []
    for t in range(count):
        p.begin_transaction()
        vals = [f"{tag}-{t}-{i}" for i in range(30)]
        for i, v in enumerate(vals):
            p.produce(topic, key=f"k{i}", value=v, partition=i % PARTITIONS)
        if t % commit_every == 0:
            p.commit_transaction(60)
            committed += vals
        else:
            assert p.flush(30) == 0
            p.abort_transaction(60)
            aborted += vals
    return committed, aborted


class ClusterCase(unittest.TestCase):
    FAILPOINT_BROKER = None

    @classmethod
    def setUpClass(cls):
        env = {cls.FAILPOINT_BROKER: {"SAMSA_FAILPOINT": "txn-after-first-marker"}} if cls.FAILPOINT_BROKER else None
        start_three_brokers(cls, EXTRA, cls.__name__.lower(), env_of=env)
        cls.boot = [cls.brokers[i].bootstrap for i in (1, 2, 3)]
        cls.all = ",".join(cls.boot)

    def tearDown(self):
        for i, b in self.brokers.items():
            if b.proc is not None and b.proc.poll() is not None and b.proc.returncode not in (0, -9):
                self.fail(f"broker {i} exited with {b.proc.returncode}: {b.log_text()[-3000:]}")
            self.assertNotRegex(b.log_text(), harness.SANITIZER_RE)

    def ensure_state_topic(self):
        """__transaction_state exists (InitProducerId of a throwaway id creates it) with a
        leader for each partition: {partition: leader}."""
        p = producer(self.all, "creates-the-state-topic")
        p.init_transactions(60)
        del p
        view = wait_until("__transaction_state led with three in-sync replicas", lambda: (
            v := topic_view(self.boot[0], "__transaction_state")) and len(v) == STATE_PARTITIONS and all(
            x[0] >= 0 and len(x[2]) == 3 for x in v.values()) and v, timeout=30)
        return {p: v[0] for p, v in view.items()}

    def coordinator_of(self, txn_id, live=None):
        view = topic_view((live or self.boot)[0], "__transaction_state")
        return view[state_partition(txn_id)][0]


class ZkTransactions(ClusterCase):
    def test_1_markers_reach_every_leader(self):
        topic = "spread"
        create_topic(self.boot[0], topic, self.boot)
        self.ensure_state_topic()
        coordinator = self.coordinator_of("spread-1")
        leaders = {v[0] for v in topic_view(self.boot[0], topic).values()}
        self.assertTrue(leaders - {coordinator}, f"every partition led by the coordinator {coordinator}")
        p = producer(self.boot[1], "spread-1")
        p.init_transactions(60)
        committed, aborted = run_transactions(p, topic, "t", 10)
        seen = read_values(self.boot[2], topic, "read_committed")
        self.assertEqual(sorted(seen), sorted(committed), "read_committed must see exactly the committed records")
        self.assertEqual(sorted(read_values(self.boot[0], topic, "read_uncommitted")), sorted(committed + aborted))

    def test_2_java_client_transaction_version_2(self):
        topic = "java-zk-txn"
        create_topic(self.boot[0], topic, self.boot)
        self.ensure_state_topic()
        r = subprocess.run(harness.java_command("transactions", self.all, topic, "java-zk-group"),
                           capture_output=True, text=True, timeout=180)
        if r.returncode != 0 and os.environ.get("SAMSA_JAVA_LOG"):
            with open("/tmp/samsa-java-txn.log", "w") as f:
                f.write(r.stderr)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:] + r.stdout)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        expected = [f"java-commit-{i}" for i in range(20)] + [f"java-offsets-{i}" for i in range(20)]
        self.assertEqual(sorted(result["read_committed"]), sorted(expected), "the Java client's read_committed")
        self.assertEqual(sorted(read_values(self.boot[1], topic, "read_committed")), sorted(expected))
        c = Consumer({"bootstrap.servers": self.all, "group.id": "java-zk-group"})
        try:
            self.assertEqual(c.committed([TopicPartition(topic, 0)], timeout=30)[0].offset, 7)
        finally:
            c.close()

    def test_3_the_coordinator_stops_between_transactions(self):
        topic = "moving"
        create_topic(self.boot[0], topic, self.boot)
        self.ensure_state_topic()
        coordinator = self.coordinator_of("moving-1")
        p = producer(self.all, "moving-1")
        p.init_transactions(60)
        committed, aborted = run_transactions(p, topic, "before", 4)
        self.brokers[coordinator].stop()
        live = [self.brokers[i].bootstrap for i in (1, 2, 3) if i != coordinator]
        moved = wait_until("another broker to lead the id's __transaction_state partition",
                           lambda: self.coordinator_of("moving-1", live) not in (-1, coordinator), timeout=40)
        self.assertTrue(moved)
        more, more_aborted = run_transactions(p, topic, "after", 4)
        committed += more
        seen = read_values(live[0], topic, "read_committed")
        self.assertEqual(sorted(seen), sorted(committed))
        self.assertEqual(sorted(read_values(live[1], topic, "read_uncommitted")),
                         sorted(committed + aborted + more_aborted))
        self.brokers[coordinator].restart()
        wait_until("the restarted broker back in every in-sync set of the topic", lambda: all(
            coordinator in v[2] for v in topic_view(self.boot[0], topic).values()), timeout=60)
        self.assertEqual(sorted(read_values(self.brokers[coordinator].bootstrap, topic, "read_committed")),
                         sorted(committed))


class CoordinatorKilledBetweenMarkers(ClusterCase):
    FAILPOINT_BROKER = 1

    def test_the_new_coordinator_finishes_the_commit(self):
        topic = "half-commit"
        create_topic(self.boot[0], topic, self.boot)
        leaders = self.ensure_state_topic()
        # An id that broker 1 coordinates; it leads two of the six partitions, so its second
        # local marker is where the failpoint stops it.
        txn_id = next(f"half-{n}" for n in range(1000) if leaders[state_partition(f"half-{n}")] == 1)
        self.assertGreaterEqual(sum(1 for v in topic_view(self.boot[0], topic).values() if v[0] == 1), 2)
        p = producer(self.boot[1], txn_id, **{"message.timeout.ms": 20000})
        p.init_transactions(60)
        p.begin_transaction()
        values = [f"half-{i}" for i in range(30)]
        for i, v in enumerate(values):
            p.produce(topic, value=v, partition=i % PARTITIONS)
        self.assertEqual(p.flush(30), 0)
        with self.assertRaises(KafkaException):
            p.commit_transaction(5)
        wait_until("the failpoint to stop broker 1", lambda: not self.brokers[1].alive(), timeout=20)
        self.assertIn("failpoint txn-after-first-marker reached", self.brokers[1].log_text())
        del p
        live = [self.brokers[i].bootstrap for i in (2, 3)]
        # Nobody asks for the id: the partition's new leader (once broker 1's session expires)
        # replays it on its own and sends the markers; read_committed consumers see the whole
        # transaction once they are committed on every partition.
        wait_until("the commit on every partition", lambda: sorted(
            read_values(live[0], topic, "read_committed")) == sorted(values), timeout=90)
        finished = [i for i in (2, 3) if "finishing 1 transaction(s) left committing or aborting"
                    in self.brokers[i].log_text()]
        self.assertEqual(len(finished), 1, f"brokers that finished the commit: {finished}")
        # The same producer id carries on through the new coordinator, and broker 1 returns
        # (without the failpoint) as a follower with every committed record.
        again = producer(",".join(live), txn_id)
        again.init_transactions(60)
        committed, _ = run_transactions(again, topic, "again", 2)
        self.brokers[1].env = None
        self.brokers[1].restart()
        wait_until("broker 1 back in every in-sync set of the topic", lambda: all(
            1 in v[2] for v in topic_view(live[0], topic).values()), timeout=90)
        self.assertEqual(sorted(read_values(self.brokers[1].bootstrap, topic, "read_committed")),
                         sorted(values + committed))


if __name__ == "__main__":
    harness.main()
