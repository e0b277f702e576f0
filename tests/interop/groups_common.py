"""Shared pieces of the consumer-group interop tests (test_groups_*.py).

Every group member, whatever its client, reports what it does into a GroupLog as timestamped
events: "assign" and "revoke" (partitions gained and lost), "msg" (one consumed record), "commit"
(offsets the broker accepted), "commit_failed", "error" (a client error such as "no offset"). The
checks replay that journal:
  * no partition is owned by two members at once;
  * every stretch of ownership (a "segment") starts at the offset committed for the partition
    before it began (or at the reset position if nothing was committed) and then reads contiguous
    offsets, so a message is read twice only if it was consumed but not committed before a move;
  * every message the producer had acknowledged was consumed by the group.

GroupScenarios holds the scenarios every client runs (balance, leave under load, broadcast, resume
after commit, auto.offset.reset, survival of broker restarts); a test file mixes it into a
harness.BrokerTestCase and supplies `make_member` and `client_committed` for its client.
Producing, topic creation and group inspection go through kafka-python (kafka_python_client).
"""

import collections
import queue
import socket
import struct
import sys
import threading
import time

import harness
import kafka_python_client as kp
import workload
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

BROKER_OVERRIDES = {
    "group.initial.rebalance.delay.ms": 0,
    "offsets.topic.num.partitions": 5,
    "num.partitions": 1,
}
PARTITIONS = 6
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_MS = 500
WAIT_S = 30.0

Event = collections.namedtuple("Event", "seq t kind member partitions offset index offsets detail")


def wait_until(predicate, what, timeout=WAIT_S, interval=0.05):
    """Polls `predicate` until it returns something truthy (returned) or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def value_of(tag, i):
    return f"{tag}|{i:06d}|group-payload".encode()


# --- the journal -------------------------------------------------------------------------------

class GroupLog:
    """Thread-safe journal of one group's events; `t` is wall-clock seconds (shared by processes)."""

    def __init__(self, group, tag):
        self.group = group
        self.tag = tag
        self._events = []
        self._lock = threading.Lock()

    def record(self, kind, member, t=None, partitions=(), offset=None, index=None, offsets=None, detail=None):
        with self._lock:
            self._events.append(Event(len(self._events), time.time() if t is None else t, kind, member,
                                      frozenset(partitions), offset, index, dict(offsets or {}), detail))

    def events(self, kind=None, member=None):
        with self._lock:
            evs = list(self._events)
        return [e for e in evs if (kind is None or e.kind == kind) and (member is None or e.member == member)]

    def ordered(self):
        return sorted(self.events(), key=lambda e: (e.t, e.seq))

    def owned(self, member):
        """The partitions `member` owns now, replaying its assign/revoke events."""
        have = set()
        for e in self.events(member=member):
            if e.kind == "assign":
                have |= e.partitions
            elif e.kind == "revoke":
                have -= e.partitions
        return have

    def consumed_indices(self, member=None):
        return collections.Counter(e.index for e in self.events("msg", member))


# --- members -----------------------------------------------------------------------------------

class Member:
    """One group member of any client. Subclasses feed `log` and implement the commands."""

    def __init__(self, name, log):
        self.name = name
        self.log = log

    def owned(self):
        return self.log.owned(self.name)

    def records(self):
        return self.log.events("msg", self.name)

    def errors(self):
        return self.log.events("error", self.name)

    def wait_consumed(self, n, timeout=WAIT_S):
        wait_until(lambda: len(self.records()) >= n, f"{self.name} to consume {n} records", timeout)

    def first_offsets(self):
        """{partition: offset of the first record consumed from it}."""
        out = {}
        for e in self.records():
            out.setdefault(next(iter(e.partitions)), e.offset)
        return out

    def indices(self):
        return {e.index for e in self.records()}

    # Commands (implemented per client):
    def commit_now(self, offsets=None):
        """Commits `offsets` ({partition: offset}) or, if None, the positions of the owned partitions
        it consumed from; returns what was committed."""
        raise NotImplementedError

    def wait_fetch_ready(self):
        """Returns once the member knows its fetch position on every owned partition."""
        raise NotImplementedError

    def close(self, timeout=WAIT_S):
        """A clean close (LeaveGroup, unless the client skips it for static members)."""
        raise NotImplementedError


class PollingMember(Member):
    """A Python-client member running its consumer on its own thread (consumers are not thread
    safe): the thread polls, records, commits every `commit_every` records and runs commands."""

    def __init__(self, name, log, commit_every=None):
        super().__init__(name, log)
        self.commit_every = commit_every
        self._positions = {}
        self._since_commit = 0
        self._commands = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"member-{name}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    # --- client hooks: run on the member thread ---
    def _open(self):
        raise NotImplementedError

    def _poll(self):
        """Yields (partition, offset, value) per record, each before polling for the next (so
        rebalance callbacks journal in delivery order); raises on a fatal client error."""
        raise NotImplementedError

    def _commit(self, offsets):
        raise NotImplementedError

    def _close(self):
        raise NotImplementedError

    def _fetch_ready(self):
        raise NotImplementedError

    # --- rebalance callbacks (called by the client on the member thread) ---
    def on_assigned(self, partitions):
        new = set(partitions) - self.owned()
        for p in new:
            self._positions.pop(p, None)
        if new:
            self.log.record("assign", self.name, partitions=new)

    def on_revoked(self, partitions):
        gone = set(partitions) & self.owned()
        for p in gone:
            self._positions.pop(p, None)
        if gone:
            self.log.record("revoke", self.name, partitions=gone)

    # --- commands ---
    def call(self, fn, timeout=WAIT_S):
        if not self._thread.is_alive():
            raise AssertionError(f"{self.name}: member thread is not running ({self.errors()[-1:]})")
        done = queue.Queue()
        self._commands.put((fn, done))
        try:
            ok, value = done.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name}: command did not run within {timeout}s") from None
        if not ok:
            raise value
        return value

    def commit_now(self, offsets=None):
        return self.call(lambda: self._do_commit(offsets, strict=True))

    def wait_fetch_ready(self):
        wait_until(lambda: self.call(self._fetch_ready), f"{self.name} to resolve its fetch positions")

    def close(self, timeout=WAIT_S):
        if self._thread.is_alive():
            self.call(self._begin_close, timeout)
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                raise AssertionError(f"{self.name}: close did not finish within {timeout}s")

    def _begin_close(self):
        self.on_revoked(self.owned())
        self._closed.set()

    def _do_commit(self, offsets, strict):
        if offsets is None:
            offsets = {p: o for p, o in self._positions.items() if p in self.owned()}
        if not offsets:
            return {}
        try:
            self._commit(offsets)
        except Exception as e:  # a rebalance in progress, a stale generation: the client's errors
            self.log.record("commit_failed", self.name, offsets=offsets, detail=repr(e))
            if strict:
                raise
            return {}
        self.log.record("commit", self.name, offsets=offsets)
        self._since_commit = 0
        return offsets

    def _run(self):
        try:
            self._open()
            while not self._closed.is_set():
                self._run_commands()
                if self._closed.is_set():
                    break
                for p, offset, value in self._poll():
                    self.log.record("msg", self.name, partitions=(p,), offset=offset,
                                    index=workload.index_of(self.log.tag, value))
                    self._positions[p] = offset + 1
                    self._since_commit += 1
                if self.commit_every and self._since_commit >= self.commit_every:
                    self._do_commit(None, strict=False)
        except Exception as e:
            self.log.record("error", self.name, detail=e)
        finally:
            self.on_revoked(self.owned())  # a stopped member consumes nothing more
            try:
                self._close()
            finally:
                self._closed.set()
                self._run_commands()  # answer whoever waits on a command

    def _run_commands(self):
        while True:
            try:
                fn, done = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((True, fn()))
            except Exception as e:
                done.put((False, e))


# --- producing and inspecting through kafka-python ----------------------------------------------

def produce(bootstrap, topic, tag, start, count, partitions=PARTITIONS):
    """Sends messages start..start+count-1 of `tag`, message i to partition i % partitions;
    returns {i: (partition, offset)} once all are acknowledged."""
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="groups-producer", acks="all", linger_ms=5)
    try:
        futures = [(i, p.send(topic, value=value_of(tag, i), partition=i % partitions))
                   for i in range(start, start + count)]
        p.flush(timeout=30)
        return {i: (f.get(timeout=30).partition, f.get(timeout=30).offset) for i, f in futures}
    finally:
        p.close(timeout=10)


class ProducerLoop:
    """Produces `tag` messages round-robin over the partitions on a thread until stopped, about
    `rate` per second, and records every acknowledgement as {i: (partition, offset)}."""

    def __init__(self, bootstrap, topic, tag, partitions=PARTITIONS, rate=300):
        self.acked, self.failed = {}, []
        self._args = (bootstrap, topic, tag, partitions, rate)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"producer-{tag}", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=WAIT_S)
        if self._thread.is_alive():
            raise AssertionError("the producer thread did not stop")
        if self.failed:
            raise AssertionError(f"{len(self.failed)} sends failed, first: {self.failed[0]!r}")
        return dict(self.acked)

    def _run(self):
        bootstrap, topic, tag, partitions, rate = self._args
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id="groups-producer-loop", acks="all", linger_ms=5)
        try:
            i = 0
            while not self._stop.is_set():
                f = p.send(topic, value=value_of(tag, i), partition=i % partitions)
                f.add_callback(lambda md, i=i: self.acked.__setitem__(i, (md.partition, md.offset)))
                f.add_errback(self.failed.append)
                i += 1
                time.sleep(1.0 / rate)
            p.flush(timeout=30)
        finally:
            p.close(timeout=10)


def admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="groups-admin", request_timeout_ms=20000)


def describe_group(bootstrap, group):
    """(state, protocol_type, protocol, {client_id: (member_id, set of partitions)}) from DescribeGroups."""
    a = admin(bootstrap)
    try:
        (g,) = a.describe_consumer_groups([group])
    finally:
        a.close()
    members = {}
    for m in g.members:
        parts = set(tp.partition for tp in m.member_assignment.partitions()) if m.member_assignment else set()
        members[m.client_id] = (m.member_id, parts)
    return g.state, g.protocol_type, g.protocol, members


def list_groups(bootstrap):
    a = admin(bootstrap)
    try:
        return dict(a.list_consumer_groups())
    finally:
        a.close()


def admin_committed(bootstrap, group, topic):
    """{partition: offset} committed by `group` on `topic`, read with OffsetFetch (kafka-python admin)."""
    a = admin(bootstrap)
    try:
        got = a.list_consumer_group_offsets(group)
    finally:
        a.close()
    return {tp.partition: om.offset for tp, om in got.items() if tp.topic == topic and om.offset >= 0}


def commit_standalone(bootstrap, group, topic, offsets):
    """Commits offsets for `group` without joining it (generation -1, as an assign()-only consumer)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id="groups-standalone",
                      enable_auto_commit=False)
    try:
        c.assign([TopicPartition(topic, p) for p in offsets])
        c.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "") for p, o in offsets.items()})
    finally:
        c.close()


def heartbeat_error(bootstrap, group, generation, member_id):
    """Error code of a raw Heartbeat v0 for (group, generation, member): 0 only for the current
    generation of a stable group, 22 ILLEGAL_GENERATION for another one."""
    body = harness.request_header_v1(12, 0, 7)
    for s in (group.encode(), None, member_id.encode()):
        body += struct.pack(">i", generation) if s is None else struct.pack(">h", len(s)) + s
    with socket.create_connection(tuple(bootstrap.rsplit(":", 1)), timeout=10) as sock:
        sock.sendall(harness.frame(body))
        resp = harness.recv_frame(sock)
    correlation, error = struct.unpack(">ih", resp[:6])
    assert correlation == 7, f"heartbeat response correlation id {correlation}"
    return error


def current_generation(bootstrap, group, member_id, limit=200):
    """The group's generation, found by probing Heartbeat with a live member's id."""
    codes = {}
    for g in range(1, limit):
        codes[g] = heartbeat_error(bootstrap, group, g, member_id)
        if codes[g] == 0:
            return g
    raise AssertionError(f"no generation in 1..{limit} accepted for {member_id}: {set(codes.values())}")


def retry_retriable(fn, what, timeout=WAIT_S):
    """Calls `fn` until it stops raising a retriable Kafka error (e.g. the coordinator still
    loading __consumer_offsets after a restart)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except Exception as e:
            if not getattr(e, "retriable", False) or time.monotonic() > deadline:
                raise AssertionError(f"{what}: {e!r}") from e
            time.sleep(0.2)


# --- the checks ---------------------------------------------------------------------------------

def journal_problems(log, reset_start):
    """Replays the journal in time order; returns the broken invariants (see the module doc)."""
    owners, segments, commits, problems = {}, {}, {}, []
    for e in log.ordered():
        if e.kind == "assign":
            for p in sorted(e.partitions):
                if owners.get(p, e.member) != e.member:
                    problems.append(f"t={e.t:.3f}: partition {p} assigned to {e.member} while {owners[p]} owns it")
                owners[p] = e.member
                segments[(e.member, p)] = {"expect": commits.get(p, reset_start(p)), "first": True}
        elif e.kind == "revoke":
            for p in e.partitions:
                if owners.get(p) == e.member:
                    del owners[p]
                segments.pop((e.member, p), None)
        elif e.kind == "commit":
            commits.update(e.offsets)
        elif e.kind == "msg":
            (p,) = e.partitions
            seg = segments.get((e.member, p))
            if seg is None:
                problems.append(f"t={e.t:.3f}: {e.member} consumed {p}@{e.offset} without owning partition {p}")
                continue
            if e.offset != seg["expect"]:
                what = "began" if seg["first"] else "continued"
                base = "the committed offset" if seg["first"] and p in commits else "the expected offset"
                problems.append(f"t={e.t:.3f}: {e.member} {what} partition {p} at {e.offset}, {base} is "
                                f"{seg['expect']}")
            seg["expect"], seg["first"] = e.offset + 1, False
    return problems


def check_journal(tc, log, acked, reset_start=lambda p: 0):
    """Asserts the journal invariants and that every acknowledged message was consumed, at the
    position its acknowledgement named. Returns the Counter of consumed message indices."""
    tc.assertEqual([(e.member, e.detail) for e in log.events("error")], [], f"group {log.group}: client errors")
    problems = journal_problems(log, reset_start)
    tc.assertEqual(problems[:10], [], f"group {log.group}: {len(problems)} broken invariants")
    where = collections.defaultdict(set)
    for e in log.events("msg"):
        where[e.index].add((next(iter(e.partitions)), e.offset))
    missing = sorted(set(acked) - set(where))
    tc.assertEqual(missing[:10], [], f"group {log.group}: {len(missing)} of {len(acked)} acknowledged messages "
                                     f"were never consumed")
    for i, pos in acked.items():
        tc.assertEqual(where[i], {pos}, f"group {log.group}: message {i} acknowledged at {pos}")
    return log.consumed_indices()


def wait_covered(log, acked, timeout=WAIT_S):
    try:
        wait_until(lambda: set(acked) <= set(log.consumed_indices()),
                   f"group {log.group} to consume all {len(acked)} acknowledged messages", timeout)
    except AssertionError as e:
        missing = set(acked) - set(log.consumed_indices())
        by_partition = collections.Counter(acked[i][0] for i in missing)
        owners = {m: sorted(log.owned(m)) for m in sorted({e.member for e in log.events()})}
        problems = journal_problems(log, lambda p: 0)
        raise AssertionError(f"{e}: {len(missing)} missing, per partition {dict(by_partition)}, "
                             f"owners now {owners}; journal: {problems[:10]}") from None


def wait_balanced(members, per, partitions=PARTITIONS, timeout=WAIT_S):
    """Waits until each member owns `per` partitions, disjoint and together all of them."""
    def balanced():
        sets = [m.owned() for m in members]
        union = set().union(*sets)
        if all(len(s) == per for s in sets) and union == set(range(partitions)) and \
                sum(map(len, sets)) == partitions:
            return {m.name: s for m, s in zip(members, sets)}
        return None
    return wait_until(balanced, f"{[m.name for m in members]} to own {per} partitions each", timeout)


# --- the scenarios every client runs ------------------------------------------------------------

class GroupScenarios:
    """Mixed into a harness.BrokerTestCase. The test file sets `client` (a short tag for topic and
    group names), `no_offset_error` (what the client's "no committed offset" error looks like, or
    None if it has none) and implements:
      make_member(name, log, topic, reset="earliest", commit_every=None) -> a started Member whose
          client id is `name`, in group log.group, subscribed to `topic`; reset is "earliest",
          "latest" or "none";
      client_committed(group, topic) -> {partition: offset} read with the client's own API."""

    client = None
    no_offset_error = None
    overrides = BROKER_OVERRIDES

    def member(self, name, log, topic, **kw):
        m = self.make_member(name, log, topic, **kw)
        self.addCleanup(self._close_quietly, m)
        return m

    @staticmethod
    def _close_quietly(m):
        try:
            m.close(timeout=5)  # short: after a failure the broker may be gone
        except Exception as e:
            sys.stderr.write(f"  [cleanup: closing {m.name} failed: {e!r}]\n")

    def new_topic(self, suffix):
        topic = f"{self.client}-{suffix}"
        kp.create_topic(self.broker.bootstrap, topic, PARTITIONS)
        return topic

    def test_1_three_members_own_two_partitions_each(self):
        topic = self.new_topic("balance")
        log = GroupLog(f"{topic}-g", topic)
        members = [self.member(f"{topic}-m{i}", log, topic) for i in range(3)]
        owned = wait_balanced(members, 2)
        state, protocol_type, _, described = retry_retriable(
            lambda: describe_group(self.broker.bootstrap, log.group), "DescribeGroups")
        self.assertEqual((state, protocol_type), ("Stable", "consumer"))
        self.assertEqual({cid: parts for cid, (_, parts) in described.items()}, owned,
                         "DescribeGroups assignments differ from what the members were given")
        acked = produce(self.broker.bootstrap, topic, topic, 0, 120)
        wait_covered(log, acked)
        for m in members:
            parts = {next(iter(e.partitions)) for e in m.records()}
            self.assertEqual(parts, owned[m.name], f"{m.name} consumed from partitions it does not own")
        counts = check_journal(self, log, acked)
        self.assertEqual(max(counts.values()), 1, "a message was consumed twice without any rebalance")

    def test_2_leaving_member_hands_over_without_loss(self):
        topic = self.new_topic("leave")
        log = GroupLog(f"{topic}-g", topic)
        loop = ProducerLoop(self.broker.bootstrap, topic, topic)
        try:
            members = [self.member(f"{topic}-m{i}", log, topic, commit_every=20) for i in range(3)]
            wait_balanced(members, 2)
            wait_until(lambda: all(log.events("commit", m.name) for m in members), "a commit by every member")
            leaver, stay = members[0], members[1:]
            moved = leaver.owned()
            began = time.monotonic()
            leaver.close()
            wait_balanced(stay, 3)
            took = time.monotonic() - began
            sys.stderr.write(f"  [{topic}: partitions {sorted(moved)} moved in {took:.2f}s]\n")
            self.assertLess(took, SESSION_TIMEOUT_MS / 1000, "a clean leave waited for the session timeout")
            left_at = log.events("revoke", leaver.name)[-1].t
            wait_until(lambda: {next(iter(e.partitions)) for e in log.events("msg") if e.t > left_at
                                and e.member != leaver.name} >= moved, f"the moved partitions {moved} to be read")
        finally:
            acked = loop.stop()
        wait_covered(log, acked)
        counts = check_journal(self, log, acked)
        sys.stderr.write(f"  [{topic}: {len(acked)} produced, {sum(counts.values())} consumed, "
                         f"{len(log.events('commit'))} commits]\n")

    def test_3_two_groups_each_get_every_message(self):
        topic = self.new_topic("broadcast")
        a, b = GroupLog(f"{topic}-a", topic), GroupLog(f"{topic}-b", topic)
        in_a = [self.member(f"{topic}-a{i}", a, topic) for i in range(2)]
        in_b = [self.member(f"{topic}-b0", b, topic)]
        wait_balanced(in_a, 3)
        wait_balanced(in_b, 6)
        acked = produce(self.broker.bootstrap, topic, topic, 0, 300)
        for log in (a, b):
            wait_covered(log, acked)
            counts = check_journal(self, log, acked)
            self.assertEqual(sum(counts.values()), len(acked), f"group {log.group} read duplicates")

    def test_4_restarted_consumer_resumes_after_last_commit(self):
        topic = self.new_topic("resume")
        log = GroupLog(f"{topic}-g", topic)
        first = self.member(f"{topic}-first", log, topic)
        wait_balanced([first], 6)
        acked, commits = {}, []
        for phase in range(3):
            acked.update(produce(self.broker.bootstrap, topic, topic, phase * 60, 60))
            wait_until(lambda: first.indices() >= set(acked), f"phase {phase} to be consumed")
            if phase < 2:
                commits.append(first.commit_now())
        self.assertEqual(commits, [{p: 10 for p in range(PARTITIONS)}, {p: 20 for p in range(PARTITIONS)}])
        first.close()  # without committing phase 2
        self.assertEqual(retry_retriable(lambda: self.client_committed(log.group, topic), "committed"), commits[-1])
        second = self.member(f"{topic}-second", log, topic)
        second.wait_consumed(60)
        time.sleep(0.5)
        self.assertEqual(second.first_offsets(), commits[-1])
        self.assertEqual(second.indices(), set(range(120, 180)))
        self.assertEqual(len(second.records()), 60)
        check_journal(self, log, acked)

    def test_5_auto_offset_reset(self):
        topic = self.new_topic("reset")
        old = produce(self.broker.bootstrap, topic, topic, 0, 60)
        with self.subTest(reset="earliest"):
            log = GroupLog(f"{topic}-earliest", topic)
            m = self.member(f"{log.group}-m", log, topic, reset="earliest")
            m.wait_consumed(60)
            self.assertEqual(m.first_offsets(), {p: 0 for p in range(PARTITIONS)})
            self.assertEqual(m.indices(), set(old))
            m.close()
        with self.subTest(reset="latest"):
            log = GroupLog(f"{topic}-latest", topic)
            m = self.member(f"{log.group}-m", log, topic, reset="latest")
            wait_balanced([m], 6)
            m.wait_fetch_ready()
            new = produce(self.broker.bootstrap, topic, topic, 60, 60)
            m.wait_consumed(60)
            time.sleep(0.3)
            self.assertEqual(m.first_offsets(), {p: 10 for p in range(PARTITIONS)})
            self.assertEqual(m.indices(), set(new), "latest read messages produced before it joined")
            check_journal(self, log, new, reset_start=lambda p: 10)
            m.close()
        if self.no_offset_error is None:
            return
        with self.subTest(reset="none"):
            log = GroupLog(f"{topic}-none", topic)
            m = self.member(f"{log.group}-m", log, topic, reset="none")
            wait_until(lambda: m.errors(), f"{m.name} to report '{self.no_offset_error}'")
            self.assertIn(self.no_offset_error, repr(m.errors()[0].detail))
            self.assertEqual(m.records(), [])
            m.close()
            committed = {p: 3 + p for p in range(PARTITIONS)}
            commit_standalone(self.broker.bootstrap, log.group, topic, committed)
            log.record("commit", "standalone", offsets=committed)
            again = self.member(f"{log.group}-m2", log, topic, reset="none")
            again.wait_consumed(120 - sum(committed.values()))
            self.assertEqual(again.first_offsets(), committed)
            self.assertEqual(again.errors(), [])
            self.assertEqual(journal_problems(log, lambda p: None), [])

    def test_6_commits_survive_restart_and_sigkill(self):
        topic = self.new_topic("durable")
        log = GroupLog(f"{topic}-g", topic)
        acked = produce(self.broker.bootstrap, topic, topic, 0, 120)
        m = self.member(f"{topic}-m0", log, topic)
        m.wait_consumed(120)
        committed = m.commit_now({p: 3 + p for p in range(PARTITIONS)})
        m.close()
        for step, bounce in enumerate(("restart", "sigkill")):
            if bounce == "restart":
                self.restart_clean()
            else:
                self.broker.kill()
                self.broker.restart()
            bootstrap = self.broker.bootstrap
            self.assertEqual(retry_retriable(lambda: self.client_committed(log.group, topic), "committed"),
                             committed, f"committed offsets after {bounce}")
            self.assertEqual(retry_retriable(lambda: admin_committed(bootstrap, log.group, topic), "OffsetFetch"),
                             committed)
            self.assertEqual(list_groups(bootstrap).get(log.group), "consumer", f"ListGroups after {bounce}")
            state, protocol_type, _, members = describe_group(bootstrap, log.group)
            self.assertEqual((state, protocol_type, members), ("Empty", "consumer", {}))
            m = self.member(f"{topic}-m{step + 1}", log, topic)
            m.wait_consumed(120 - sum(committed.values()))
            time.sleep(0.3)
            self.assertEqual(m.first_offsets(), committed, f"resumed after {bounce}")
            self.assertEqual(len(m.records()), 120 - sum(committed.values()))
            committed = m.commit_now({p: 10 + p for p in range(PARTITIONS)})
            m.close()
        check_journal(self, log, acked)
