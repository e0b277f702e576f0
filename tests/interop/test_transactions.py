#!/usr/bin/python3
"""Transactions against samsa-server with real clients.

- confluent-kafka (librdkafka): init/begin/produce/commit and abort, alternately; a
  read_committed consumer sees every committed record once and no aborted one, a
  read_uncommitted one sees both.
- A second producer with the same transactional.id fences the first, whose open transaction is
  aborted.
- kafkajs: a committed, an aborted, and a committed transaction with sendOffsets; kafka-python 3
  (PyPI) and Kafka's Java client 4.4 (transaction version 2) the same with
  send_offsets_to_transaction; each read back by its own read_committed consumer.
- The broker SIGKILLed between a commit's markers (failpoint); `samsa transactions` against a
  hanging transaction, and consumer-groups lag to the last stable offset.
- A consume-transform-produce loop (txn_copier.py, send_offsets_to_transaction) SIGKILLed at
  random points SAMSA_TXN_KILLS times (default 6; 100 by hand): every input is copied exactly
  once.
- The broker SIGKILLed with a transaction open: after the restart a new producer instance aborts
  it, and read_committed consumers reach the end.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_transactions.py
"""

import json
import os
import random
import subprocess
import sys
import time

import harness

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
PARTITIONS = 3
KILLS = int(os.environ.get("SAMSA_TXN_KILLS", "6"))


def create_topic(bootstrap, name, partitions=PARTITIONS):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                   operation_timeout=20, request_timeout=20).values():
        fut.result(timeout=30)


def read_values(bootstrap, topic, isolation, timeout=60):
    """Every record value of the topic under `isolation`, reading until each partition's
    position reaches its end offset (read_committed: the last stable offset)."""
    conf = {"bootstrap.servers": bootstrap, "group.id": f"check-{isolation}-{time.monotonic_ns()}",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "isolation.level": isolation}
    return [m.value().decode() for m in harness.consume_to_end(conf, topic, timeout=timeout)]


class TransactionsTest(harness.BrokerTestCase):
    overrides = {"transaction.state.log.num.partitions": "4", "offsets.topic.num.partitions": "4",
                 "group.initial.rebalance.delay.ms": "0"}

    def producer(self, txn_id, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap, "transactional.id": txn_id, "linger.ms": 5}
        conf.update(extra)
        return Producer(conf)

    def test_commit_and_abort_with_confluent_kafka(self):
        topic = "ck-txn"
        create_topic(self.broker.bootstrap, topic)
        p = self.producer("ck-txn-1")
        p.init_transactions(30)
        committed, aborted = [], []
        for t in range(10):
            p.begin_transaction()
            vals = [f"t{t}-{i}" for i in range(30)]
            for i, v in enumerate(vals):
                p.produce(topic, key=f"k{i}", value=v, partition=i % PARTITIONS)
            if t % 2 == 0:
                p.commit_transaction(30)
                committed += vals
            else:
                # Flushed first, so the aborted records are in the log (unflushed ones librdkafka
                # would just drop).
                self.assertEqual(p.flush(30), 0)
                p.abort_transaction(30)
                aborted += vals
        seen = read_values(self.broker.bootstrap, topic, "read_committed")
        self.assertEqual(sorted(seen), sorted(committed), "read_committed must see exactly the committed records")
        self.assertEqual(len(seen), len(set(seen)))
        everything = read_values(self.broker.bootstrap, topic, "read_uncommitted")
        self.assertEqual(sorted(everything), sorted(committed + aborted))

    def test_a_new_instance_fences_the_old_one(self):
        topic = "ck-fence"
        create_topic(self.broker.bootstrap, topic)
        old = self.producer("ck-fence-1")
        old.init_transactions(30)
        old.begin_transaction()
        for i in range(10):
            old.produce(topic, value=f"zombie-{i}", partition=i % PARTITIONS)
        old.flush(30)
        new = self.producer("ck-fence-1")
        new.init_transactions(30)  # aborts the old instance's open transaction
        new.begin_transaction()
        new.produce(topic, value="fresh", partition=0)
        new.commit_transaction(30)
        with self.assertRaises(KafkaException) as ctx:
            old.commit_transaction(10)
        err = ctx.exception.args[0]
        self.assertTrue(err.fatal() or not err.retriable(), f"the fenced producer should fail for good: {err}")
        self.assertEqual(read_values(self.broker.bootstrap, topic, "read_committed"), ["fresh"])

    def run_external_transactions(self, who, argv, topic, prefix, group, timeout=120):
        """Runs a client program that commits "<prefix>-commit-<i>", aborts "<prefix>-abort-<i>" and
        commits "<prefix>-offsets-<i>" with offset 7 of partition 0 for `group`, then prints
        {"read_committed": [what its own read_committed consumer saw]}. Checks that consumer, ours,
        and the committed offset; returns the program's result."""
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:] + r.stdout)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        expected = [f"{prefix}-commit-{i}" for i in range(20)] + [f"{prefix}-offsets-{i}" for i in range(20)]
        self.assertEqual(sorted(result["read_committed"]), sorted(expected), f"{who}'s read_committed consumer")
        self.assertEqual(sorted(read_values(self.broker.bootstrap, topic, "read_committed")), sorted(expected))
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group})
        try:
            self.assertEqual(c.committed([TopicPartition(topic, 0)], timeout=30)[0].offset, 7)
        finally:
            c.close()
        return result

    def test_kafkajs_transactions_and_send_offsets(self):
        node = harness.require_program("node", "nodejs")
        if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
            harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test")
        topic = "js-txn"
        create_topic(self.broker.bootstrap, topic)
        result = self.run_external_transactions(
            "kafkajs", [node, os.path.join(JS_DIR, "transactions.js"), self.broker.bootstrap, topic, "js-group"],
            topic, "js", "js-group")
        self.assertTrue(result["done"])

    def test_kafka_python3_transactions(self):
        topic = "kp-txn"
        create_topic(self.broker.bootstrap, topic)
        self.run_external_transactions(
            "kafka-python",
            [harness.venv_python(), os.path.join(HERE, "kafka_python3_eos.py"), "transactions", self.broker.bootstrap,
             topic, "kp-group"],
            topic, "kp", "kp-group")

    def test_java_client_transactions(self):
        topic = "java-txn"
        create_topic(self.broker.bootstrap, topic)
        self.run_external_transactions(
            "the Java client", harness.java_command("transactions", self.broker.bootstrap, topic, "java-group"),
            topic, "java", "java-group", timeout=180)
        # The broker finalizes transaction.version 2: the Java client ran the version-2 flow,
        # one epoch bump per transaction (three transactions after InitProducerId's epoch 0).
        rc, out, err = self.cli("describe", "--transactional-id", "java-txn")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.table(out)[0]["ProducerEpoch"], "3")

    def test_consume_transform_produce_survives_sigkill(self):
        src, dst, group = "ctp-in", "ctp-out", "ctp-group"
        create_topic(self.broker.bootstrap, src)
        create_topic(self.broker.bootstrap, dst)
        # Enough input that the copier is still busy at the last kill (~700 copies a lifetime).
        inputs = [f"in-{i}" for i in range(max(3000, 800 * KILLS))]
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
        for i, v in enumerate(inputs):
            p.produce(src, value=v, partition=i % PARTITIONS)
            if i % 500 == 0:
                p.poll(0)
        self.assertEqual(p.flush(30), 0)
        copier = [sys.executable, os.path.join(HERE, "txn_copier.py"), self.broker.bootstrap, src, dst, group,
                  "copier-1"]
        rng = random.Random(12)
        for k in range(KILLS):
            proc = subprocess.Popen(copier + ["--pace", "0.05"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.8, 2.5))
            if proc.poll() is not None:
                self.fail(f"the copier exited early ({proc.returncode}): {proc.stderr.read()}")
            proc.kill()
            proc.wait()
            proc.stderr.close()
        r = subprocess.run(copier + ["--drain"], capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("drained", r.stdout)
        out = read_values(self.broker.bootstrap, dst, "read_committed")
        dupes = len(out) - len(set(out))
        self.assertEqual(dupes, 0, f"{dupes} input(s) copied more than once")
        self.assertEqual(sorted(out), sorted("copy-" + v for v in inputs), "every input copied exactly once")
        # Killed instances left aborted copies behind (a kill mid-transaction): read_uncommitted
        # sees more than that.
        aborted = len(read_values(self.broker.bootstrap, dst, "read_uncommitted")) - len(out)
        print(f"consume-transform-produce: {KILLS} kill(s), {aborted} aborted copies, {len(out)} committed",
              file=sys.stderr)
        if KILLS >= 3:
            self.assertGreater(aborted, 0, "no kill landed in an open transaction")

    def test_broker_sigkill_with_a_transaction_open(self):
        topic = "crash-txn"
        create_topic(self.broker.bootstrap, topic)
        p = self.producer("crash-1")
        p.init_transactions(30)
        p.begin_transaction()
        for i in range(30):
            p.produce(topic, value=f"committed-{i}", partition=i % PARTITIONS)
        p.commit_transaction(30)
        p.begin_transaction()
        for i in range(30):
            p.produce(topic, value=f"open-{i}", partition=i % PARTITIONS)
        self.assertEqual(p.flush(30), 0)
        del p
        self.broker.kill()
        self.broker.restart()
        # Still open after the restart: read_committed stops before it.
        committed = [f"committed-{i}" for i in range(30)]
        self.assertEqual(sorted(read_values(self.broker.bootstrap, topic, "read_committed")), sorted(committed))
        again = self.producer("crash-1")
        again.init_transactions(30)  # fences and aborts what the old instance left open
        again.begin_transaction()
        for i in range(30):
            again.produce(topic, value=f"after-{i}", partition=i % PARTITIONS)
        again.commit_transaction(30)
        # The aborted records no longer hold the last stable offset back.
        seen = read_values(self.broker.bootstrap, topic, "read_committed")
        self.assertEqual(sorted(seen), sorted(committed + [f"after-{i}" for i in range(30)]))
        self.assertEqual(len(read_values(self.broker.bootstrap, topic, "read_uncommitted")), 90)

    def test_broker_sigkill_between_a_commits_markers(self):
        """The broker dies after the PrepareCommit record and the first marker, before the
        others (failpoint txn-after-first-marker): after the restart the coordinator finishes
        the commit, and read_committed consumers of every partition see the whole transaction."""
        topic = "half-commit"
        create_topic(self.broker.bootstrap, topic)
        self.broker.stop()
        self.broker.env = {"SAMSA_FAILPOINT": "txn-after-first-marker"}
        self.broker.restart()
        p = self.producer("half-1", **{"message.timeout.ms": 10000})
        p.init_transactions(30)
        p.begin_transaction()
        values = [f"half-{i}" for i in range(30)]
        for i, v in enumerate(values):
            p.produce(topic, value=v, partition=i % PARTITIONS)
        self.assertEqual(p.flush(30), 0)
        with self.assertRaises(KafkaException):
            p.commit_transaction(5)
        deadline = time.monotonic() + 10
        while self.broker.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(self.broker.alive(), "the failpoint did not stop the broker")
        self.assertIn("failpoint txn-after-first-marker reached", self.broker.log_text())
        del p
        self.broker.env = None
        self.broker.restart()
        self.assertIn("finishing 1 transaction(s) left committing or aborting", self.broker.log_text())
        seen = read_values(self.broker.bootstrap, topic, "read_committed")
        self.assertEqual(sorted(seen), sorted(values), "the commit must complete on every partition")

    def cli(self, *args):
        r = subprocess.run([harness.samsa_cli(), "transactions", "--bootstrap-server", self.broker.bootstrap, *args],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def group_lag(self, group, topic, partition):
        """(LOG-END-OFFSET, LAG) of one partition in `samsa consumer-groups --describe`."""
        r = subprocess.run([harness.samsa_cli(), "consumer-groups", "--bootstrap-server", self.broker.bootstrap,
                            "--describe", "--group", group], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 6 and f[1] == topic and f[2] == str(partition):
                return f[4], f[5]
        self.fail(f"no row for {topic}-{partition}: {r.stdout}")

    @staticmethod
    def table(text):
        lines = [line.split("\t") for line in text.strip().splitlines()]
        head = [h.strip() for h in lines[0]]
        return [dict(zip(head, (c.strip() for c in row))) for row in lines[1:]]

    def test_cli_lists_describes_and_aborts(self):
        topic = "cli-txn"
        create_topic(self.broker.bootstrap, topic)
        p = self.producer("cli-1")
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(topic, value="hanging", partition=1)
        self.assertEqual(p.flush(30), 0)
        rc, out, err = self.cli("list")
        self.assertEqual(rc, 0, err)
        mine = [r for r in self.table(out) if r["TransactionalId"] == "cli-1"]
        self.assertEqual(len(mine), 1, out)
        self.assertEqual(mine[0]["TransactionState"], "Ongoing")
        rc, out, err = self.cli("describe", "--transactional-id", "cli-1")
        self.assertEqual(rc, 0, err)
        d = self.table(out)[0]
        self.assertEqual((d["TransactionState"], d["TopicPartitions"], d["CoordinatorId"]), ("Ongoing", f"{topic}-1", "0"))
        rc, out, err = self.cli("describe-producers", "--topic", topic, "--partition", "1")
        self.assertEqual(rc, 0, err)
        prod = self.table(out)[0]
        self.assertEqual(prod["CurrentTransactionStartOffset"], "0")
        self.assertEqual(prod["ProducerId"], mine[0]["ProducerId"])
        # consumer-groups measures lag to the last stable offset, held back by the hanging
        # transaction (the high watermark is 1).
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "cli-lag"})
        c.commit(offsets=[TopicPartition(topic, 1, 0)], asynchronous=False)
        c.close()
        self.assertEqual(self.group_lag("cli-lag", topic, 1), ("0", "0"))
        # The hanging transaction holds read_committed consumers back until it is aborted.
        rc, out, err = self.cli("abort", "--topic", topic, "--partition", "1", "--start-offset", "0")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.group_lag("cli-lag", topic, 1), ("2", "2"))
        rc, out, err = self.cli("describe-producers", "--topic", topic, "--partition", "1")
        self.assertEqual(self.table(out)[0]["CurrentTransactionStartOffset"], "None")
        self.assertEqual(read_values(self.broker.bootstrap, topic, "read_committed"), [])
        rc, out, err = self.cli("describe", "--transactional-id", "nope")
        self.assertEqual(rc, 1)
        self.assertIn("TRANSACTIONAL_ID_NOT_FOUND", err)
        rc, out, err = self.cli("abort", "--topic", topic, "--partition", "1", "--start-offset", "5")
        self.assertEqual(rc, 1)
        self.assertIn("No transaction", err)
        del p

if __name__ == "__main__":
    harness.main()
