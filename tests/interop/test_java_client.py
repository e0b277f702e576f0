"""The Java client (kafka-clients, the version pinned in tests/interop/java/pom.xml) against
Samsa, through tests/interop/java's Clients program: a producer with default settings
(idempotent, acks=all) under every compression codec with keys and headers; consumers in a group
with manual and automatic commits, a rebalance listener, seek, pause/resume and offsetsForTimes;
the Admin API (topics, cluster, configs, records, offsets, log dirs, groups); and on three
ZooKeeper brokers alterPartitionReassignments, listPartitionReassignments and electLeaders.
"""

import json
import os
import re
import subprocess
import unittest

import harness
from harness import BrokerTestCase


def run_java(*args, main="Clients", timeout=240):
    r = subprocess.run(harness.java_command(*args, main=main), capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"java {main} {' '.join(args)} exited with {r.returncode}:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class JavaClient(BrokerTestCase):
    overrides = {"offsets.topic.num.partitions": 1, "num.partitions": 2}

    def test_1_default_producer_every_codec_keys_and_headers(self):
        got = run_java("codecs", self.broker.bootstrap, "java-codecs", "2000")
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            self.assertEqual(got["codecs"][codec], {"acked": 2000, "read": 2000, "mismatched": 0, "duplicated": 0}, codec)
        self.assertEqual(got["out_of_order"], 0)
        # The default producer is idempotent: every batch carries a producer id and sequence.
        logs = sorted(os.path.join(d, f) for d in (os.path.join(self.broker.data_dir, f"java-codecs-{p}") for p in (0, 1))
                      for f in os.listdir(d) if f.endswith(".log"))
        out = subprocess.run([harness.samsa_cli(), "dump-log", "--files", ",".join(logs)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        pids = set(re.findall(r"producerId: (-?\d+)", out))
        self.assertTrue(pids and "-1" not in pids, f"batches without a producer id: {sorted(pids)}")
        codecs = set(re.findall(r"compresscodec: (\w+)", out))
        self.assertEqual(codecs, {"none", "gzip", "snappy", "lz4", "zstd"})

    def test_2_consumers_commits_listener_seek_pause_offsets_for_times(self):
        got = run_java("consumer", self.broker.bootstrap, "java-consumer", "java-consumer-group")
        self.assertGreaterEqual(got["manual_read"], 40)
        self.assertEqual(got["manual_committed"], got["manual_read"])          # commitSync() of what was read
        self.assertEqual(got["auto_read"], 100 - got["manual_read"])          # resumed at the commit
        self.assertIn("assigned 2", got["rebalance_events"])
        self.assertEqual(got["read_while_paused"], 0)
        self.assertEqual(got["after_seek"], {"partition": 0, "offset": 10, "value": "v20"})
        self.assertEqual(got["partitions_after_resume"], [0])
        self.assertEqual(got["offset_for_time"], 20)
        self.assertGreater(got["auto_committed"], 0)

    def test_3_admin_api(self):
        got = run_java("admin", self.broker.bootstrap)
        self.assertTrue(got["listed"])
        self.assertEqual(got["partitions"], 3)
        self.assertEqual(got["cluster"]["nodes"], 1)
        self.assertEqual(got["cluster"]["controller"], 0)
        self.assertTrue(got["cluster"]["id"])
        self.assertEqual((got["retention_ms"], got["retention_source"]), ("123456", "DYNAMIC_TOPIC_CONFIG"))
        self.assertEqual(got["broker_num_partitions"], "2")
        self.assertEqual(got["offsets"], [5, 20])
        self.assertGreater(got["log_dir_size"], 0)
        self.assertTrue(got["groups_listed"])
        self.assertEqual(got["group_state"], "Empty")
        self.assertEqual(got["group_offset"], 7)
        self.assertTrue(got["group_deleted"])
        self.assertTrue(got["deleted"])
        self.assertEqual(got["bad_replication_factor"], "InvalidReplicationFactorException")


class JavaClientCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from zk_cluster import start_three_brokers
        start_three_brokers(cls, {"auto.leader.rebalance.enable": "false", "offsets.topic.num.partitions": 1},
                            "java-cluster")
        cls.all = ",".join(b.bootstrap for b in cls.brokers.values())

    def test_1_reassignment_and_leader_election(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.all})
        admin.create_topics([NewTopic("java-move", 1, replica_assignment=[[1, 2, 3]])])["java-move"].result(30)
        got = run_java("reassign", self.all, "java-move")
        self.assertTrue(got["reassignment_done"])
        self.assertEqual(got["replicas"], [3, 2, 1])
        self.assertEqual(got["election"], "elected")
        self.assertEqual(got["leader"], 3)


if __name__ == "__main__":
    harness.main()
