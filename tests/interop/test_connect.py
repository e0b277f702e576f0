"""Kafka Connect and MirrorMaker 2 against Samsa, from the jars pinned in
tests/interop/kafka-connect/pom.xml (fetched by scripts/setup.sh test into build/kafka-connect/lib):

- standalone: the file source and sink connectors move a file through a topic and back
  byte-identical, the REST API lists them;
- distributed: two workers form a group on Samsa, keep their configs, offsets and status in
  compacted topics, and through the REST API a file source and sink are created (the file comes
  back byte-identical), the source paused (nothing more flows) and resumed, then deleted;
- MirrorMaker 2 copies a topic from one Samsa broker to another (as "a.<topic>"), every record,
  with its config and a consumer group's offsets translated: the group, failed over to the
  target, reads exactly the records it had not consumed on the source.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness
from harness import Broker, BrokerTestCase
from zk_cluster import wait_until

confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "build", "kafka-connect", "lib")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_props(path, props):
    with open(path, "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in props.items())
    return path


def text(lines_from, lines_to):
    """Lines with some variety (spaces, punctuation, non-ASCII), each ending in a newline."""
    return "".join(f"line {i}: the quick brown fox, {i * 7919 % 1000} größer — ünïcödé ✓\n"
                   for i in range(lines_from, lines_to))


class Process:
    """A Connect (or MirrorMaker) JVM with its log in `log`."""

    def __init__(self, main, args, log):
        if not os.path.isdir(LIB):
            harness.fail_setup(f"{LIB} is missing; run scripts/setup.sh test (it fetches Kafka Connect with Maven)")
        java = harness.require_program("java", "openjdk-17-jdk-headless")
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([java, "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                                          "-cp", os.path.join(LIB, "*"), main, *args], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, preexec_fn=harness._die_with_parent)

    def tail(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def rest(port, method, path, body=None, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def wait_for(what, predicate, timeout=120, log=None):
    """zk_cluster.wait_until, with the JVM's log when it times out."""
    try:
        return wait_until(what, predicate, timeout=timeout, interval=0.5)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{log() if log else ''}") from None


def same_file(a, b):
    if not os.path.exists(b):
        return False
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


class Connect(BrokerTestCase):
    overrides = {"offsets.topic.num.partitions": 2}

    def worker_props(self, d, port, **extra):
        return {"bootstrap.servers": self.broker.bootstrap,
                "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "offset.flush.interval.ms": 500, "listeners": f"http://127.0.0.1:{port}",
                "rest.advertised.host.name": "127.0.0.1", **extra}

    def test_1_standalone_file_source_and_sink(self):
        d = tempfile.mkdtemp(prefix="connect-standalone-", dir=self.broker.tmp)
        src, dst = os.path.join(d, "in.txt"), os.path.join(d, "out.txt")
        with open(src, "w") as f:
            f.write(text(0, 3000))
        port = free_port()
        worker = write_props(os.path.join(d, "worker.properties"),
                             self.worker_props(d, port, **{"offset.storage.file.filename": os.path.join(d, "offsets")}))
        source = write_props(os.path.join(d, "source.properties"),
                             {"name": "file-source", "connector.class": "FileStreamSource", "tasks.max": 1,
                              "file": src, "topic": "connect-standalone"})
        sink = write_props(os.path.join(d, "sink.properties"),
                           {"name": "file-sink", "connector.class": "FileStreamSink", "tasks.max": 1, "file": dst,
                            "topics": "connect-standalone"})
        p = Process("org.apache.kafka.connect.cli.ConnectStandalone", [worker, source, sink], os.path.join(d, "connect.log"))
        try:
            wait_for("the file back byte-identical", lambda: same_file(src, dst), log=p.tail)
            status, names = rest(port, "GET", "/connectors")
            self.assertEqual(sorted(names), ["file-sink", "file-source"])
        finally:
            p.stop()

    def test_2_distributed_workers_and_the_rest_api(self):
        d = tempfile.mkdtemp(prefix="connect-distributed-", dir=self.broker.tmp)
        ports = [free_port(), free_port()]
        common = {"group.id": "samsa-connect", "config.storage.topic": "connect-configs",
                  "offset.storage.topic": "connect-offsets", "status.storage.topic": "connect-status",
                  "config.storage.replication.factor": 1, "offset.storage.replication.factor": 1,
                  "status.storage.replication.factor": 1}
        workers = []
        try:
            for i, port in enumerate(ports):
                props = write_props(os.path.join(d, f"worker{i}.properties"), self.worker_props(d, port, **common))
                workers.append(Process("org.apache.kafka.connect.cli.ConnectDistributed", [props],
                                       os.path.join(d, f"worker{i}.log")))
            for i, port in enumerate(ports):
                wait_for(f"worker {i}'s REST API", lambda: rest(port, "GET", "/")[1]["version"], log=workers[i].tail)
            # Both workers are members of one group on Samsa.
            admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
            wait_for("both workers in the group", lambda: [g for g in admin.list_groups(timeout=10)
                                                            if g.id == "samsa-connect" and len(g.members) == 2])
            # Their internal topics are compacted topics on Samsa.
            for t in ("connect-configs", "connect-offsets", "connect-status"):
                r = ConfigResource("topic", t)
                cfg = admin.describe_configs([r])[r].result(30)
                self.assertEqual(cfg["cleanup.policy"].value, "compact", t)

            src, dst = os.path.join(d, "in.txt"), os.path.join(d, "out.txt")
            with open(src, "w") as f:
                f.write(text(0, 2000))
            status, _ = rest(ports[0], "POST", "/connectors", {"name": "dist-source", "config": {
                "connector.class": "FileStreamSource", "tasks.max": "1", "file": src, "topic": "connect-dist"}})
            self.assertEqual(status, 201)
            status, _ = rest(ports[1], "POST", "/connectors", {"name": "dist-sink", "config": {
                "connector.class": "FileStreamSink", "tasks.max": "1", "file": dst, "topics": "connect-dist"}})
            self.assertEqual(status, 201)
            wait_for("the file back byte-identical", lambda: same_file(src, dst), log=workers[0].tail)
            state = lambda name: rest(ports[1], "GET", f"/connectors/{name}/status")[1]
            wait_for("both connectors RUNNING", lambda: all(
                state(n)["connector"]["state"] == "RUNNING" and state(n)["tasks"]
                and state(n)["tasks"][0]["state"] == "RUNNING" for n in ("dist-source", "dist-sink")))

            # Paused, the source moves nothing; resumed, it catches up.
            rest(ports[0], "PUT", "/connectors/dist-source/pause")
            wait_for("the source PAUSED", lambda: state("dist-source")["connector"]["state"] == "PAUSED")
            with open(src, "a") as f:
                f.write(text(2000, 2500))
            time.sleep(3)
            self.assertFalse(same_file(src, dst), "records moved while the source was paused")
            rest(ports[0], "PUT", "/connectors/dist-source/resume")
            wait_for("the appended lines through", lambda: same_file(src, dst), log=workers[0].tail)

            status, _ = rest(ports[1], "DELETE", "/connectors/dist-source")
            self.assertEqual(status, 204)
            wait_for("the source gone", lambda: "dist-source" not in rest(ports[0], "GET", "/connectors")[1])
        finally:
            for w in workers:
                w.stop()


class MirrorMaker2(unittest.TestCase):
    def test_topics_group_offsets_and_configs_are_mirrored_and_a_consumer_fails_over(self):
        a = Broker({"offsets.topic.num.partitions": 1}, name="mm2-a")
        b = Broker({"offsets.topic.num.partitions": 1}, name="mm2-b")
        for x in (a, b):
            self.addCleanup(x.close)
            x.start()
        admin_a = AdminClient({"bootstrap.servers": a.bootstrap})
        admin_a.create_topics([confluent_kafka.admin.NewTopic("mm-src", 2, 1, config={"retention.ms": "987654321"})])[
            "mm-src"].result(30)
        p = Producer({"bootstrap.servers": a.bootstrap, "acks": "all"})
        for i in range(2000):
            p.produce("mm-src", key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2)
        self.assertEqual(p.flush(30), 0)
        # A group on the source has consumed the first half: offset 500 of both partitions
        # (record i is at offset i // 2 of partition i % 2).
        c = confluent_kafka.Consumer({"bootstrap.servers": a.bootstrap, "group.id": "mm-group"})
        c.commit(offsets=[confluent_kafka.TopicPartition("mm-src", 0, 500),
                          confluent_kafka.TopicPartition("mm-src", 1, 500)], asynchronous=False)
        c.close()
        first = {f"v{i}" for i in range(1000)}

        d = tempfile.mkdtemp(prefix="mm2-", dir=a.tmp)
        props = write_props(os.path.join(d, "mm2.properties"), {
            "clusters": "a, b", "a.bootstrap.servers": a.bootstrap, "b.bootstrap.servers": b.bootstrap,
            "a->b.enabled": "true", "a->b.topics": "mm-src", "a->b.groups": "mm-group", "b->a.enabled": "false",
            "replication.factor": 1, "checkpoints.topic.replication.factor": 1,
            "heartbeats.topic.replication.factor": 1, "offset-syncs.topic.replication.factor": 1,
            "offset.storage.replication.factor": 1, "status.storage.replication.factor": 1,
            "config.storage.replication.factor": 1, "refresh.topics.interval.seconds": 2,
            "refresh.groups.interval.seconds": 2, "emit.checkpoints.interval.seconds": 1,
            "sync.group.offsets.enabled": "true", "sync.group.offsets.interval.seconds": 1,
            "sync.topic.configs.interval.seconds": 2, "offset.lag.max": 0,
            "dedicated.mode.enable.internal.rest": "false"})
        mm = Process("org.apache.kafka.connect.mirror.MirrorMaker", [props], os.path.join(d, "mm2.log"))
        try:
            def mirrored():
                got = harness.consume_to_end({"bootstrap.servers": b.bootstrap, "group.id": f"mm-check-{time.time()}"},
                                             "a.mm-src", timeout=20)
                return len(got) >= 2000 and got
            got = wait_for("every record mirrored to b as a.mm-src", mirrored, timeout=180, log=mm.tail)
            self.assertEqual(sorted((m.key().decode(), m.value().decode()) for m in got),
                             sorted((f"k{i}", f"v{i}") for i in range(2000)))
            # The topic's config comes along.
            admin_b = AdminClient({"bootstrap.servers": b.bootstrap})
            r = ConfigResource("topic", "a.mm-src")
            wait_for("retention.ms synced to a.mm-src",
                     lambda: admin_b.describe_configs([r])[r].result(30)["retention.ms"].value == "987654321",
                     log=mm.tail)
            # The group's offsets are translated onto the target's copy.
            def translated():
                c = confluent_kafka.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "mm-group"})
                try:
                    tps = c.committed([confluent_kafka.TopicPartition("a.mm-src", p) for p in (0, 1)], timeout=10)
                finally:
                    c.close()
                offs = {tp.partition: tp.offset for tp in tps}
                return offs if all(o >= 0 for o in offs.values()) else None
            offsets = wait_for("mm-group's offsets translated on b", translated, timeout=120, log=mm.tail)
            # Translation goes through MirrorMaker's offset syncs, so it may trail the source's
            # commit at first (never pass it); give it time to catch up.
            deadline = time.monotonic() + 30
            while offsets != {0: 500, 1: 500} and time.monotonic() < deadline:
                time.sleep(1)
                offsets = translated() or offsets
        finally:
            mm.stop()
        self.assertTrue(all(0 < o <= 500 for o in offsets.values()), offsets)
        # Failed over to the target, the group resumes from the translated offsets: the second half.
        second = [m.value().decode() for m in harness.consume_to_end(
            {"bootstrap.servers": b.bootstrap, "group.id": "mm-group", "enable.auto.commit": False}, "a.mm-src",
            start=confluent_kafka.OFFSET_STORED)]
        # From the translated offsets on, every record once: nothing the group had not consumed is
        # skipped, and only what lies between a translated offset and the source's commit comes again.
        expect = {f"v{i}" for i in range(2000) if (i // 2) >= offsets[i % 2]}
        self.assertEqual(sorted(second), sorted(expect))
        self.assertEqual(set(second) | first, {f"v{i}" for i in range(2000)})


if __name__ == "__main__":
    harness.main()
