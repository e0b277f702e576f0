"""The newest Python clients from PyPI against Samsa: confluent-kafka 2 (its wheel bundles a
current librdkafka), kafka-python 3 and aiokafka, in build/venv (scripts/setup.sh test), through
current_python_clients.py: idempotent acks=all produce under every codec with keys and headers,
a group consumer reading it all back and committing, a transactional producer whose aborted
records a read_committed consumer never sees (kafka-python's transactions are in
test_transactions.py); each client's admin client too.
"""

import json
import os
import subprocess

import harness
from harness import BrokerTestCase

HERE = os.path.dirname(os.path.abspath(__file__))


def scenario(kind, bootstrap, topic):
    r = subprocess.run([harness.venv_python(), os.path.join(HERE, "current_python_clients.py"), kind, bootstrap, topic],
                       capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        raise AssertionError(f"{kind} scenario exited with {r.returncode}:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class CurrentPythonClients(BrokerTestCase):
    overrides = {"offsets.topic.num.partitions": 1, "transaction.state.log.num.partitions": 1}

    def check_common(self, got, codecs):
        self.assertEqual(got["read"], 1000 * len(codecs))
        self.assertTrue(got["keys_right"])
        self.assertEqual((got["bad_records"], got["duplicated"], got["out_of_order"]), (0, 0, 0))
        self.assertEqual(got["committed"], 1000 * len(codecs))
        self.assertEqual(sorted(got["read_committed"]), sorted(f"commit-{i}" for i in range(10)))

    def test_confluent_kafka_2(self):
        got = scenario("confluent", self.broker.bootstrap, "py-confluent")
        self.assertEqual(got["errors"], [])
        self.check_common(got, ("none", "gzip", "snappy", "lz4", "zstd"))
        self.assertIn("py-confluent-group", got["groups"])
        self.assertEqual(got["nodes"], 1)
        self.assertEqual(got["partitions"], 3)

    def test_kafka_python_3(self):
        got = scenario("kafka-python", self.broker.bootstrap, "py-kafka-python")
        self.assertEqual(got["errors"], [])
        self.assertEqual(got["read"], 5000)
        self.assertTrue(got["keys_right"])
        self.assertEqual((got["bad_records"], got["duplicated"], got["out_of_order"]), (0, 0, 0))
        self.assertEqual(got["committed"], 5000)
        self.assertIn("py-kafka-python-group", got["groups"])
        self.assertEqual(got["admin_committed"], 5000)

    def test_aiokafka(self):
        got = scenario("aiokafka", self.broker.bootstrap, "py-aiokafka")
        self.assertEqual(got["codecs"], ["none", "gzip", "snappy", "lz4", "zstd"])  # its extras are installed
        self.check_common(got, got["codecs"])


if __name__ == "__main__":
    harness.main()
