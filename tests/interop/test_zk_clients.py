#!/usr/bin/python3
"""Kafka clients against three samsa-server brokers coordinated by a real ZooKeeper: kafka-python,
confluent-kafka (librdkafka), kafkajs and kcat each see the three brokers and one controller,
create a topic of replication factor 3 through one broker, produce with acks=all to every
partition (so to every leader) through another and consume it in a consumer group through a
third; the group's offsets are committed to, and read back from, the broker coordinating it.

A group's coordinator is the leader of its __consumer_offsets partition (replication factor 3,
the default): the other brokers answer NOT_COORDINATOR. When the coordinator stops, the
partition's new leader (a follower that replicated it) loads the group: its committed offsets
are served there, and the group's next consumer carries on from them, reading only what came
after; the stopped broker comes back as a follower.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_zk_clients.py
"""

import json
import os
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness
import kafka_python_client as kp
from zk_cluster import ZooKeeper, cluster_overrides, start_three_brokers, wait_until
from test_zk_cluster import metadata, topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, Producer  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
PARTITIONS = 6
MESSAGES = 600
NOT_COORDINATOR = 16
EXTRA = {"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "6"}


def offset_fetch_v1(bootstrap, group, topic, partitions):
    """One OffsetFetch v1 sent to exactly that broker: {partition: (offset, error)}."""
    host, port = bootstrap.split(":")
    body = struct.pack(">h", len(group)) + group.encode() + struct.pack(">i", 1)
    body += struct.pack(">h", len(topic)) + topic.encode() + struct.pack(">i", len(partitions))
    body += b"".join(struct.pack(">i", p) for p in partitions)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(harness.frame(harness.request_header_v1(9, 1, 7) + body))
        resp = harness.recv_frame(s)
    pos = 4  # correlation id
    (topics,) = struct.unpack_from(">i", resp, pos)
    pos += 4
    out = {}
    for _ in range(topics):
        (n,) = struct.unpack_from(">h", resp, pos)
        pos += 2 + n
        (count,) = struct.unpack_from(">i", resp, pos)
        pos += 4
        for _ in range(count):
            p, offset, mlen = struct.unpack_from(">iqh", resp, pos)
            pos += 14 + max(mlen, 0)
            (err,) = struct.unpack_from(">h", resp, pos)
            pos += 2
            out[p] = (offset, err)
    return out


class ZkClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_three_brokers(cls, EXTRA, "zk-clients")
        cls.boot = [cls.brokers[i].bootstrap for i in (1, 2, 3)]

    def tearDown(self):
        for i, b in self.brokers.items():
            if b.proc is not None and b.proc.poll() is not None and b.proc.returncode not in (0, -9):
                self.fail(f"broker {i} died with status {b.proc.returncode}\n{b.log_tail()}")

    def create(self, bootstrap, topic):
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="zk-clients-admin", request_timeout_ms=20000)
        try:
            resp = admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=3)])
            self.assertEqual([e[1] for e in resp.topic_errors], [0])
        finally:
            admin.close()
        for b in self.boot:
            kp.wait_partitions(b, topic, PARTITIONS)

    def leaders(self, topic):
        return {p: v[0] for p, v in topic_view(self.boot[0], topic).items()}

    def kp_produce(self, bootstrap, topic, first=0):
        # Retries (kafka-python's default is none): right after a broker stops, a metadata
        # answer may still name the old leader (UpdateMetadata is asynchronous).
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="zk-clients-producer",
                                 retries=10, retry_backoff_ms=200, max_in_flight_requests_per_connection=1)
        try:
            futures = [producer.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % PARTITIONS)
                       for i in range(first, first + MESSAGES)]
            producer.flush(30)
            return [f.get(timeout=30).offset for f in futures]
        finally:
            producer.close()

    def kp_committed(self, bootstrap, group, topic):
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="zk-clients-admin", request_timeout_ms=20000)
        try:
            got = admin.list_consumer_group_offsets(group)
        finally:
            admin.close()
        return {tp.partition: om.offset for tp, om in got.items() if tp.topic == topic}

    def kp_group_consume(self, bootstrap, group, topic, settle_s=0.0):
        """The values a group member reads (MESSAGES of them, then `settle_s` more seconds for
        anything beyond), each poll's committed before the next (a rebalance under load, e.g.
        while the moved coordinator expires the previous member, resumes from the commits
        instead of reading again what was read); a list, so that a record read twice shows."""
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False, client_id="zk-clients-consumer", session_timeout_ms=10000)
        seen = []
        try:
            deadline = time.monotonic() + 60
            while len(seen) < MESSAGES and time.monotonic() < deadline:
                got = c.poll(timeout_ms=500)
                for recs in got.values():
                    seen.extend(r.value for r in recs)
                if got:
                    c.commit()
            end = time.monotonic() + settle_s
            while time.monotonic() < end:
                got = c.poll(timeout_ms=200)
                for recs in got.values():
                    seen.extend(r.value for r in recs)
                if got:
                    c.commit()
            c.commit()
        finally:
            c.close()
        return seen

    def test_1_kafka_python(self):
        c = KafkaConsumer(bootstrap_servers=self.boot[0], client_id="zk-clients-meta")
        try:
            c.topics()
            self.assertEqual(sorted(b.nodeId for b in c._client.cluster.brokers()), [1, 2, 3])
            self.assertIn(c._client.cluster.controller.nodeId, (1, 2, 3))
        finally:
            c.close()
        self.create(self.boot[0], "kp-cluster")
        self.assertEqual(set(self.leaders("kp-cluster").values()), {1, 2, 3})
        offsets = self.kp_produce(self.boot[1], "kp-cluster")
        self.assertEqual(sorted(offsets), sorted(i // PARTITIONS for i in range(MESSAGES)))
        seen = self.kp_group_consume(self.boot[2], "kp-cluster-group", "kp-cluster")
        self.assertEqual(sorted(seen), sorted(b"v%d" % i for i in range(MESSAGES)))
        per = MESSAGES // PARTITIONS
        for b in self.boot:
            self.assertEqual(self.kp_committed(b, "kp-cluster-group", "kp-cluster"),
                             {p: per for p in range(PARTITIONS)})

    def test_2_confluent_kafka_group_across_brokers(self):
        from confluent_kafka.admin import AdminClient
        md = AdminClient({"bootstrap.servers": self.boot[1]}).list_topics(timeout=10)
        self.assertEqual(sorted(md.brokers), [1, 2, 3])
        self.assertIn(md.controller_id, (1, 2, 3))
        self.create(self.boot[1], "ck-cluster")
        # Two members, each bootstrapped from a different broker, share the partitions; the
        # records come once the group has settled, so each is read once.
        consumers = [Consumer({"bootstrap.servers": self.boot[i], "group.id": "ck-cluster-group",
                               "auto.offset.reset": "earliest", "enable.auto.commit": False,
                               "session.timeout.ms": 10000}) for i in (0, 2)]
        for c in consumers:
            c.subscribe(["ck-cluster"])
        seen = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(len(c.assignment()) == PARTITIONS // 2 for c in consumers):
                for c in consumers:
                    m = c.poll(0.1)
                    self.assertTrue(m is None or m.error(), "a record before anything was produced")
            owned = [{tp.partition for tp in c.assignment()} for c in consumers]
            self.assertEqual(owned[0] & owned[1], set(), "a partition owned by two members")
            self.assertEqual(owned[0] | owned[1], set(range(PARTITIONS)))
            p = Producer({"bootstrap.servers": self.boot[2], "acks": "all", "enable.idempotence": True})
            acked = []
            for i in range(MESSAGES):
                p.produce("ck-cluster", key=b"k%d" % i, value=b"v%d" % i, partition=i % PARTITIONS,
                          on_delivery=lambda err, m: acked.append((err, m.partition())))
            p.flush(30)
            self.assertEqual(len(acked), MESSAGES)
            self.assertEqual([e for e, _ in acked if e is not None], [])
            deadline = time.monotonic() + 60
            while len(seen) < MESSAGES and time.monotonic() < deadline:
                for c in consumers:
                    m = c.poll(0.1)
                    if m is not None and not m.error():
                        seen.append(m.value())
            self.assertEqual([{tp.partition for tp in c.assignment()} for c in consumers], owned, "no rebalance")
            for c in consumers:
                c.commit(asynchronous=False)
        finally:
            for c in consumers:
                c.close()
        self.assertEqual(sorted(seen), sorted(b"v%d" % i for i in range(MESSAGES)))
        self.assertEqual(self.kp_committed(self.boot[1], "ck-cluster-group", "ck-cluster"),
                         {p: MESSAGES // PARTITIONS for p in range(PARTITIONS)})

    def test_3_kafkajs(self):
        node = harness.require_program("node", "nodejs")
        if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
            harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test")
        out = subprocess.run([node, "cluster_check.js", ",".join(self.boot), "js-cluster", "js-cluster-group",
                              str(MESSAGES)], cwd=JS_DIR, capture_output=True, text=True, timeout=180)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(r["brokers"], [1, 2, 3])
        self.assertIn(r["controller"], (1, 2, 3))
        self.assertEqual(set(r["leaders"]), {1, 2, 3})
        self.assertEqual(r["consumed"], MESSAGES)
        self.assertEqual(r["ends"], [MESSAGES // PARTITIONS] * PARTITIONS)
        self.assertEqual(r["committed"], r["ends"])

    def test_4_a_group_survives_its_coordinator_moving(self):
        self.create(self.boot[0], "coord-cluster")
        self.kp_produce(self.boot[0], "coord-cluster")
        self.assertEqual(len(self.kp_group_consume(self.boot[1], "coord-group", "coord-cluster")), MESSAGES)
        per = MESSAGES // PARTITIONS
        answers = {i: offset_fetch_v1(self.brokers[i].bootstrap, "coord-group", "coord-cluster", [0, 1])
                   for i in (1, 2, 3)}
        served = [i for i, a in answers.items() if a == {0: (per, 0), 1: (per, 0)}]
        self.assertEqual(len(served), 1, f"OffsetFetch answers: {answers}")
        coordinator = served[0]
        for i, a in answers.items():
            if i != coordinator:
                self.assertEqual({e for _, e in a.values()}, {NOT_COORDINATOR}, f"broker {i}: {a}")
        # The coordinator stops: another broker leads its __consumer_offsets partition, with the
        # commits it replicated, and serves the group.
        stopped = self.brokers[coordinator]
        stopped.stop()
        # Back for the tests after this one even if this one fails before its own restart.
        self.addCleanup(lambda: stopped.proc.poll() is not None and stopped.restart())
        others = [i for i in (1, 2, 3) if i != coordinator]
        moved = wait_until("another broker to serve the group's committed offsets", lambda: [
            i for i in others if offset_fetch_v1(self.brokers[i].bootstrap, "coord-group", "coord-cluster",
                                                 [0, 1]) == {0: (per, 0), 1: (per, 0)}], timeout=40)
        self.assertEqual(len(moved), 1, f"two coordinators: {moved}")
        live = ",".join(self.brokers[i].bootstrap for i in others)
        # Each record written once: an answer of NOT_LEADER_OR_FOLLOWER to an append that was
        # in the log (the ISR shrinking bumps the leader epoch) has this producer, without
        # idempotence, write it again at a later offset.
        offsets = self.kp_produce(live, "coord-cluster", first=MESSAGES)
        self.assertEqual(sorted(offsets), sorted(per + i // PARTITIONS for i in range(MESSAGES)))
        # The group carries on from its commits: the new records only, each once.
        seen = self.kp_group_consume(live, "coord-group", "coord-cluster", settle_s=2.0)
        self.assertEqual(sorted(seen), sorted(b"v%d" % i for i in range(MESSAGES, 2 * MESSAGES)))
        self.assertEqual(self.kp_committed(live, "coord-group", "coord-cluster"),
                         {p: 2 * per for p in range(PARTITIONS)})
        # Back as a follower, it catches up and the commits are the same wherever asked.
        self.brokers[coordinator].restart()
        wait_until("the restarted broker to rejoin every in-sync set of coord-cluster", lambda: all(
            coordinator in v[2] for v in topic_view(self.boot[0], "coord-cluster").values()),
            timeout=60)
        for b in self.boot:
            self.assertEqual(self.kp_committed(b, "coord-group", "coord-cluster"),
                             {p: 2 * per for p in range(PARTITIONS)})

    def test_5_kcat(self):
        kcat = harness.require_program("kcat", "kcat")
        self.create(self.boot[0], "kcat-cluster")
        lines = "".join(f"k{i}:v{i}\n" for i in range(MESSAGES))
        out = subprocess.run([kcat, "-P", "-b", self.boot[1], "-t", "kcat-cluster", "-K", ":", "-X", "acks=all",
                              "-X", "message.timeout.ms=30000"], input=lines, capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        out = subprocess.run([kcat, "-C", "-b", self.boot[2], "-t", "kcat-cluster", "-o", "beginning", "-e", "-f",
                              "%p %o %s\n"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        got = [line.split() for line in out.stdout.splitlines() if line.strip()]
        self.assertEqual(sorted(v for _, _, v in got), sorted(f"v{i}" for i in range(MESSAGES)))
        ends = {}
        for p, o, _ in got:
            ends[int(p)] = max(ends.get(int(p), -1), int(o) + 1)
        self.assertEqual(sum(ends.values()), MESSAGES, f"offsets with gaps or repeats: {ends}")


class SingleNodeJoins(unittest.TestCase):
    """A single node's data dir becomes the first broker of a ZooKeeper cluster: its topics (and
    its groups' committed offsets) are registered on that first start, other brokers join and
    serve them, and the registration is not repeated (a topic deleted later stays deleted)."""

    def test_a_single_node_grows_into_a_cluster(self):
        solo = harness.Broker(EXTRA, name="zk-single-node")
        self.addCleanup(solo.close)
        solo.start()
        kp.create_topic(solo.bootstrap, "solo", 2)
        kp.create_topic(solo.bootstrap, "solo-doomed", 1)
        producer = KafkaProducer(bootstrap_servers=solo.bootstrap, acks="all")
        for i in range(100):
            producer.send("solo", value=b"s%d" % i, partition=i % 2)
        producer.flush(30)
        producer.close()
        c = KafkaConsumer("solo", bootstrap_servers=solo.bootstrap, group_id="solo-group",
                          auto_offset_reset="earliest", enable_auto_commit=False)
        got = 0
        deadline = time.monotonic() + 30
        while got < 100 and time.monotonic() < deadline:
            got += sum(len(r) for r in c.poll(timeout_ms=500).values())
        c.commit()
        c.close()
        self.assertEqual(got, 100)
        solo.stop()
        with open(os.path.join(solo.data_dir, "meta.properties")) as f:
            cluster_id = next(l.split("=", 1)[1].strip() for l in f if l.startswith("cluster.id="))

        zk = ZooKeeper().start()
        self.addCleanup(zk.close)
        connect = zk.connect + "/samsa"
        # No broker.id: the one in its meta.properties (a single node is broker 0) is kept.
        solo.overrides.update(cluster_overrides(connect, None, EXTRA))
        solo.restart()
        wait_until("broker 0 to register its topics", lambda: "registered 3 topic(s) of this broker's single-node data "
                   "in ZooKeeper (0 already there)" in solo.log_text(), timeout=30)
        self.assertEqual(zk.get_json("/samsa/cluster/id")["id"], cluster_id)
        others = []
        for i in (1, 2):
            b = harness.Broker(cluster_overrides(connect, i, EXTRA), name=f"zk-grown-{i}")
            self.addCleanup(b.close)
            b.start()
            others.append(b)
        boots = [solo.bootstrap] + [b.bootstrap for b in others]
        wait_until("every broker to see three brokers", lambda: all(metadata(b)[2] == [0, 1, 2] for b in boots),
                   timeout=30)

        for b in boots:
            wait_until(f"{b} to serve solo from broker 0",
                       lambda: topic_view(b, "solo") == {0: (0, [0], [0]), 1: (0, [0], [0])}, timeout=30)
        # The records and the group's offsets, read through another broker.
        c = KafkaConsumer(bootstrap_servers=others[0].bootstrap, auto_offset_reset="earliest",
                          consumer_timeout_ms=5000)
        c.assign([TopicPartition("solo", 0), TopicPartition("solo", 1)])
        self.assertEqual(sorted(r.value for r in c), sorted(b"s%d" % i for i in range(100)))
        c.close()
        admin = KafkaAdminClient(bootstrap_servers=others[1].bootstrap, request_timeout_ms=20000)
        try:
            offsets = wait_until("solo-group's offsets", lambda: admin.list_consumer_group_offsets("solo-group"),
                                 timeout=30)
        finally:
            admin.close()
        self.assertEqual({tp.partition: om.offset for tp, om in offsets.items() if tp.topic == "solo"}, {0: 50, 1: 50})
        # Once only: deleted through the cluster, the topic stays deleted when broker 0 restarts.
        admin = KafkaAdminClient(bootstrap_servers=others[0].bootstrap, request_timeout_ms=20000)
        try:
            admin.delete_topics(["solo-doomed"])
        finally:
            admin.close()
        wait_until("solo-doomed to go", lambda: zk.get("/samsa/brokers/topics/solo-doomed") is None, timeout=30)
        solo.stop()
        solo.restart()
        self.assertNotIn("single-node data in ZooKeeper", solo.log_text())
        wait_until("broker 0 to lead solo again", lambda: topic_view(others[0].bootstrap, "solo") ==
                   {0: (0, [0], [0]), 1: (0, [0], [0])}, timeout=30)
        self.assertIsNone(zk.get("/samsa/brokers/topics/solo-doomed"))
        self.assertIsNone(topic_view(solo.bootstrap, "solo-doomed"))

if __name__ == "__main__":
    harness.main()
