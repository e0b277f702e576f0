#!/usr/bin/python3
"""Replicated partitions on three samsa-server brokers coordinated by a real ZooKeeper: the
followers' replica fetchers pull every batch from the leaders, so with replication factor 3 and
acks=all (confluent-kafka) every acknowledged record is read back exactly once through another
broker, and every replica's segment file ends up byte-identical to its leader's.

The divergence case of Kafka's replication design: a leader appends records its followers never
fetch (they are stopped; acks=1), is killed, a follower becomes leader in a new epoch and takes
more (acks=all); the old leader restarts as a follower, is told by the new leader's Fetch answer
where their logs fork (diverging epoch), truncates its unreplicated records and fetches the new
ones: all three logs agree, and nothing acknowledged is lost.

In-sync replicas (replica.lag.time.max.ms 2 s here): while 100k records are produced with
acks=all, a follower stopped past the lag leaves the ISR and the produce carries on without it;
continued, it catches up and joins again before the producer is done. With
min.insync.replicas=2 and both followers stopped, acks=all gets NOT_ENOUGH_REPLICAS (kafka-python,
no retries); every acknowledged record is read back once and the replicas end byte-identical.

A follower stopped while the leader's log start moves past its log end (DeleteRecords, inside a
batch) is answered OFFSET_OUT_OF_RANGE when it returns: its log starts over at the batch holding
the leader's log start, and from there is the leader's tail byte for byte.

An idempotent producer goes on through a leader stopped with batches in flight: the followers
rebuilt the producer state from the replicated batches, so the new leader accepts the next
sequence numbers and recognises retried ones; every record is stored once.

With inter.broker.listener.name naming the second of two listeners, and the first one advertised
at an address nobody listens on, controller requests and replica fetches must use the named one:
a topic of replication factor 3 still gets leaders and acks=all is still answered.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_replication.py
"""

import glob
import json
import os
import subprocess
import signal
import threading
import time
import unittest

import harness
from zk_cluster import ZooKeeper, _free_port, cluster_overrides, start_three_brokers, wait_until
from test_zk_cluster import metadata, topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

EXTRA = {"offsets.topic.replication.factor": "1", "group.initial.rebalance.delay.ms": "0"}


def segment_bytes(broker, topic, partition):
    """The concatenated .log segment files of that replica, in offset order."""
    files = sorted(glob.glob(os.path.join(broker.data_dir, f"{topic}-{partition}", "*.log")))
    out = b""
    for f in files:
        with open(f, "rb") as fh:
            out += fh.read()
    return out


class Replication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_three_brokers(cls, EXTRA, "replication")

    def tearDown(self):
        for i, b in self.brokers.items():
            if b.proc is not None and b.proc.poll() is None:
                os.kill(b.proc.pid, signal.SIGCONT)  # never leave one stopped
            if b.proc is not None and b.proc.poll() is not None and b.proc.returncode not in (0, -9):
                self.fail(f"broker {i} died with status {b.proc.returncode}\n{b.log_tail()}")

    def live_bootstrap(self):
        return ",".join(b.bootstrap for b in self.brokers.values() if b.alive())

    def create(self, topic, partitions):
        admin = AdminClient({"bootstrap.servers": self.brokers[1].bootstrap})
        for _, f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=3)],
                                        operation_timeout=30).items():
            f.result(timeout=60)
        wait_until(f"{topic} to be led on every broker", lambda: all(
            (v := topic_view(b, topic)) and len(v) == partitions and all(p[0] >= 0 for p in v.values())
            for b in [b.bootstrap for b in self.brokers.values()]), timeout=30)

    def produce(self, topic, values, acks, partition=None, bootstrap=None):
        """Produces `values`; returns {value: (partition, offset)} of the acknowledged ones and the
        errors of the others."""
        p = Producer({"bootstrap.servers": bootstrap or self.live_bootstrap(), "acks": acks, "linger.ms": 5,
                      "message.timeout.ms": 30000, "enable.idempotence": False})
        acked, errors = {}, []

        def done(err, msg):
            if err is None:
                acked[msg.value()] = (msg.partition(), msg.offset())
            else:
                errors.append(err)
        for v in values:
            kw = {} if partition is None else {"partition": partition}
            p.produce(topic, v, on_delivery=done, **kw)
            p.poll(0)
        p.flush(60)
        return acked, errors

    def consume_all(self, topic, partitions, bootstrap, expect):
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{topic}-{time.monotonic_ns()}",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
        seen = []
        try:
            c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
            deadline = time.monotonic() + 60
            while len(seen) < expect and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    seen.append(m.value())
            # Anything beyond what was expected would be a duplicate or a lost write resurrected.
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                m = c.poll(0.2)
                if m is not None and not m.error():
                    seen.append(m.value())
        finally:
            c.close()
        return seen

    def wait_identical(self, topic, partitions):
        def same():
            total = 0
            for p in range(partitions):
                logs = [segment_bytes(b, topic, p) for b in self.brokers.values()]
                if any(l != logs[0] for l in logs):
                    return False
                total += len(logs[0])
            return total > 0
        wait_until(f"every replica of {topic} to match its leader byte for byte", same, timeout=30, interval=0.3)

    def test_1_acks_all_rf3_every_record_once_and_replicas_identical(self):
        topic, parts, n = "replicated", 6, 20000
        self.create(topic, parts)
        values = [b"r-%06d" % i for i in range(n)]
        acked, errors = self.produce(topic, values, "all", bootstrap=self.brokers[2].bootstrap)
        self.assertEqual(errors, [])
        self.assertEqual(len(acked), n)
        # Read through a broker other than the one produced to.
        seen = self.consume_all(topic, parts, self.brokers[3].bootstrap, n)
        self.assertEqual(len(seen), n, "every acknowledged record once")
        self.assertEqual(set(seen), set(values))
        self.wait_identical(topic, parts)

    def test_2_a_diverged_leader_truncates_what_was_never_replicated(self):
        topic = "diverge"
        self.create(topic, 1)
        first, _, _ = topic_view(self.brokers[1].bootstrap, topic)[0]
        followers = [i for i in (1, 2, 3) if i != first]
        acked, errors = self.produce(topic, [b"a-%03d" % i for i in range(100)], "all", partition=0)
        self.assertEqual((len(acked), errors), (100, []))
        # The followers stop (not long enough for their ZooKeeper sessions to expire); the leader
        # takes records only it will ever have, and dies.
        for f in followers:
            os.kill(self.brokers[f].proc.pid, signal.SIGSTOP)
        try:
            # Fetches they had waiting at the leader expire (replica.fetch.wait.max.ms, 500 ms)
            # first: otherwise the leader would answer one with the new records, into a socket a
            # stopped follower reads when it continues.
            time.sleep(1.5)
            lost, errors = self.produce(topic, [b"lost-%02d" % i for i in range(10)], "1", partition=0,
                                        bootstrap=self.brokers[first].bootstrap)
            self.assertEqual((len(lost), errors), (10, []))
            self.assertEqual(sorted(o for _, o in lost.values()), list(range(100, 110)))
            self.brokers[first].kill()
        finally:
            for f in followers:
                os.kill(self.brokers[f].proc.pid, signal.SIGCONT)
        # Its session expires; a follower leads in a new epoch and takes more.
        new = wait_until("a new leader", lambda: (v := topic_view(self.brokers[followers[0]].bootstrap, topic))
                         and v[0][0] in followers and v[0][0], timeout=60)
        more, errors = self.produce(topic, [b"b-%03d" % i for i in range(50)], "all", partition=0,
                                    bootstrap=self.brokers[new].bootstrap)
        self.assertEqual((len(more), errors), (50, []))
        self.assertEqual(sorted(o for _, o in more.values()), list(range(100, 150)))
        # The old leader returns as a follower, truncates its 10 records and fetches the 50.
        self.brokers[first].restart()
        wait_until("the old leader back in the cluster",
                   lambda: all(metadata(b)[2] == [1, 2, 3] for b in [b.bootstrap for b in self.brokers.values()]), timeout=60)
        self.wait_identical(topic, 1)
        seen = self.consume_all(topic, 1, self.brokers[new].bootstrap, 150)
        self.assertEqual(sorted(seen), sorted(list(acked) + list(more)))
        self.assertFalse(any(v.startswith(b"lost-") for v in seen))
        self.assertIn("diverged from leader", self.brokers[first].log_text())

    def test_3_a_follower_behind_the_leaders_log_start_starts_over_there(self):
        topic = "behind"
        admin = AdminClient({"bootstrap.servers": self.brokers[1].bootstrap})
        for _, f in admin.create_topics([NewTopic(topic, 1, 3)],
                                        operation_timeout=30).items():
            f.result(timeout=60)
        wait_until(f"{topic} led", lambda: (v := topic_view(self.brokers[1].bootstrap, topic)) and v[0][0] >= 0,
                   timeout=30)
        leader = topic_view(self.brokers[1].bootstrap, topic)[0][0]
        follower = next(i for i in (1, 2, 3) if i != leader)
        acked, errors = self.produce(topic, [b"early-%04d" % i for i in range(200)], "all", partition=0)
        self.assertEqual((len(acked), errors), (200, []))
        # The follower stops; the controller takes it out of the ISR, the leader takes more and
        # DeleteRecords moves its log start past everything the follower has (inside a batch).
        self.brokers[follower].stop()
        boot = self.brokers[leader].bootstrap
        wait_until(f"broker {follower} out of the ISR", lambda: follower not in topic_view(boot, topic)[0][2],
                   timeout=30)
        more, errors = self.produce(topic, [b"late-%04d" % i for i in range(1000)], "all", partition=0,
                                    bootstrap=boot)
        self.assertEqual((len(more), errors), (1000, []))
        spec = os.path.join(self.brokers[leader].tmp, "behind.json")
        with open(spec, "w") as f:
            json.dump({"version": 1, "partitions": [{"topic": topic, "partition": 0, "offset": 701}]}, f)
        out = subprocess.run([harness.samsa_cli(), "delete-records", "--bootstrap-server", boot,
                              "--offset-json-file", spec], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        # Back, it is out of range of the leader: its log starts over at the leader's log start
        # (the batch holding offset 701), fetches from there and rejoins the ISR.
        self.brokers[follower].restart()
        wait_until(f"broker {follower} back in the ISR", lambda: follower in topic_view(boot, topic)[0][2], timeout=60)
        self.assertIn("out of range of leader", self.brokers[follower].log_text())
        files = sorted(glob.glob(os.path.join(self.brokers[follower].data_dir, f"{topic}-0", "*.log")))
        first = int(os.path.basename(files[0]).split(".")[0])
        self.assertTrue(200 <= first <= 701, f"the follower's log starts at {first}: {files}")
        self.assertNotIn(b"early-", segment_bytes(self.brokers[follower], topic, 0))
        # From there on its log is the leader's, byte for byte: it could lead.
        wait_until("the follower's log to be the tail of the leader's", lambda: (
            mine := segment_bytes(self.brokers[follower], topic, 0)) and segment_bytes(
            self.brokers[leader], topic, 0).endswith(mine), timeout=30, interval=0.3)

    def test_4_an_idempotent_producer_carries_on_across_a_leader_change(self):
        # The followers rebuilt the producer state from the replicated batches, so the new leader
        # takes the producer's next sequence numbers, and the retried batches are not doubled.
        topic = "idem-failover"
        self.create(topic, 1)
        leader = topic_view(self.brokers[1].bootstrap, topic)[0][0]
        fatal = []
        p = Producer({"bootstrap.servers": self.live_bootstrap(), "acks": "all", "enable.idempotence": True,
                      "linger.ms": 2, "message.timeout.ms": 60000, "retry.backoff.ms": 100,
                      "error_cb": lambda e: fatal.append(e) if e.fatal() else None})
        acked, errors = [], []

        def done(err, msg):
            (errors if err else acked).append(err if err else msg.value())
        n, moved_at = 6000, 2000
        try:
            for i in range(n):
                p.produce(topic, b"idem-%05d" % i, partition=0, on_delivery=done)
                p.poll(0)
                if i == moved_at:
                    # Batches in flight: those the old leader had replicated come back as retries
                    # the new one recognises (duplicate sequence), the others append once.
                    self.brokers[leader].stop()
                if i % 200 == 199:
                    time.sleep(0.02)
            p.flush(60)
        finally:
            self.brokers[leader].restart()
        self.assertEqual(fatal, [], "the idempotent producer failed fatally")
        self.assertEqual(errors, [])
        self.assertEqual(sorted(acked), sorted(b"idem-%05d" % i for i in range(n)))
        survivor = next(b for i, b in self.brokers.items() if i != leader)
        new = wait_until("the new leader", lambda: (v := topic_view(survivor.bootstrap, topic)) and v[0][0], timeout=30)
        self.assertNotEqual(new, leader)
        seen = self.consume_all(topic, 1, self.brokers[new].bootstrap, n)
        self.assertEqual(sorted(seen), sorted(acked), "a record lost or written twice")
        wait_until("the old leader back in the cluster",
                   lambda: all(metadata(b)[2] == [1, 2, 3] for b in [b.bootstrap for b in self.brokers.values()]),
                   timeout=60)
        self.wait_identical(topic, 1)


class InSyncReplicas(unittest.TestCase):
    LAG_MS = 2000
    RUN_RECORDS = 100_000

    def test_isr_shrinks_past_the_lag_expands_on_catch_up_and_guards_min_insync(self):
        zk = ZooKeeper().start()
        self.addCleanup(zk.close)
        extra = dict(EXTRA)
        extra.update({"replica.lag.time.max.ms": str(self.LAG_MS), "zookeeper.session.timeout.ms": "15000"})
        brokers = {}
        for i in (1, 2, 3):
            b = harness.Broker(cluster_overrides(zk.connect + "/samsa", i, extra), name=f"isr-{i}")
            self.addCleanup(b.close)
            b.start()
            brokers[i] = b

        def cont_all():
            for b in brokers.values():
                if b.alive():
                    os.kill(b.proc.pid, signal.SIGCONT)
        self.addCleanup(cont_all)
        boot = {i: b.bootstrap for i, b in brokers.items()}
        wait_until("three brokers", lambda: all(metadata(a)[2] == [1, 2, 3] for a in boot.values()), timeout=30)
        # The leader is the controller, which is never stopped, so its metadata shows every change.
        ctl = metadata(boot[1])[1]
        a, b = [i for i in (1, 2, 3) if i != ctl]
        admin = AdminClient({"bootstrap.servers": boot[ctl]})
        t = NewTopic("isr", 1, -1, replica_assignment=[[ctl, a, b]], config={"min.insync.replicas": "2"})
        for _, f in admin.create_topics([t], operation_timeout=30).items():
            f.result(timeout=60)

        def isr():
            v = topic_view(boot[ctl], "isr")
            return sorted(v[0][2]) if v and v[0][0] == ctl else None
        wait_until("the partition led by the controller", lambda: isr() == [1, 2, 3], timeout=30)

        def produce(values, timeout_ms=30000):
            p = Producer({"bootstrap.servers": boot[ctl], "acks": "all", "linger.ms": 5,
                          "message.timeout.ms": timeout_ms, "enable.idempotence": True})
            acked, errors = [], []
            for v in values:
                p.produce("isr", v, partition=0,
                          on_delivery=lambda e, m: errors.append(e) if e else acked.append(m.value()))
                p.poll(0)
            p.flush(60)
            return acked, errors

        # 100k records, acks=all, paced over several seconds; meanwhile one follower stops: past
        # the lag it leaves the ISR and acks=all goes on without it; continued, it catches up and
        # joins again, all while the producer runs.
        run = {"acked": [], "errors": [], "done": False}

        def produce_run():
            p = Producer({"bootstrap.servers": boot[ctl], "acks": "all", "linger.ms": 5,
                          "message.timeout.ms": 60000, "enable.idempotence": True})

            def done(e, m):
                (run["errors"] if e else run["acked"]).append(e if e else m.value())
            for i in range(self.RUN_RECORDS):
                while True:
                    try:
                        p.produce("isr", b"run-%06d" % i, partition=0, on_delivery=done)
                        break
                    except BufferError:
                        p.poll(0.05)
                p.poll(0)
                if i % 1000 == 999:
                    time.sleep(0.08)
            p.flush(120)
            run["done"] = True
        producer = threading.Thread(target=produce_run)
        producer.start()
        try:
            wait_until("10k records acknowledged", lambda: len(run["acked"]) >= 10000, timeout=60)
            os.kill(brokers[a].proc.pid, signal.SIGSTOP)
            began = time.monotonic()
            wait_until(f"broker {a} out of the ISR", lambda: isr() == sorted([ctl, b]), timeout=20)
            self.assertGreaterEqual(time.monotonic() - began, self.LAG_MS / 1000 * 0.9)
            at_shrink = len(run["acked"])
            wait_until("acks=all going on without it", lambda: len(run["acked"]) >= at_shrink + 5000, timeout=30)
            os.kill(brokers[a].proc.pid, signal.SIGCONT)
            wait_until(f"broker {a} back in the ISR", lambda: isr() == [1, 2, 3], timeout=30)
            self.assertFalse(run["done"], "the producer finished before the follower rejoined: pace it slower")
        finally:
            os.kill(brokers[a].proc.pid, signal.SIGCONT)
            producer.join(180)
        self.assertEqual((len(run["acked"]), run["errors"]), (self.RUN_RECORDS, []))
        all_acked = list(run["acked"])
        # Both followers stop: the ISR shrinks to the leader, below min.insync.replicas=2.
        os.kill(brokers[a].proc.pid, signal.SIGSTOP)
        os.kill(brokers[b].proc.pid, signal.SIGSTOP)
        try:
            wait_until("the ISR down to the leader", lambda: isr() == [ctl], timeout=20)
            from kafka import KafkaProducer
            from kafka.errors import NotEnoughReplicasError
            kp = KafkaProducer(bootstrap_servers=boot[ctl], acks="all", retries=0, client_id="isr-check")
            try:
                with self.assertRaises(NotEnoughReplicasError):
                    kp.send("isr", b"refused", partition=0).get(timeout=20)
            finally:
                kp.close()
        finally:
            os.kill(brokers[a].proc.pid, signal.SIGCONT)
            os.kill(brokers[b].proc.pid, signal.SIGCONT)
        wait_until("both followers back in the ISR", lambda: isr() == [1, 2, 3], timeout=30)
        acked, errors = produce([b"three-%05d" % i for i in range(500)])
        self.assertEqual((len(acked), errors), (500, []))
        all_acked += acked
        # Every acknowledged record once; the refused one nowhere; the replicas identical.
        c = Consumer({"bootstrap.servers": boot[a], "group.id": "isr-check", "auto.offset.reset": "earliest",
                      "enable.auto.commit": False})
        seen = []
        try:
            c.assign([TopicPartition("isr", 0, 0)])
            deadline = time.monotonic() + 60
            while len(seen) < len(all_acked) + 1 and time.monotonic() < deadline:
                m = c.poll(0.3 if len(seen) < len(all_acked) else 1.5)
                if m is None and len(seen) >= len(all_acked):
                    break
                if m is not None and not m.error():
                    seen.append(m.value())
        finally:
            c.close()
        self.assertEqual(sorted(seen), sorted(all_acked))
        wait_until("identical replicas", lambda: len({segment_bytes(x, "isr", 0) for x in brokers.values()}) == 1,
                   timeout=30, interval=0.3)


class InterBrokerListener(unittest.TestCase):
    def test_controller_and_fetchers_use_the_inter_broker_listener(self):
        zk = ZooKeeper().start()
        self.addCleanup(zk.close)
        dead = _free_port()  # advertised for EXTERNAL, never listened on
        brokers = []
        for i in (1, 2, 3):
            external, internal = _free_port(), _free_port()
            extra = dict(EXTRA)
            extra.update({
                "listeners": f"EXTERNAL://127.0.0.1:{external},INTERNAL://127.0.0.1:{internal}",
                "advertised.listeners": f"EXTERNAL://127.0.0.1:{dead},INTERNAL://127.0.0.1:{internal}",
                "listener.security.protocol.map": "EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT",
                "inter.broker.listener.name": "INTERNAL",
            })
            b = harness.Broker(cluster_overrides(zk.connect + "/samsa", i, extra), name=f"ibl-{i}")
            self.addCleanup(b.close)
            b.start()
            brokers.append((b, f"127.0.0.1:{internal}"))
        boot = [a for _, a in brokers]
        wait_until("three brokers", lambda: all(metadata(a)[2] == [1, 2, 3] for a in boot), timeout=30)
        admin = AdminClient({"bootstrap.servers": boot[0]})
        for _, f in admin.create_topics([NewTopic("ibl", num_partitions=3, replication_factor=3)],
                                        operation_timeout=30).items():
            f.result(timeout=60)
        wait_until("leaders for ibl", lambda: all(
            (v := topic_view(a, "ibl")) and len(v) == 3 and all(p[0] >= 0 for p in v.values()) for a in boot),
            timeout=30)
        p = Producer({"bootstrap.servers": ",".join(boot), "acks": "all", "message.timeout.ms": 20000})
        acked, errors = [], []
        for i in range(300):
            p.produce("ibl", b"%d" % i, partition=i % 3,
                      on_delivery=lambda e, m: (errors if e else acked).append(e or m.offset()))
        p.flush(40)
        self.assertEqual((len(acked), errors), (300, []))


if __name__ == "__main__":
    harness.main()
