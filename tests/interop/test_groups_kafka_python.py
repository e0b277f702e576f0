#!/usr/bin/python3
"""kafka-python consumer groups against samsa-server: the scenarios of groups_common (balance,
clean leave under load, broadcast to two groups, resume after commit, auto_offset_reset earliest /
latest / none, committed offsets across a clean restart and a SIGKILL), each member on a thread.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_groups_kafka_python.py
"""

import harness
import groups_common as gc
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata


class KafkaPythonMember(gc.PollingMember):
    def __init__(self, bootstrap, name, log, topic, reset, commit_every):
        super().__init__(name, log, commit_every)
        self.bootstrap, self.topic, self.reset = bootstrap, topic, reset
        self.consumer = None

    def _open(self):
        self.consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.log.group, client_id=self.name,
            enable_auto_commit=False, auto_offset_reset=self.reset, session_timeout_ms=gc.SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=gc.HEARTBEAT_MS, fetch_max_wait_ms=100, max_poll_records=500)
        member = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                member.on_revoked(tp.partition for tp in revoked)

            def on_partitions_assigned(self, assigned):
                member.on_assigned(tp.partition for tp in assigned)

        self.consumer.subscribe([self.topic], listener=Listener())

    def _poll(self):
        got = self.consumer.poll(timeout_ms=100)
        return [(r.partition, r.offset, r.value) for recs in got.values() for r in recs]

    def _commit(self, offsets):
        self.consumer.commit({TopicPartition(self.topic, p): OffsetAndMetadata(o, "") for p, o in offsets.items()})

    def _fetch_ready(self):
        # position() blocks until the reset (or committed) position is known.
        return all(self.consumer.position(TopicPartition(self.topic, p)) is not None for p in self.owned())

    def _close(self):
        if self.consumer is not None:
            self.consumer.close(autocommit=False)


class KafkaPythonGroupsTest(gc.GroupScenarios, harness.BrokerTestCase):
    client = "kpg"
    no_offset_error = "NoOffsetForPartitionError"

    def make_member(self, name, log, topic, reset="earliest", commit_every=None):
        return KafkaPythonMember(self.broker.bootstrap, name, log, topic, reset, commit_every).start()

    def client_committed(self, group, topic):
        c = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=group, client_id="kpg-committed",
                          enable_auto_commit=False)
        try:
            out = {p: c.committed(TopicPartition(topic, p)) for p in range(gc.PARTITIONS)}
        finally:
            c.close()
        return {p: o for p, o in out.items() if o is not None}


if __name__ == "__main__":
    harness.main()
