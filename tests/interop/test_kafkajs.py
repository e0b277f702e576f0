#!/usr/bin/python3
"""kafkajs (node) against samsa-server: admin createTopics, 10,000 keyed messages with headers per
codec (none, gzip), metadata, end offsets that add up to what was produced, and everything read
back through a consumer group, before and after a restart. The work is done by
js/produce_check.js; kafkajs is pinned in js/package-lock.json and installed by
`scripts/setup.sh test` (npm ci).

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_kafkajs.py
"""

import json
import os
import subprocess

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
NODE = harness.require_program("node", "nodejs")
if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
    harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test "
                       f"(or: cd {JS_DIR} && npm ci)")

MESSAGES = 10_000
TOPICS = ["js-none", "js-gzip"]


def run_check(broker, mode):
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1")
    r = subprocess.run([NODE, os.path.join(JS_DIR, "produce_check.js"), broker.bootstrap, mode],
                       capture_output=True, text=True, timeout=240, env=env, cwd=JS_DIR)
    if r.returncode != 0:
        raise AssertionError(f"produce_check.js {mode} exited with {r.returncode}\n{r.stderr}\n{r.stdout}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class KafkajsTest(harness.BrokerTestCase):
    def test_produce_metadata_and_offsets(self):
        with harness.Timer("kafkajs produce"):
            first = run_check(self.broker, "produce")
        self.assertEqual(sorted(first["topics"]), sorted(TOPICS))
        for topic, seen in first["topics"].items():
            # [partition, low, high] per partition; the script checked them against its own count.
            self.assertEqual(sum(high - low for _, low, high in seen["offsets"]), MESSAGES, topic)
            self.assertEqual([high for _, _, high in sorted(seen["offsets"])], seen["expected"], topic)
            self.assertEqual(len([c for c in seen["expected"] if c > 0]), 3, f"{topic}: keys did not spread")
        self.restart_clean()
        again = run_check(self.broker, "offsets")
        for topic in TOPICS:
            self.assertEqual(sorted(again["topics"][topic]["offsets"]), sorted(first["topics"][topic]["offsets"]),
                             f"{topic}: offsets changed across a restart")


if __name__ == "__main__":
    harness.main()
