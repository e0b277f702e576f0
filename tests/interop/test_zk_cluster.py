"""Three samsa-server processes coordinated by a real ZooKeeper (Debian's package), on loopback.

Membership and the controller: every broker registers itself in Kafka's /brokers/ids layout and
every broker answers Metadata with the same live brokers and the same controller; killing the
controller moves it within the session timeout and changes nothing else; a restarted broker
registers again; a second broker with a taken broker.id is refused; a generated broker.id is
kept across restarts; a malformed registration written by hand is logged and ignored.
"""

import json
import os
import subprocess
import time
import unittest

import harness
import zk_cluster
from zk_cluster import ZooKeeper, cluster_overrides, wait_until

CHROOT = "/samsa"


def topic_view(bootstrap, topic):
    """{partition: (leader, replicas, isrs)} of `topic` as that broker reports it (kcat -L -J)."""
    kcat = harness.require_program("kcat", "kcat")
    # All topics, not -t: asking for one would auto-create it (auto.create.topics.enable).
    out = subprocess.run([kcat, "-L", "-J", "-b", bootstrap, "-m", "10"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"kcat -L -t {topic} against {bootstrap} failed: {out.stderr[-500:]}")
    md = json.loads(out.stdout)
    for t in md["topics"]:
        if t["topic"] == topic and not t.get("error"):
            return {p["partition"]: (p["leader"], [r["id"] for r in p["replicas"]], [r["id"] for r in p["isrs"]])
                    for p in t["partitions"]}
    return None


def cli(*args, timeout=60):
    out = subprocess.run([harness.samsa_cli(), *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"samsa {' '.join(args)} failed ({out.returncode}): {out.stderr[-1000:]}")
    return out.stdout


def metadata(bootstrap):
    """(originating broker id, controller id, sorted broker ids) from a Metadata request to
    exactly that broker, through kcat's JSON output."""
    kcat = harness.require_program("kcat", "kcat")
    out = subprocess.run([kcat, "-L", "-J", "-b", bootstrap, "-m", "10"], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"kcat -L against {bootstrap} failed: {out.stderr[-500:]}")
    md = json.loads(out.stdout)
    return md["originating_broker"]["id"], md.get("controllerid"), sorted(b["id"] for b in md["brokers"])


class ZkCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zk = ZooKeeper().start()
        cls.addClassCleanup(cls.zk.close)
        cls.connect = cls.zk.connect + CHROOT
        cls.brokers = {}
        for i in (1, 2, 3):
            b = harness.Broker(cluster_overrides(cls.connect, i), name=f"zk-broker-{i}")
            cls.addClassCleanup(b.close)
            b.start()
            cls.brokers[i] = b

    def tearDown(self):
        for i, b in self.brokers.items():
            if b.proc is not None and b.proc.poll() is not None and b.proc.returncode not in (0, -9):
                self.fail(f"broker {i} died with status {b.proc.returncode}\n{b.log_tail()}")

    def live(self):
        return {i: b for i, b in self.brokers.items() if b.alive()}

    def agreed_view(self, expect_ids, timeout=30):
        """Waits until every live broker reports `expect_ids` and one common controller among them."""
        def check():
            views = {i: metadata(b.bootstrap) for i, b in self.live().items()}
            controllers = {v[1] for v in views.values()}
            ok = all(v[0] == i and v[2] == expect_ids for i, v in views.items()) and len(controllers) == 1 \
                and next(iter(controllers)) in expect_ids
            return views if ok else None
        views = wait_until(f"every broker to report brokers {expect_ids} and one controller", check, timeout)
        return next(iter(views.values()))[1]

    def test_1_every_broker_reports_the_same_brokers_and_controller(self):
        controller = self.agreed_view([1, 2, 3])
        # The znodes are Kafka's.
        reg = self.zk.get_json(f"{CHROOT}/brokers/ids/2")
        self.assertEqual(reg["version"], 5)
        self.assertEqual(reg["host"], "127.0.0.1")
        self.assertEqual(reg["port"], self.brokers[2].port)
        self.assertEqual(reg["endpoints"], [f"PLAINTEXT://127.0.0.1:{self.brokers[2].port}"])
        self.assertEqual(reg["listener_security_protocol_map"], {"PLAINTEXT": "PLAINTEXT"})
        self.assertEqual(self.zk.get_json(f"{CHROOT}/controller")["brokerid"], controller)
        self.assertGreaterEqual(int(self.zk.get(f"{CHROOT}/controller_epoch")), 1)
        cluster_id = self.zk.get_json(f"{CHROOT}/cluster/id")["id"]
        with open(os.path.join(self.brokers[1].data_dir, "meta.properties")) as f:
            meta = f.read()
        self.assertIn(f"cluster.id={cluster_id}", meta)
        self.assertIn("broker.id=1", meta)
        self.assertEqual(self.zk.children(f"{CHROOT}/brokers/ids"), ["1", "2", "3"])

    def test_2_controller_kill_moves_the_controller_within_the_session_timeout(self):
        old = self.agreed_view([1, 2, 3])
        epoch = int(self.zk.get(f"{CHROOT}/controller_epoch"))
        began = time.monotonic()
        self.brokers[old].kill()
        others = sorted(i for i in self.brokers if i != old)
        new = self.agreed_view(others, timeout=30)
        took = time.monotonic() - began
        print(f"controller failover (kill -9 of broker {old} to every broker naming broker {new}): {took:.2f} s",
              flush=True)
        self.assertNotEqual(new, old)
        self.assertLess(took, 6 + 10, "the new controller took much longer than the 6 s session timeout")
        self.assertGreater(int(self.zk.get(f"{CHROOT}/controller_epoch")), epoch)
        # The killed broker comes back: registered again, nothing else changes.
        self.brokers[old].restart()
        self.assertEqual(self.agreed_view([1, 2, 3]), new)

    def test_3_a_taken_broker_id_is_refused(self):
        self.agreed_view([1, 2, 3])
        tmp = self.brokers[2].tmp
        out = subprocess.run([harness.server_binary(), "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                              "--override", f"log.dirs={tmp}/duplicate"] +
                             sum((["--override", f"{k}={v}"] for k, v in cluster_overrides(self.connect, 2).items()),
                                 []),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stderr[-2000:])
        self.assertNotRegex(out.stderr, harness.SANITIZER_RE)
        self.assertIn("broker.id 2 is already registered in ZooKeeper (/brokers/ids/2)",
                      out.stderr.strip().splitlines()[-1])
        # The broker holding the id is untouched.
        self.agreed_view([1, 2, 3])

    def test_4_a_generated_broker_id_is_kept_across_restarts(self):
        b = harness.Broker(cluster_overrides(self.connect), name="zk-broker-generated")
        self.addCleanup(b.close)
        b.start()
        ident = wait_until("the generated id in metadata", lambda: metadata(b.bootstrap)[0])
        self.assertGreater(ident, 1000, "generated ids start above reserved.broker.max.id")
        with open(os.path.join(b.data_dir, "meta.properties")) as f:
            self.assertIn(f"broker.id={ident}", f.read())
        b.stop()
        b.restart()
        self.assertEqual(wait_until("the id after a restart", lambda: metadata(b.bootstrap)[0]), ident)
        wait_until("the other brokers to see it again", lambda: ident in metadata(self.brokers[1].bootstrap)[2])
        b.stop()
        wait_until("the generated broker to leave", lambda: ident not in metadata(self.brokers[1].bootstrap)[2])

    def test_5_a_malformed_registration_is_logged_and_ignored(self):
        self.agreed_view([1, 2, 3])
        self.zk.cli("create", f"{CHROOT}/brokers/ids/77", "not-json")
        try:
            wait_until("a warning about the malformed registration",
                       lambda: all("ignoring malformed broker registration /brokers/ids/77" in b.log_text()
                                   for b in self.live().values()))
            self.agreed_view([1, 2, 3])
        finally:
            self.zk.cli("delete", f"{CHROOT}/brokers/ids/77")

    def same_view_everywhere(self, topic, partitions, timeout=30):
        """Waits until every live broker reports the same `partitions` partitions of `topic`."""
        def check():
            views = [topic_view(b.bootstrap, topic) for b in self.live().values()]
            if any(v is None or len(v) != partitions for v in views):
                return None
            return views[0] if all(v == views[0] for v in views) else None
        return wait_until(f"every broker to report topic {topic} the same way", check, timeout)

    def test_6_topics_created_through_one_broker_are_served_through_every_broker(self):
        self.agreed_view([1, 2, 3])
        b1, b2, b3 = (self.brokers[i].bootstrap for i in (1, 2, 3))
        began = time.monotonic()
        cli("topics", "--create", "--bootstrap-server", b2, "--topic", "r3", "--partitions", "6",
            "--replication-factor", "3")
        print(f"CreateTopics of 6 partitions x 3 replicas through broker 2: {time.monotonic() - began:.3f} s",
              flush=True)
        view = self.same_view_everywhere("r3", 6)
        leaders = [view[p][0] for p in range(6)]
        for p in range(6):
            leader, replicas, isr = view[p]
            self.assertEqual(sorted(replicas), [1, 2, 3])
            self.assertEqual(leader, replicas[0], "the first replica is the preferred leader")
            self.assertEqual(sorted(isr), [1, 2, 3])
        self.assertEqual(sorted(leaders.count(b) for b in (1, 2, 3)), [2, 2, 2], f"leaders spread: {leaders}")
        # The znodes are Kafka's: the assignment with its topic id, and a state per partition.
        assignment = self.zk.get_json(f"{CHROOT}/brokers/topics/r3")
        self.assertEqual(assignment["version"], 3)
        self.assertEqual(sorted(assignment["partitions"]), [str(p) for p in range(6)])
        self.assertEqual(len(assignment["topic_id"]), 22)
        state = self.zk.get_json(f"{CHROOT}/brokers/topics/r3/partitions/0/state")
        self.assertEqual(state["leader"], view[0][0])
        self.assertEqual(sorted(state["isr"]), [1, 2, 3])
        self.assertGreaterEqual(state["controller_epoch"], 1)
        # Replication factor 1 over three brokers: produced through broker 3 (the client goes to
        # each leader), consumed through broker 1, everything once.
        cli("topics", "--create", "--bootstrap-server", b1, "--topic", "spread", "--partitions", "6",
            "--replication-factor", "1")
        spread = self.same_view_everywhere("spread", 6)
        self.assertEqual(sorted({spread[p][0] for p in range(6)}), [1, 2, 3])
        kcat = harness.require_program("kcat", "kcat")
        values = [f"k{i % 50}:v{i}" for i in range(3000)]
        prod = subprocess.run([kcat, "-P", "-b", b3, "-t", "spread", "-K:", "-X", "acks=all"],
                              input="\n".join(values) + "\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(prod.returncode, 0, prod.stderr[-1000:])
        cons = subprocess.run([kcat, "-C", "-b", b1, "-t", "spread", "-o", "beginning", "-e", "-q", "-f", "%k:%s\\n"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(cons.returncode, 0, cons.stderr[-1000:])
        self.assertEqual(sorted(cons.stdout.split()), sorted(values))
        # Growing the topic through broker 3.
        cli("topics", "--alter", "--bootstrap-server", b3, "--topic", "spread", "--partitions", "9")
        self.same_view_everywhere("spread", 9)
        # The name is taken: TOPIC_ALREADY_EXISTS from any broker.
        out = subprocess.run([harness.samsa_cli(), "topics", "--create", "--bootstrap-server", b3, "--topic", "r3",
                              "--partitions", "1"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("already exists", out.stderr)
        # More replicas than live brokers: INVALID_REPLICATION_FACTOR.
        out = subprocess.run([harness.samsa_cli(), "topics", "--create", "--bootstrap-server", b1, "--topic", "r4",
                              "--partitions", "1", "--replication-factor", "4"], capture_output=True, text=True,
                             timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("larger than available brokers: 3", out.stderr)

    def test_7_configs_altered_through_one_broker_apply_on_all(self):
        self.agreed_view([1, 2, 3])
        b1 = self.brokers[1].bootstrap
        cli("topics", "--create", "--bootstrap-server", b1, "--topic", "tuned", "--partitions", "3",
            "--replication-factor", "2")
        self.same_view_everywhere("tuned", 3)
        cli("configs", "--alter", "--bootstrap-server", b1, "--topic", "tuned", "--add-config", "retention.ms=123456")
        self.assertEqual(self.zk.get_json(f"{CHROOT}/config/topics/tuned")["config"], {"retention.ms": "123456"})
        for i in (2, 3):
            wait_until(f"broker {i} to apply the new retention.ms",
                       lambda: "retention.ms=123456" in cli("configs", "--describe", "--bootstrap-server",
                                                            self.brokers[i].bootstrap, "--topic", "tuned"))
        # Broker configs: the cluster-wide default through broker 1, broker 2's own through broker 2.
        # (librdkafka 2.0.2 cannot name the default resource "": kafka-python's admin does.)
        harness.require_module("kafka", "python3-kafka")
        from kafka import KafkaAdminClient
        from kafka.admin import ConfigResource, ConfigResourceType
        admin = KafkaAdminClient(bootstrap_servers=b1, request_timeout_ms=20000)
        try:
            resp = admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, "",
                                                       configs={"log.retention.ms": "7200000"})])
            self.assertEqual([r[0] for r in resp.resources], [0], resp)
        finally:
            admin.close()
        self.assertEqual(self.zk.get_json(f"{CHROOT}/config/brokers/<default>")["config"],
                         {"log.retention.ms": "7200000"})
        b2 = self.brokers[2].bootstrap
        cli("configs", "--alter", "--bootstrap-server", b2, "--entity-type", "brokers", "--entity-name", "2",
            "--add-config", "log.retention.ms=3600000")
        self.assertEqual(self.zk.get_json(f"{CHROOT}/config/brokers/2")["config"], {"log.retention.ms": "3600000"})

        def effective(i):
            out = cli("configs", "--describe", "--all", "--bootstrap-server", self.brokers[i].bootstrap,
                      "--entity-type", "brokers", "--entity-name", str(i))
            return next((l.strip().split()[0] for l in out.splitlines() if l.strip().startswith("log.retention.ms=")),
                        None)
        for i, want in ((1, "7200000"), (2, "3600000"), (3, "7200000")):
            wait_until(f"broker {i} to use log.retention.ms={want}", lambda: effective(i) == f"log.retention.ms={want}")
        # Kept in ZooKeeper, not on the broker: a restarted broker reads them again.
        self.brokers[3].stop()
        self.brokers[3].restart()
        self.agreed_view([1, 2, 3])
        wait_until("restarted broker 3 to use the default again", lambda: effective(3) == "log.retention.ms=7200000")

    def test_8_a_topic_deleted_while_a_broker_is_down_is_deleted_when_it_returns(self):
        self.agreed_view([1, 2, 3])
        b1 = self.brokers[1].bootstrap
        cli("topics", "--create", "--bootstrap-server", b1, "--topic", "doomed", "--partitions", "3",
            "--replication-factor", "3")
        self.same_view_everywhere("doomed", 3)
        down = self.brokers[3]
        doomed_dirs = lambda: sorted(d for d in os.listdir(down.data_dir) if d.startswith("doomed-"))  # noqa: E731
        self.assertEqual(doomed_dirs(), ["doomed-0", "doomed-1", "doomed-2"])
        down.stop()
        self.agreed_view([1, 2])
        cli("topics", "--delete", "--bootstrap-server", b1, "--topic", "doomed")
        for i in (1, 2):
            wait_until(f"broker {i} to forget the topic",
                       lambda: topic_view(self.brokers[i].bootstrap, "doomed") is None)
            self.assertFalse([d for d in os.listdir(self.brokers[i].data_dir) if d.startswith("doomed-")])
        # Broker 3 still holds replicas: the deletion waits for it.
        self.assertEqual(self.zk.children(f"{CHROOT}/admin/delete_topics"), ["doomed"])
        self.assertIsNotNone(self.zk.get(f"{CHROOT}/brokers/topics/doomed"))
        down.restart()
        self.agreed_view([1, 2, 3])
        wait_until("broker 3 to remove its replicas of the deleted topic", lambda: not doomed_dirs())
        wait_until("the topic's znodes to go",
                   lambda: self.zk.get(f"{CHROOT}/brokers/topics/doomed") is None
                   and self.zk.children(f"{CHROOT}/admin/delete_topics") == [])
        self.assertIsNone(topic_view(down.bootstrap, "doomed"))

    def test_9_a_killed_leader_hands_its_partitions_to_the_next_in_sync_replica(self):
        self.agreed_view([1, 2, 3])
        before = self.same_view_everywhere("r3", 6)
        controller = self.agreed_view([1, 2, 3])
        victim = next(i for i in (1, 2, 3) if i != controller)
        self.brokers[victim].kill()
        survivors = sorted(i for i in (1, 2, 3) if i != victim)
        def moved():
            v = self.same_view_everywhere("r3", 6)
            return v if all(v[p][0] in survivors and victim not in v[p][2] for p in range(6)) else None
        after = wait_until("leaders to leave the killed broker", moved, timeout=30)
        for p in range(6):
            if before[p][0] != victim:
                self.assertEqual(after[p][0], before[p][0], f"partition {p} had a live leader: it keeps it")
            else:
                expect = next(r for r in before[p][1] if r != victim and r in before[p][2])
                self.assertEqual(after[p][0], expect, f"partition {p}: the next in-sync replica leads")
        self.brokers[victim].restart()
        self.agreed_view([1, 2, 3])
        # Back as a follower: once caught up its leaders take it into the ISR again; leadership
        # stays where it moved.
        back = wait_until("the restarted broker back in every in-sync set", lambda: (
            v := self.same_view_everywhere("r3", 6)) and all(sorted(v[p][2]) == [1, 2, 3] for p in range(6)) and v,
            timeout=30)
        self.assertEqual({p: back[p][0] for p in range(6)}, {p: after[p][0] for p in range(6)})


    def test_10_the_zookeeper_side_topics_tool(self):
        """`samsa topics --zookeeper` (Kafka's old flow, still in most tutorials) writes the same
        znodes the brokers do; the controller acts on them and every broker serves the result."""
        self.agreed_view([1, 2, 3])
        zk = ["--zookeeper", self.connect]
        b1, b3 = self.brokers[1].bootstrap, self.brokers[3].bootstrap
        out = cli("topics", *zk, "--create", "--topic", "via-zk", "--partitions", "3", "--replication-factor", "1",
                  "--config", "retention.ms=3600000")
        self.assertEqual(out, "Created topic via-zk.\n")
        view = self.same_view_everywhere("via-zk", 3)
        self.assertEqual(sorted(view[p][0] for p in range(3)), [1, 2, 3])
        self.assertEqual(self.zk.get_json(f"{CHROOT}/config/topics/via-zk")["config"], {"retention.ms": "3600000"})
        self.assertIn("via-zk", cli("topics", *zk, "--list").split())
        described = cli("topics", *zk, "--describe", "--topic", "via-zk").splitlines()
        self.assertRegex(described[0], r"^Topic: via-zk\tTopicId: \S{22}\tPartitionCount: 3\tReplicationFactor: 1\t"
                                       r"Configs: retention.ms=3600000$")
        for p in range(3):
            self.assertEqual(described[1 + p], f"\tTopic: via-zk\tPartition: {p}\tLeader: {view[p][0]}\t"
                                               f"Replicas: {view[p][0]}\tIsr: {view[p][0]}")
        # The brokers' describe agrees with the tool's, topic id included.
        self.assertEqual(cli("topics", "--bootstrap-server", b3, "--describe", "--topic", "via-zk").splitlines(),
                         described)
        kcat = harness.require_program("kcat", "kcat")
        values = [f"v{i}" for i in range(300)]
        prod = subprocess.run([kcat, "-P", "-b", b3, "-t", "via-zk", "-X", "acks=all"],
                              input="\n".join(values) + "\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(prod.returncode, 0, prod.stderr[-1000:])
        # Grown through ZooKeeper: the new partitions appear on every broker and take records.
        out = cli("topics", *zk, "--alter", "--topic", "via-zk", "--partitions", "5")
        self.assertIn("Adding partitions succeeded!", out)
        self.same_view_everywhere("via-zk", 5)
        cons = subprocess.run([kcat, "-C", "-b", b1, "-t", "via-zk", "-o", "beginning", "-e", "-q"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(sorted(cons.stdout.split()), sorted(values))
        # Bad input: one line each, exit 1, nothing written.
        for args, message in (
                (["--create", "--topic", "via-zk", "--partitions", "1", "--replication-factor", "1"],
                 "Topic 'via-zk' already exists."),
                (["--create", "--topic", "too-many", "--partitions", "1", "--replication-factor", "4"],
                 "Replication factor: 4 larger than available brokers: 3."),
                (["--create", "--topic", "bad-config", "--partitions", "1", "--replication-factor", "1",
                  "--config", "retention.ms=soon"], "retention.ms"),
                (["--alter", "--topic", "via-zk", "--partitions", "2"], "can only be increased"),
                (["--create", "--topic", "x", "--partitions", "1", "--replication-factor", "1",
                  "--bootstrap-server", b1], "Only one of --bootstrap-server or --zookeeper"),
        ):
            r = subprocess.run([harness.samsa_cli(), "topics", *zk, *args], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 1 if "Only one" not in message else 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(message, r.stderr)
        self.assertEqual(self.zk.children(f"{CHROOT}/brokers/topics").count("too-many"), 0)
        self.assertEqual(self.zk.children(f"{CHROOT}/brokers/topics").count("bad-config"), 0)
        # Deleted through ZooKeeper: marked, then gone from every broker and from ZooKeeper.
        self.assertEqual(cli("topics", *zk, "--delete", "--topic", "via-zk"), "Topic via-zk is marked for deletion.\n")
        for b in self.brokers.values():
            wait_until(f"{b.name} to forget via-zk", lambda: topic_view(b.bootstrap, "via-zk") is None)
        wait_until("via-zk's znodes to go", lambda: self.zk.get(f"{CHROOT}/brokers/topics/via-zk") is None)
        self.assertNotIn("via-zk", cli("topics", *zk, "--list").split())

if __name__ == "__main__":
    harness.main()
