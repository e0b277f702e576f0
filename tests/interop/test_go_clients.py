"""The newest Go clients against Samsa, from the Go module proxy (versions pinned in
tests/interop/go/go.mod, built by scripts/setup.sh test into build/go/samsa-go-interop):
franz-go (its default idempotent producer, a group consumer, kadm admin calls), IBM/sarama (sync
and async idempotent producers, a consumer group, its cluster admin) and segmentio/kafka-go (a
Writer, a Reader in a group, a DialLeader connection writing and reading). Each writes 2,000
records with keys, a header and timestamps over 3 partitions and reads every one back once, in
offset order per partition, intact.
"""

import json
import os
import subprocess

import harness
from harness import BrokerTestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, "build", "go", "samsa-go-interop")
COUNT = 2000


def scenario(client, bootstrap, topic):
    if not os.access(BINARY, os.X_OK):
        harness.fail_setup(f"{BINARY} is missing; run scripts/setup.sh test (it builds tests/interop/go)")
    r = subprocess.run([BINARY, client, bootstrap, topic, str(COUNT)], capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        raise AssertionError(f"{client} exited with {r.returncode}:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class GoClients(BrokerTestCase):
    overrides = {"offsets.topic.num.partitions": 2}

    def check(self, got):
        self.assertEqual(got["errors"], [])
        self.assertEqual(got["produced"], COUNT)
        self.assertEqual(got["read"], COUNT)
        self.assertTrue(got["in_order"], "offsets went backwards within a partition")
        self.assertTrue(got["intact"], "a record came back changed or twice")

    def test_franz_go(self):
        got = scenario("franz", self.broker.bootstrap, "go-franz")
        self.check(got)
        self.assertEqual(got["committed"], COUNT)
        self.assertEqual(got["end_offsets"], COUNT)
        self.assertTrue(got["group_described"])
        self.assertTrue(got["topic_listed"])

    def test_sarama(self):
        got = scenario("sarama", self.broker.bootstrap, "go-sarama")
        self.check(got)
        self.assertEqual(got["committed"], COUNT)

    def test_kafka_go(self):
        got = scenario("kafkago", self.broker.bootstrap, "go-kafkago")
        self.check(got)
        self.assertEqual(got["direct"], ["direct-1", "direct-2"])


if __name__ == "__main__":
    harness.main()
