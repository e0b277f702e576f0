"""Apache Kafka's own command-line tools against Samsa: the jars of the release pinned in
tests/interop/kafka-tools/pom.xml (kafka-tools, kafka_2.13), fetched by scripts/setup.sh test into
build/kafka-tools/lib and run with `java -cp` as Kafka's bin/*.sh scripts do: topics, the
console producer and consumer, consumer groups, configs, get-offsets, delete-records, the
producer and consumer perf tests, transactions, and the log dumper on Samsa's own files (segment,
offset and time indexes, producer snapshots, transaction index), which must read every one of
them without complaint. In cluster mode: leader election and partition reassignment.
"""

import glob
import json
import os
import re
import subprocess
import tempfile
import time
import unittest

import harness
from harness import BrokerTestCase

confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "build", "kafka-tools", "lib")
TOOLS = "org.apache.kafka.tools."


def tool(main, *args, stdin=None, timeout=120, check=True):
    """Runs one of Kafka's tools (a main class under org.apache.kafka.tools) like its bin/ script;
    returns (stdout, stderr) with SLF4J's no-binding notice left out."""
    if not glob.glob(os.path.join(LIB, "kafka-tools-*.jar")):
        harness.fail_setup(f"{LIB} has no kafka-tools jar; run scripts/setup.sh test (it fetches Kafka's tools with Maven)")
    java = harness.require_program("java", "openjdk-17-jdk-headless")
    r = subprocess.run([java, "-Xmx512m", "-cp", os.path.join(LIB, "*"), TOOLS + main, *args], input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    err = "\n".join(l for l in r.stderr.splitlines() if not l.startswith("SLF4J:"))
    if check and r.returncode != 0:
        raise AssertionError(f"{main} {' '.join(args)} exited with {r.returncode}:\n{r.stdout[-2000:]}\n{err[-2000:]}")
    return r.stdout, err


class KafkaTools(BrokerTestCase):
    overrides = {"log.segment.bytes": 256 * 1024, "offsets.topic.num.partitions": 1,
                 "transaction.state.log.num.partitions": 1}

    def bs(self):
        return ["--bootstrap-server", self.broker.bootstrap]

    def test_1_topics_create_list_describe_alter_delete(self):
        out, _ = tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-topics", "--partitions", "3",
                      "--replication-factor", "1", "--config", "retention.ms=3600000")
        self.assertIn("Created topic kt-topics.", out)
        out, _ = tool("TopicCommand", *self.bs(), "--list")
        self.assertIn("kt-topics", out.split())
        out, _ = tool("TopicCommand", *self.bs(), "--describe", "--topic", "kt-topics")
        self.assertRegex(out, r"Topic: kt-topics\s+TopicId: \S+\s+PartitionCount: 3\s+ReplicationFactor: 1")
        self.assertIn("retention.ms=3600000", out)
        self.assertEqual(len(re.findall(r"Partition: \d+\s+Leader: 0\s+Replicas: 0\s+Isr: 0", out)), 3, out)
        tool("TopicCommand", *self.bs(), "--alter", "--topic", "kt-topics", "--partitions", "5")
        out, _ = tool("TopicCommand", *self.bs(), "--describe", "--topic", "kt-topics")
        self.assertIn("PartitionCount: 5", out)
        # A bad request gets Kafka's own error, printed by the tool.
        out, err = tool("TopicCommand", *self.bs(), "--alter", "--topic", "kt-topics", "--partitions", "2", check=False)
        self.assertIn("Topic currently has 5 partitions, which is higher than the requested 2.", out + err)
        tool("TopicCommand", *self.bs(), "--delete", "--topic", "kt-topics")
        deadline = time.monotonic() + 30
        while "kt-topics" in tool("TopicCommand", *self.bs(), "--list")[0].split():
            self.assertLess(time.monotonic(), deadline, "the deleted topic is still listed")
            time.sleep(0.5)

    def test_2_console_producer_consumer_and_consumer_groups(self):
        tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-console", "--partitions", "2",
             "--replication-factor", "1")
        lines = "".join(f"key{i}:value{i}\n" for i in range(10))
        tool("ConsoleProducer", *self.bs(), "--topic", "kt-console", "--reader-property", "parse.key=true",
             "--reader-property", "key.separator=:", stdin=lines)
        out, err = tool("consumer.ConsoleConsumer", *self.bs(), "--topic", "kt-console", "--from-beginning",
                        "--group", "kt-group", "--formatter-property", "print.key=true", "--max-messages", "10",
                        "--timeout-ms", "30000")
        got = sorted(tuple(l.split("\t")) for l in out.splitlines() if l)
        self.assertEqual(got, sorted((f"key{i}", f"value{i}") for i in range(10)))
        self.assertIn("Processed a total of 10 messages", err)

        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--list")
        self.assertIn("kt-group", out.split())
        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--describe", "--group", "kt-group")
        rows = [l.split() for l in out.splitlines() if l.startswith("kt-group")]
        self.assertEqual(len(rows), 2, out)
        self.assertEqual(sum(int(r[3]) for r in rows), 10)          # CURRENT-OFFSET
        self.assertEqual(sum(int(r[4]) for r in rows), 10)          # LOG-END-OFFSET
        self.assertTrue(all(r[5] == "0" for r in rows), out)        # LAG
        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--reset-offsets", "--group", "kt-group",
                      "--topic", "kt-console", "--to-earliest", "--execute")
        self.assertEqual(sorted(l.split()[-1] for l in out.splitlines() if l.startswith("kt-group")), ["0", "0"])
        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--describe", "--group", "kt-group")
        rows = [l.split() for l in out.splitlines() if l.startswith("kt-group")]
        self.assertEqual(sum(int(r[5]) for r in rows), 10, out)     # all lag again
        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--delete", "--group", "kt-group")
        self.assertIn("Deletion of requested consumer groups ('kt-group') was successful.", out)
        out, _ = tool("consumer.group.ConsumerGroupCommand", *self.bs(), "--list")
        self.assertNotIn("kt-group", out.split())

    def test_3_configs_of_a_topic_and_of_the_brokers(self):
        tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-configs", "--partitions", "1",
             "--replication-factor", "1")
        out, _ = tool("ConfigCommand", *self.bs(), "--entity-type", "topics", "--entity-name", "kt-configs",
                      "--alter", "--add-config", "retention.ms=100000,cleanup.policy=compact")
        self.assertIn("Completed updating config for topic kt-configs.", out)
        out, _ = tool("ConfigCommand", *self.bs(), "--entity-type", "topics", "--entity-name", "kt-configs",
                      "--describe")
        self.assertIn("retention.ms=100000", out)
        self.assertIn("cleanup.policy=compact", out)
        tool("ConfigCommand", *self.bs(), "--entity-type", "topics", "--entity-name", "kt-configs",
             "--alter", "--delete-config", "retention.ms")
        out, _ = tool("ConfigCommand", *self.bs(), "--entity-type", "topics", "--entity-name", "kt-configs",
                      "--describe")
        self.assertNotIn("retention.ms=100000", out)
        out, _ = tool("ConfigCommand", *self.bs(), "--entity-type", "brokers", "--entity-name", "0",
                      "--describe", "--all")
        self.assertRegex(out, r"log\.segment\.bytes=262144 ")
        self.assertIn("num.partitions=1", out)
        # A value of the wrong type is refused by the broker, and the tool says so.
        out, err = tool("ConfigCommand", *self.bs(), "--entity-type", "topics", "--entity-name", "kt-configs",
                        "--alter", "--add-config", "retention.ms=soon", check=False)
        self.assertIn("InvalidConfigurationException", out + err)

    def test_4_get_offsets_and_delete_records(self):
        tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-offsets", "--partitions", "2",
             "--replication-factor", "1")
        tool("ConsoleProducer", *self.bs(), "--topic", "kt-offsets", "--command-property", "partitioner.class="
             "org.apache.kafka.clients.producer.RoundRobinPartitioner", stdin="".join(f"m{i}\n" for i in range(20)))
        latest, _ = tool("GetOffsetShell", *self.bs(), "--topic", "kt-offsets")
        ends = dict(l.rsplit(":", 1) for l in latest.split())
        self.assertEqual(sum(int(v) for v in ends.values()), 20, latest)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"version": 1, "partitions": [{"topic": "kt-offsets", "partition": 0, "offset": 3}]}, f)
        try:
            out, _ = tool("DeleteRecordsCommand", *self.bs(), "--offset-json-file", f.name)
        finally:
            os.unlink(f.name)
        self.assertRegex(out, r"partition: kt-offsets-0\s+low_watermark: 3")
        earliest, _ = tool("GetOffsetShell", *self.bs(), "--topic", "kt-offsets", "--time", "-2")
        self.assertEqual(dict(l.rsplit(":", 1) for l in earliest.split()), {"kt-offsets:0": "3", "kt-offsets:1": "0"})

    def test_5_producer_and_consumer_perf_tests(self):
        out, _ = tool("ProducerPerformance", "--topic", "kt-perf", "--num-records", "30000", "--record-size", "100",
                      "--throughput", "-1", "--command-property", f"bootstrap.servers={self.broker.bootstrap}")
        self.assertRegex(out, r"30000 records sent, [\d.]+ records/sec")
        out, _ = tool("ConsumerPerformance", *self.bs(), "--topic", "kt-perf", "--messages", "30000",
                      "--timeout", "60000")
        row = out.strip().splitlines()[-1].split(", ")
        self.assertEqual(int(row[4]), 30000, out)                  # data.consumed.in.nMsg

    def test_6_transactions_and_the_log_dumper_on_samsas_files(self):
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "transactional.id": "kt-txn"})
        p.init_transactions(30)
        for i, commit in enumerate((False, True, False, True)):
            p.begin_transaction()
            for j in range(5):
                p.produce("kt-txn-topic", f"t{i}-{j}".encode(), partition=0)
            p.flush(30)
            (p.commit_transaction if commit else p.abort_transaction)(30)
        del p  # closes the producer before the broker stops below
        out, _ = tool("TransactionsCommand", *self.bs(), "list")
        self.assertRegex(out, r"kt-txn\s+0\s+\d+\s+CompleteCommit")
        out, _ = tool("TransactionsCommand", *self.bs(), "describe", "--transactional-id", "kt-txn")
        self.assertRegex(out, r"0\s+kt-txn\s+\d+\s+\d+\s+CompleteCommit")
        # Enough idempotent data to roll segments (each roll leaves a producer snapshot), then a
        # clean stop, which writes the last snapshot.
        tool("ProducerPerformance", "--topic", "kt-dump", "--num-records", "20000", "--record-size", "100",
             "--throughput", "-1", "--command-property", f"bootstrap.servers={self.broker.bootstrap}")
        self.broker.stop()
        try:
            self.dump_everything()
        finally:
            self.broker.restart()

    def dump_everything(self):
        data = self.broker.data_dir
        files = {ext: sorted(glob.glob(os.path.join(data, "kt-*", f"*.{ext}")))
                 for ext in ("log", "index", "timeindex", "snapshot", "txnindex")}
        for ext, found in files.items():
            self.assertTrue(found, f"no .{ext} file under {data}")
        self.assertGreater(len(glob.glob(os.path.join(data, "kt-dump-0", "*.log"))), 2, "kt-dump did not roll")
        every = [f for found in files.values() for f in found]
        out, err = tool("DumpLogSegments", "--deep-iteration", "--files", ",".join(every), timeout=300)
        complaints = [l for l in (out + "\n" + err).splitlines()
                      if re.search(r"(?i)exception|error|corrupt|mismatch|isvalid: false|not found|invalid", l)]
        self.assertEqual(complaints, [], "Kafka's dumper complained about Samsa's files")
        self.assertEqual(out.count("Dumping "), len(every))
        # The segments hold what was written: 20000 records of kt-dump, 20 of kt-txn-topic plus
        # its four markers; the transaction index names the two aborted transactions; every
        # snapshot names a producer.
        logs = {}
        for block in re.split(r"^Dumping ", out, flags=re.M)[1:]:
            name, body = block.split("\n", 1)
            logs[name] = body
        dump_records = sum(int(c) for n, b in logs.items() if "/kt-dump-0/" in n and n.endswith(".log")
                           for c in re.findall(r"^baseOffset: \d+ .* count: (\d+) ", b, re.M))
        self.assertEqual(dump_records, 20000)
        txn_log = "".join(b for n, b in logs.items() if "/kt-txn-topic-0/" in n and n.endswith(".log"))
        self.assertEqual(len(re.findall(r"^\| offset: \d+ .* payload: t\d-\d$", txn_log, re.M)), 0)  # no --print-data-log
        self.assertEqual(len(re.findall(r"^\| offset: \d+ ", txn_log, re.M)), 24)
        self.assertEqual(len(re.findall(r"endTxnMarker: (COMMIT|ABORT)", txn_log)), 4)
        aborted = "".join(b for n, b in logs.items() if n.endswith(".txnindex"))
        self.assertEqual(len(re.findall(r"^version: 0 producerId: \d+ firstOffset: \d+ lastOffset: \d+", aborted, re.M)), 2,
                         aborted)
        for n, b in logs.items():
            if n.endswith(".snapshot"):
                self.assertRegex(b, r"producerId: \d+ producerEpoch: \d+", n)


class KafkaToolsCluster(unittest.TestCase):
    """Leader election and partition reassignment, on three ZooKeeper-mode brokers."""

    @classmethod
    def setUpClass(cls):
        from zk_cluster import start_three_brokers
        start_three_brokers(cls, {"auto.leader.rebalance.enable": "false", "offsets.topic.num.partitions": 1},
                            "kafka-tools")
        cls.all = ",".join(b.bootstrap for b in cls.brokers.values())

    def bs(self):
        return ["--bootstrap-server", self.all]

    def leaders(self, topic):
        out, _ = tool("TopicCommand", *self.bs(), "--describe", "--topic", topic)
        return {int(p): (int(l), r, i) for p, l, r, i in
                re.findall(r"Partition: (\d+)\s+Leader: (-?\d+)\s+Replicas: (\S+)\s+Isr: (\S+)", out)}

    def wait_for(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            got = predicate()
            if got:
                return got
            self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
            time.sleep(0.5)

    def test_1_preferred_leader_election(self):
        tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-elect", "--replica-assignment", "1:2:3,2:3:1")
        self.wait_for("both partitions in sync", lambda: all(
            i.count(",") == 2 for _, _, i in self.leaders("kt-elect").values()) and len(self.leaders("kt-elect")) == 2)
        self.assertEqual({p: l for p, (l, _, _) in self.leaders("kt-elect").items()}, {0: 1, 1: 2})
        # Broker 1 restarts: its controlled shutdown moves partition 0's leadership away, and
        # with automatic rebalancing off it stays away until asked.
        self.brokers[1].stop()
        self.brokers[1].restart()
        self.wait_for("broker 1 back in the in-sync set",
                      lambda: all("1" in i.split(",") for _, _, i in self.leaders("kt-elect").values()))
        self.assertNotEqual(self.leaders("kt-elect")[0][0], 1)
        out, _ = tool("LeaderElectionCommand", *self.bs(), "--election-type", "PREFERRED", "--topic", "kt-elect",
                      "--partition", "0")
        self.assertIn("Successfully completed leader election (PREFERRED) for partitions kt-elect-0", out)
        self.wait_for("broker 1 leading partition 0 again", lambda: self.leaders("kt-elect")[0][0] == 1)
        out, _ = tool("LeaderElectionCommand", *self.bs(), "--election-type", "PREFERRED", "--topic", "kt-elect",
                      "--partition", "0")
        self.assertIn("Valid replica already elected for partitions kt-elect-0", out)
        # Every partition: nothing left to elect, and (as Kafka answers) nothing listed.
        out, _ = tool("LeaderElectionCommand", *self.bs(), "--election-type", "PREFERRED", "--all-topic-partitions")
        self.assertNotIn("Successfully completed", out)

    def test_2_partition_reassignment(self):
        tool("TopicCommand", *self.bs(), "--create", "--topic", "kt-move", "--replica-assignment", "1,2")
        p = Producer({"bootstrap.servers": self.all, "acks": "all"})
        for i in range(200):
            p.produce("kt-move", f"r{i}".encode(), partition=i % 2)
        self.assertEqual(p.flush(30), 0)
        with tempfile.TemporaryDirectory() as d:
            topics = os.path.join(d, "topics.json")
            with open(topics, "w") as f:
                json.dump({"version": 1, "topics": [{"topic": "kt-move"}]}, f)
            out, _ = tool("reassign.ReassignPartitionsCommand", *self.bs(), "--topics-to-move-json-file", topics,
                          "--broker-list", "1,2,3", "--generate")
            self.assertIn("Current partition replica assignment", out)
            self.assertIn("Proposed partition reassignment configuration", out)
            plan = os.path.join(d, "plan.json")
            with open(plan, "w") as f:
                json.dump({"version": 1, "partitions": [
                    {"topic": "kt-move", "partition": 0, "replicas": [3, 2]},
                    {"topic": "kt-move", "partition": 1, "replicas": [2, 3, 1]}]}, f)
            out, _ = tool("reassign.ReassignPartitionsCommand", *self.bs(), "--reassignment-json-file", plan,
                          "--execute")
            self.assertIn("Successfully started partition reassignments for kt-move-0,kt-move-1", out)
            self.wait_for("the reassignment to complete", lambda: "is completed" in tool(
                "reassign.ReassignPartitionsCommand", *self.bs(), "--reassignment-json-file", plan, "--verify")[0]
                and "still in progress" not in tool("reassign.ReassignPartitionsCommand", *self.bs(),
                                                    "--reassignment-json-file", plan, "--verify")[0])
        got = self.leaders("kt-move")
        self.assertEqual(got[0][1], "3,2")
        self.assertEqual(got[1][1], "2,3,1")
        records = harness.consume_to_end({"bootstrap.servers": self.all, "group.id": "kt-move-check"}, "kt-move")
        self.assertEqual(sorted(m.value().decode() for m in records), sorted(f"r{i}" for i in range(200)))


if __name__ == "__main__":
    harness.main()
