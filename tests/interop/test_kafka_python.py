#!/usr/bin/python3
"""kafka-python against samsa-server: every codec, manual-assignment consumers, restarts, SIGKILL.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_kafka_python.py
"""

import sys
import time

import harness
import kafka_python_client as kp
import workload

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 3


def topic_for(codec):
    return f"kp-{codec or 'none'}"


class KafkaPythonTest(harness.BrokerTestCase):
    overrides = {"num.partitions": 1}
    produced = {}

    def test_1_every_codec_round_trips(self):
        for codec in CODECS:
            with self.subTest(codec=codec or "none"):
                topic = topic_for(codec)
                kp.create_topic(self.broker.bootstrap, topic, PARTITIONS)
                since = time.time() * 1000
                msgs = workload.messages(topic)
                with harness.Timer(f"produce {topic}"):
                    acks = kp.produce(self.broker.bootstrap, topic, msgs, compression_type=codec, acks="all")
                self.assertEqual(len(acks), len(msgs))
                with harness.Timer(f"consume {topic}"):
                    records = kp.consume(self.broker.bootstrap, topic, PARTITIONS, len(msgs))
                by_partition = workload.check_consumed(self, topic, records, partitions=PARTITIONS, since_ms=since)
                # The produce acks named the offsets the consumer found the messages at.
                for p, rows in by_partition.items():
                    for offset, i, _ in rows:
                        self.assertEqual(acks[i], (p, offset), f"{topic}: ack of message {i}")
                self.assertEqual(len(by_partition), PARTITIONS, f"{topic}: keys did not spread over partitions")
                KafkaPythonTest.produced[topic] = len(msgs)

    def test_2_everything_readable_after_restart(self):
        self.assertEqual(len(self.produced), len(CODECS), "test_1 did not produce every codec's topic")
        self.restart_clean()
        for topic, count in sorted(self.produced.items()):
            with self.subTest(topic=topic):
                kp.wait_partitions(self.broker.bootstrap, topic, PARTITIONS)
                records = kp.consume(self.broker.bootstrap, topic, PARTITIONS, count)
                workload.check_consumed(self, topic, records, count=count, partitions=PARTITIONS)

    def test_3_acknowledged_messages_survive_sigkill(self):
        topic = "kp-sigkill"
        kp.create_topic(self.broker.bootstrap, topic, PARTITIONS)
        loop = kp.AckedProducerLoop(self.broker.bootstrap, topic).start()
        try:
            loop.wait_acked(3000)
        finally:
            self.broker.kill()
            acked = loop.stop()
        self.assertGreaterEqual(len(acked), 3000)
        sys.stderr.write(f"  [sigkill: {loop.sent} sent, {len(acked)} acked, {len(loop.failed)} failed]\n")
        self.broker.restart()
        stored, ends = kp.read_everything(self.broker.bootstrap, topic, PARTITIONS)
        workload.check_acked_present(self, acked, stored)
        self.assertGreaterEqual(len(stored), len(acked))
        # Nothing new arrives after the restart: the log ends where recovery left it, and a clean
        # stop and start keeps exactly that.
        self.restart_clean()
        again, ends_again = kp.read_everything(self.broker.bootstrap, topic, PARTITIONS)
        self.assertEqual(again, stored)
        self.assertEqual({tp.partition: o for tp, o in ends_again.items()}, {tp.partition: o for tp, o in ends.items()})


if __name__ == "__main__":
    harness.main()
