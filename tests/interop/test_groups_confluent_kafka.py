#!/usr/bin/python3
"""confluent-kafka (librdkafka) consumer groups against samsa-server: the scenarios of
groups_common, plus cooperative-sticky incremental rebalancing and static membership
(group.instance.id) surviving a member restart without a rebalance. DescribeGroups carries no
generation id, so the generation is read by probing raw Heartbeats with a member's id
(groups_common.current_generation): 0 for the current generation, ILLEGAL_GENERATION otherwise.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_groups_confluent_kafka.py
"""

import json
import sys
import time

import harness
import groups_common as gc

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, TopicPartition  # noqa: E402

COOPERATIVE = {"partition.assignment.strategy": "cooperative-sticky"}


class LibrdkafkaMember(gc.PollingMember):
    def __init__(self, bootstrap, name, log, topic, reset, commit_every, extra):
        super().__init__(name, log, commit_every)
        self.topic = topic
        self.config = {
            "bootstrap.servers": bootstrap, "group.id": log.group, "client.id": name,
            "enable.auto.commit": False, "auto.offset.reset": {"none": "error"}.get(reset, reset),
            "session.timeout.ms": gc.SESSION_TIMEOUT_MS, "heartbeat.interval.ms": gc.HEARTBEAT_MS,
            "fetch.wait.max.ms": 100, "statistics.interval.ms": 200, "stats_cb": self._on_stats,
        }
        self.config.update(extra or {})
        self.consumer = None
        self._fetch_state = {}

    def _open(self):
        self.consumer = Consumer(self.config)
        self.consumer.subscribe(
            [self.topic],
            on_assign=lambda c, tps: self.on_assigned(tp.partition for tp in tps),
            on_revoke=lambda c, tps: self.on_revoked(tp.partition for tp in tps),
            on_lost=lambda c, tps: self.on_revoked(tp.partition for tp in tps))

    def _on_stats(self, text):
        parts = json.loads(text).get("topics", {}).get(self.topic, {}).get("partitions", {})
        self._fetch_state = {int(p): s.get("fetch_state") for p, s in parts.items() if int(p) >= 0}

    def _poll(self):
        # poll(), not consume(): librdkafka 2.0's batch consume can drop messages of a batch that a
        # cooperative rebalance (pause/resume of the kept partitions) outdates after it advanced the
        # position past them (a client bug, listed in librdkafka 2.0.0's known issues).
        # A generator: each message is journaled before the next poll() can run a rebalance
        # callback, so the journal never shows a message delivered before a revoke as after it.
        m = self.consumer.poll(0.1)
        for n in range(1, 501):
            if m is None:
                return
            if m.error() is not None:
                self.log.record("error", self.name, detail=m.error())
            else:
                yield m.partition(), m.offset(), m.value()
            if n < 500:
                m = self.consumer.poll(0)

    def _commit(self, offsets):
        done = self.consumer.commit(offsets=[TopicPartition(self.topic, p, o) for p, o in offsets.items()],
                                    asynchronous=False)
        bad = [tp for tp in done if tp.error is not None]
        if bad:
            raise AssertionError(f"commit errors: {bad}")

    def _fetch_ready(self):
        # "active": the fetch position is known (from a commit or the reset) and fetching runs.
        owned = self.owned()
        return bool(owned) and all(self._fetch_state.get(p) == "active" for p in owned)

    def _close(self):
        if self.consumer is not None:
            self.consumer.close()


class ConfluentKafkaGroupsTest(gc.GroupScenarios, harness.BrokerTestCase):
    client = "ckg"
    no_offset_error = "_AUTO_OFFSET_RESET"

    def make_member(self, name, log, topic, reset="earliest", commit_every=None, extra=None):
        return LibrdkafkaMember(self.broker.bootstrap, name, log, topic, reset, commit_every, extra).start()

    def client_committed(self, group, topic):
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group, "client.id": "ckg-committed"})
        try:
            got = c.committed([TopicPartition(topic, p) for p in range(gc.PARTITIONS)], timeout=10)
        finally:
            c.close()
        return {tp.partition: tp.offset for tp in got if tp.offset >= 0}

    def changes_since(self, log, member, t):
        """(partitions assigned, partitions revoked) to `member` after time t."""
        evs = [e for e in log.events(member=member.name) if e.t > t]
        gained = set().union(*[e.partitions for e in evs if e.kind == "assign"])
        lost = set().union(*[e.partitions for e in evs if e.kind == "revoke"])
        return gained, lost

    def test_7_cooperative_sticky_is_incremental(self):
        topic = self.new_topic("coop")
        log = gc.GroupLog(f"{topic}-g", topic)
        loop = gc.ProducerLoop(self.broker.bootstrap, topic, topic)
        try:
            a, b, c = [self.member(f"{topic}-{n}", log, topic, commit_every=20, extra=COOPERATIVE) for n in "abc"]
            first = gc.wait_balanced([a, b, c], 2)
            # c leaves: a and b only gain (c's partitions), they revoke nothing.
            left_at = time.time()
            c.close()
            second = gc.wait_balanced([a, b], 3)
            for m in (a, b):
                gained, lost = self.changes_since(log, m, left_at)
                self.assertEqual(lost, set(), f"{m.name} revoked partitions when {c.name} left")
                self.assertEqual(gained, second[m.name] - first[m.name])
                self.assertLessEqual(first[m.name], second[m.name])
            self.assertEqual(set().union(*[second[m.name] - first[m.name] for m in (a, b)]), first[c.name])
            # d joins: a and b give up one partition each and keep the other two, never re-assigned.
            joined_at = time.time()
            d = self.member(f"{topic}-d", log, topic, commit_every=20, extra=COOPERATIVE)
            third = gc.wait_balanced([a, b, d], 2)
            for m in (a, b):
                gained, lost = self.changes_since(log, m, joined_at)
                self.assertEqual(gained, set(), f"{m.name} was re-assigned partitions it kept")
                self.assertEqual(lost, second[m.name] - third[m.name])
                self.assertEqual(len(lost), 1)
            wait_read = lambda: {next(iter(e.partitions)) for e in d.records()} >= third[d.name]  # noqa: E731
            gc.wait_until(wait_read, f"{d.name} to read its partitions")
        finally:
            acked = loop.stop()
        gc.wait_covered(log, acked)
        counts = gc.check_journal(self, log, acked)  # includes: never two owners at once
        sys.stderr.write(f"  [{topic}: {len(acked)} produced, {sum(counts.values())} consumed]\n")

    def test_8_static_member_restart_does_not_rebalance(self):
        topic = self.new_topic("static")
        log = gc.GroupLog(f"{topic}-g", topic)
        static = {"group.instance.id": f"{topic}-instance"}
        a, b = [self.member(f"{topic}-{n}", log, topic, commit_every=10) for n in "ab"]
        gc.wait_balanced([a, b], 3)
        s = self.member(f"{topic}-s", log, topic, commit_every=10, extra=static)  # joins last: not the leader
        before = gc.wait_balanced([a, b, s], 2)
        acked = gc.produce(self.broker.bootstrap, topic, topic, 0, 120)
        gc.wait_covered(log, acked)
        s.commit_now()
        state, _, _, described = gc.describe_group(self.broker.bootstrap, log.group)
        self.assertEqual(state, "Stable")
        generation = gc.current_generation(self.broker.bootstrap, log.group, described[a.name][0])

        restarted_at = time.time()
        s.close()  # a static member closes without LeaveGroup
        state, _, _, during = gc.describe_group(self.broker.bootstrap, log.group)
        self.assertEqual((state, set(during)), ("Stable", set(described)), "the group changed when s closed")
        acked.update(gc.produce(self.broker.bootstrap, topic, topic, 120, 120))
        s2 = self.member(s.name, log, topic, commit_every=10, extra=static)
        gc.wait_until(lambda: s2.owned() == before[s.name], f"{s.name} to get {before[s.name]} back")
        took = time.time() - restarted_at
        self.assertLess(took, gc.SESSION_TIMEOUT_MS / 1000)
        gc.wait_covered(log, acked)
        time.sleep(3 * gc.HEARTBEAT_MS / 1000)  # long enough for a triggered rebalance to reach a and b

        for m in (a, b):
            self.assertEqual(self.changes_since(log, m, restarted_at), (set(), set()),
                             f"{m.name}'s assignment changed when the static member restarted")
            self.assertEqual(m.owned(), before[m.name])
        state, _, _, after = gc.describe_group(self.broker.bootstrap, log.group)
        self.assertEqual(state, "Stable")
        self.assertEqual({k: v[1] for k, v in after.items()}, {k: v[1] for k, v in described.items()})
        for m in (a, b):
            self.assertEqual(after[m.name][0], described[m.name][0], f"{m.name} has a new member id")
        self.assertNotEqual(after[s.name][0], described[s.name][0], "the restarted static member kept its id")
        self.assertEqual(gc.current_generation(self.broker.bootstrap, log.group, after[a.name][0]), generation)
        # The id the static member had before its restart is gone (Heartbeat v0 names no instance).
        self.assertEqual(gc.heartbeat_error(self.broker.bootstrap, log.group, generation, described[s.name][0]), 25,
                         "heartbeat with the replaced member id: expected UNKNOWN_MEMBER_ID")
        counts = gc.check_journal(self, log, acked)
        sys.stderr.write(f"  [{topic}: generation {generation} kept, s back after {took:.2f}s, "
                         f"{sum(counts.values())} consumed]\n")


if __name__ == "__main__":
    harness.main()
