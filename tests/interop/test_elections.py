#!/usr/bin/python3
"""Leader elections asked for by an operator, on three samsa-server brokers and a real ZooKeeper.

`samsa leader-election` (kafka-leader-election.sh) sends ElectLeaders to the controller:
- PREFERRED moves a partition's leadership back to its first replica once that one is live and
  in sync (auto.leader.rebalance.enable is off here, so only the tool moves it); a partition
  already led by it is reported as not needing an election, an unknown one as an error.
- UNCLEAN brings back a partition whose in-sync replicas are all down, led by a live replica
  outside the ISR: the records only the ISR had are lost, and the controller logs it. With
  unclean.leader.election.enable off (the default) such a partition stays offline; turning the
  topic config on elects it at once. When the old leader returns it truncates what the new one
  never had, and the partition reads the same through either broker.
A single embedded node answers that no election is needed.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_elections.py
"""

import subprocess
import time
import unittest

import harness
from zk_cluster import start_three_brokers, wait_until
from test_zk_cluster import cli, topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

EXTRA = {"auto.leader.rebalance.enable": "false", "controlled.shutdown.retry.backoff.ms": "300",
         "controlled.shutdown.max.retries": "2"}


def run_cli(*args):
    return subprocess.run([harness.samsa_cli(), *args], capture_output=True, text=True, timeout=90)


class Elections(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_three_brokers(cls, EXTRA, "elections")
        cls.boot = {i: cls.brokers[i].bootstrap for i in (1, 2, 3)}

    def tearDown(self):
        for b in self.brokers.values():
            self.assertNotRegex(b.log_text(), harness.SANITIZER_RE)

    def create(self, topic, **kw):
        admin = AdminClient({"bootstrap.servers": ",".join(self.boot.values())})
        admin.create_topics([NewTopic(topic, **kw)], operation_timeout=30, request_timeout=30)[topic].result(timeout=40)

    def view(self, topic, via=3):
        return topic_view(self.boot[via], topic)

    def produce(self, topic, values, via):
        p = Producer({"bootstrap.servers": self.boot[via], "acks": "all", "enable.idempotence": True,
                      "message.timeout.ms": 30000})
        failed = []
        for v in values:
            p.produce(topic, v.encode(), partition=0,
                      on_delivery=lambda err, msg: err and failed.append(err))
        self.assertEqual(p.flush(40), 0)
        self.assertEqual(failed, [])

    def read(self, topic, via):
        got = harness.consume_to_end({"bootstrap.servers": self.boot[via], "group.id": f"read-{time.monotonic()}"},
                                     topic, [0])
        return [m.value().decode() for m in got]

    def test_1_preferred_election_after_a_restart(self):
        topic = "pref"
        self.create(topic, num_partitions=3, replication_factor=3)
        wait_until("three in-sync replicas everywhere",
                   lambda: (v := self.view(topic)) and all(len(x[2]) == 3 for x in v.values()))
        before = self.view(topic)
        victim = before[0][1][0]  # partition 0's preferred replica
        self.brokers[victim].stop()
        self.brokers[victim].restart()
        moved = wait_until("the restarted broker back in sync, leading nothing", lambda: (
            v := self.view(topic)) and all(len(x[2]) == 3 for x in v.values()) and v)
        self.assertNotEqual(moved[0][0], victim, "auto rebalance is off: leadership stays moved")
        out = cli("leader-election", "--bootstrap-server", self.boot[victim], "--election-type", "preferred",
                  "--topic", topic, "--partition", "0")
        self.assertIn(f"Successfully completed leader election (PREFERRED) for partitions {topic}-0", out)
        self.assertEqual(self.view(topic)[0][0], victim)
        cli("leader-election", "--bootstrap-server", self.boot[1], "--election-type", "PREFERRED",
            "--all-topic-partitions")
        after = self.view(topic)
        self.assertEqual({p: after[p][0] for p in after}, {p: after[p][1][0] for p in after})
        out = cli("leader-election", "--bootstrap-server", self.boot[2], "--election-type", "PREFERRED",
                  "--topic", topic, "--partition", "1")
        self.assertIn(f"Valid replica already elected for partitions {topic}-1", out)
        r = run_cli("leader-election", "--bootstrap-server", self.boot[2], "--election-type", "PREFERRED",
                    "--topic", "no-such-topic", "--partition", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", r.stdout)
        self.assertIn("1 replica(s) could not be elected", r.stderr)
        r = run_cli("leader-election", "--bootstrap-server", self.boot[2], "--all-topic-partitions")
        self.assertEqual(r.returncode, 2)
        self.assertIn("election-type", r.stderr)
        r = run_cli("leader-election", "--bootstrap-server", self.boot[2], "--election-type", "PREFERRED",
                    "--all-topic-partitions", "--topic", topic)
        self.assertEqual(r.returncode, 2)

    def test_2_unclean_election_off_keeps_a_partition_offline_on_brings_it_back(self):
        for t in ("dirty", "dirty-config"):
            self.create(t, num_partitions=1, replica_assignment=[[1, 2]], config={"min.insync.replicas": "1"})
            wait_until(f"{t}: both replicas in sync", lambda: (v := self.view(t)) and v[0][2] == [1, 2])
            self.produce(t, [f"before-{i}" for i in range(10)], via=1)
        # Broker 2 stops first (its controlled shutdown takes it out of the ISR), then records
        # reach broker 1 alone, then broker 1 stops: no in-sync replica is left.
        self.brokers[2].stop()
        for t in ("dirty", "dirty-config"):
            wait_until(f"{t}: broker 1 alone in sync", lambda: (v := self.view(t)) and v[0][2] == [1])
            self.produce(t, [f"only-on-1-{i}" for i in range(5)], via=1)
        out = cli("topics", "--bootstrap-server", self.boot[3], "--describe", "--under-replicated-partitions")
        self.assertIn("Topic: dirty\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1\tOffline: 2", out)
        out = cli("topics", "--bootstrap-server", self.boot[3], "--describe", "--at-min-isr-partitions")
        self.assertIn("Topic: dirty\tPartition: 0", out, "one in sync, min.insync.replicas 1")
        self.assertEqual(cli("topics", "--bootstrap-server", self.boot[3], "--describe", "--under-min-isr-partitions"), "")
        self.brokers[1].stop()
        self.brokers[2].restart()
        for t in ("dirty", "dirty-config"):
            wait_until(f"{t}: offline", lambda: (v := self.view(t)) and v[0][0] == -1)
        time.sleep(3)
        for t in ("dirty", "dirty-config"):
            self.assertEqual(self.view(t)[0][0], -1, "unclean election is off: the partition stays offline")
        out = cli("topics", "--bootstrap-server", self.boot[3], "--describe", "--unavailable-partitions")
        self.assertIn("Topic: dirty\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: 1\tOffline: 1", out)

        out = cli("leader-election", "--bootstrap-server", self.boot[3], "--election-type", "UNCLEAN",
                  "--topic", "dirty", "--partition", "0")
        self.assertIn("Successfully completed leader election (UNCLEAN) for partitions dirty-0", out)
        self.assertEqual(self.view("dirty")[0][:3:2], (2, [2]))
        cli("configs", "--bootstrap-server", self.boot[3], "--alter", "--entity-type", "topics",
            "--entity-name", "dirty-config", "--add-config", "unclean.leader.election.enable=true")
        wait_until("dirty-config led by broker 2", lambda: self.view("dirty-config")[0][0] == 2)
        logs = "".join(b.log_text() for b in self.brokers.values())
        for t in ("dirty", "dirty-config"):
            self.assertIn(f"unclean leader election for {t}-0", logs)
        r = run_cli("leader-election", "--bootstrap-server", self.boot[3], "--election-type", "UNCLEAN",
                    "--topic", "dirty", "--partition", "0")
        self.assertIn("Valid replica already elected for partitions dirty-0", r.stdout)

        self.produce("dirty", [f"after-{i}" for i in range(5)], via=3)
        expect = [f"before-{i}" for i in range(10)] + [f"after-{i}" for i in range(5)]
        self.assertEqual(self.read("dirty", via=2), expect, "what only broker 1 had is lost; the rest is there")
        # Broker 1 comes back as a follower, drops what the new leader never had, and catches up.
        self.brokers[1].restart()
        for t in ("dirty", "dirty-config"):
            wait_until(f"{t}: broker 1 back in sync", lambda: (v := self.view(t)) and sorted(v[0][2]) == [1, 2],
                       timeout=60)
        cli("leader-election", "--bootstrap-server", self.boot[3], "--election-type", "PREFERRED",
            "--topic", "dirty", "--partition", "0")
        self.assertEqual(self.view("dirty")[0][0], 1)
        self.assertEqual(self.read("dirty", via=1), expect, "broker 1 leads with the same records")
        self.assertEqual(self.read("dirty-config", via=1), [f"before-{i}" for i in range(10)])


class SingleNode(harness.BrokerTestCase):
    def test_no_election_is_needed(self):
        b = self.broker.bootstrap
        admin = AdminClient({"bootstrap.servers": b})
        admin.create_topics([NewTopic("one", 2, 1)], operation_timeout=30)["one"].result(timeout=40)
        out = cli("leader-election", "--bootstrap-server", b, "--election-type", "PREFERRED",
                  "--topic", "one", "--partition", "1")
        self.assertIn("Valid replica already elected for partitions one-1", out)
        out = cli("leader-election", "--bootstrap-server", b, "--election-type", "UNCLEAN", "--all-topic-partitions")
        self.assertEqual(out, "")


if __name__ == "__main__":
    harness.main()
