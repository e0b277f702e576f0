#!/usr/bin/python3
"""kcat against samsa-server: keyed produce with headers (-K, -H) under each codec into
auto-created topics, consume with -o beginning -e and a format string, and -L metadata.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_kcat.py
"""

import collections
import json
import subprocess

import harness

KCAT = harness.require_program("kcat", "kcat")
harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

AUTO_PARTITIONS = 3
LINES = 600
KEYS = 17
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def kcat(broker, *args, stdin=None, timeout=60):
    cmd = [KCAT, "-b", broker.bootstrap, "-X", "socket.timeout.ms=20000", *args]
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited with {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def lines_for(topic):
    return [(f"key-{i % KEYS:02d}", f"{topic} value {i:05d} " + "x" * (i % 50)) for i in range(LINES)]


class KcatTest(harness.BrokerTestCase):
    overrides = {"num.partitions": AUTO_PARTITIONS, "auto.create.topics.enable": "true"}

    def produce(self, topic, rows, *extra):
        text = "".join(f"{k}:{v}\n" for k, v in rows).encode()
        kcat(self.broker, "-P", "-t", topic, "-K", ":", *extra, stdin=text)

    def consume(self, topic, *extra):
        out = kcat(self.broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p|%o|%k|%s|%h\\n", *extra)
        rows = []
        for line in out.decode().splitlines():
            p, o, k, v, h = line.split("|")
            rows.append((int(p), int(o), k, v, h))
        return rows

    def metadata(self, topic):
        return kcat(self.broker, "-L", "-t", topic).decode()

    def test_keyed_produce_with_headers_every_codec(self):
        for codec in CODECS:
            with self.subTest(codec=codec):
                topic = f"kcat-{codec}"
                rows = lines_for(topic)
                self.produce(topic, rows, "-H", "source=kcat", "-H", f"codec={codec}",
                             "-X", f"compression.codec={codec}")
                got = self.consume(topic)
                self.assertEqual(len(got), LINES)
                self.assertEqual(sorted((k, v) for _, _, k, v, _ in got), sorted(rows))
                for p, o, k, v, h in got:
                    self.assertEqual(h, f"source=kcat,codec={codec}", f"headers at {p}/{o}")
                by_partition = collections.defaultdict(list)
                for p, o, k, v, _ in got:
                    by_partition[p].append((o, k, v))
                self.assertEqual(set(by_partition), set(range(AUTO_PARTITIONS)), "keys did not spread")
                for p, seq in by_partition.items():
                    self.assertEqual([o for o, _, _ in seq], list(range(len(seq))), f"offsets of partition {p}")
                    per_key = collections.defaultdict(list)
                    for _, k, v in seq:
                        per_key[k].append(v)
                    for k, vs in per_key.items():
                        self.assertEqual(vs, [v for kk, v in rows if kk == k], f"order of key {k}")
                self.assertIn(f'topic "{topic}" with {AUTO_PARTITIONS} partitions:', self.metadata(topic))

    def test_metadata_lists_partition_count(self):
        topic = "kcat-five"
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for fut in admin.create_topics([NewTopic(topic, num_partitions=5, replication_factor=1)]).values():
            fut.result(timeout=30)
        text = self.metadata(topic)
        self.assertIn(f'topic "{topic}" with 5 partitions:', text)
        for p in range(5):
            self.assertIn(f"partition {p}, leader", text)
        js = json.loads(kcat(self.broker, "-L", "-J"))
        names = {t["topic"]: len(t["partitions"]) for t in js["topics"]}
        self.assertEqual(names.get(topic), 5)
        self.assertEqual(len(js["brokers"]), 1)
        self.assertEqual(js["brokers"][0]["name"], f"127.0.0.1:{self.broker.port}")

    def test_explicit_partition_and_offsets_query(self):
        topic = "kcat-explicit"
        rows = [(f"k{i}", f"only partition two {i}") for i in range(50)]
        self.produce(topic, rows, "-p", "2")
        got = self.consume(topic, "-p", "2")
        self.assertEqual([(k, v) for _, _, k, v, _ in got], rows)
        self.assertEqual([o for _, o, _, _, _ in got], list(range(50)))
        self.assertEqual(self.consume(topic, "-p", "0"), [])
        # -Q: offsets for a timestamp; -1 asks for the end offset (ListOffsets).
        out = kcat(self.broker, "-Q", "-t", f"{topic}:2:-1").decode()
        self.assertIn(f"{topic} [2] offset 50", out)


if __name__ == "__main__":
    harness.main()
