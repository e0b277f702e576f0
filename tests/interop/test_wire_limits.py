#!/usr/bin/python3
"""Extreme numbers in small requests, and compressed batches that inflate enormously.

WireLimitsTest sends, for every served API, request bodies made of maximal counts and lengths
(INT32_MAX arrays, strings and bytes with almost no bytes behind them, huge compact counts and
tagged-field counts), then well-formed requests carrying extreme values (CreateTopics with
2^31-1 partitions or 32767 replicas, validate_only both ways; CreatePartitions to 2^31-1;
Fetch with max_bytes INT32_MAX; ListOffsets v0 asking INT32_MAX offsets; batches declaring
INT32_MAX records; JoinGroup and OffsetCommit with extreme timeouts and offsets). Each must be
answered with an error or have its connection closed, while another connection keeps getting
ApiVersions answers and the broker's RSS stays within 200 MiB of its baseline.

DecompressionLimitsTest sends one ~1 MB Produce request of 400 zstd batches that each inflate to
just over 64 MiB, while probing ApiVersions on another connection every 100 ms: the probes keep
being answered within a second, and the produce is refused (INVALID_RECORD) soon. A legitimate
5 MB batch compressing about 50:1 is still accepted.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_wire_limits.py
"""

import os
import socket
import struct
import sys
import threading
import time

import harness
from harness import frame, recv_frame, request_header_v1

from test_bad_input import api_versions_v0_request, parse_api_versions_v0, request_header

import kafka_python_client as kp

INT32_MAX = 0x7FFFFFFF
INT64_MAX = 0x7FFFFFFFFFFFFFFF
RSS_BOUND_KIB = 200 * 1024
PROBE_TIMEOUT_S = 2.0

# Kafka error codes.
NONE = 0
CORRUPT_MESSAGE = 2
INVALID_SESSION_TIMEOUT = 26
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_RECORD = 87


def s16(v):
    return struct.pack(">h", v)


def s32(v):
    return struct.pack(">i", v)


def s64(v):
    return struct.pack(">q", v)


def string(v):
    b = v.encode()
    return s16(len(b)) + b


def array(items):
    return s32(len(items)) + b"".join(items)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def varint(v):
    return uvarint((v << 1) ^ (v >> 63))


def crc32c(data):
    from kafka.record.util import calc_crc32c
    return calc_crc32c(data)


def record_batch(records_section, record_count, codec=0, last_offset_delta=None):
    """A v2 batch around `records_section` (already compressed when `codec` is not 0)."""
    if last_offset_delta is None:
        last_offset_delta = record_count - 1
    now = int(time.time() * 1000)
    after_crc = (s16(codec) + s32(last_offset_delta) + s64(now) + s64(now) + s64(-1) + s16(-1) + s32(-1) +
                 s32(record_count) + records_section)
    body = s32(0) + b"\x02" + struct.pack(">I", crc32c(after_crc)) + after_crc  # leader epoch, magic, crc
    return s64(0) + s32(len(body)) + body


def plain_record(i, value):
    body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(value)) + value + varint(0)
    return varint(len(body)) + body


def produce_request(topic, partitions, acks=1, timeout_ms=30000):
    """Produce v3..v8 body (the same layout): [(partition, records bytes)]."""
    parts = [s32(p) + s32(len(records)) + records for p, records in partitions]
    return s16(-1) + s16(acks) + s32(timeout_ms) + array([string(topic) + array(parts)])


def parse_produce_v8(body):
    """[(partition, error code, base offset, error message)] of a Produce v8 response."""
    pos = 4  # correlation id
    out = []
    (ntopics,) = struct.unpack_from(">i", body, pos)
    pos += 4
    for _ in range(ntopics):
        (n,) = struct.unpack_from(">h", body, pos)
        pos += 2 + n
        (nparts,) = struct.unpack_from(">i", body, pos)
        pos += 4
        for _ in range(nparts):
            index, err, base, _append_time, _start = struct.unpack_from(">ihqqq", body, pos)
            pos += 30
            (nerrs,) = struct.unpack_from(">i", body, pos)
            pos += 4
            for _ in range(nerrs):
                pos += 4
                (m,) = struct.unpack_from(">h", body, pos)
                pos += 2 + max(m, 0)
            (m,) = struct.unpack_from(">h", body, pos)
            pos += 2
            msg = body[pos:pos + m].decode() if m >= 0 else None
            pos += max(m, 0)
            out.append((index, err, base, msg))
    return out


def exchange(sock, key, version, corr, body, timeout=30.0):
    """Sends one request; its response body, or None when the broker closed the connection."""
    sock.settimeout(timeout)
    sock.sendall(frame(request_header(key, version, corr) + body))
    try:
        resp = recv_frame(sock)
    except (ConnectionResetError, BrokenPipeError):
        return None
    if resp is not None:
        assert struct.unpack_from(">i", resp)[0] == corr, "response to another request"
    return resp


class Prober:
    """Sends ApiVersions on its own connection every `interval` seconds from a thread and
    records each answer's latency (None: no answer within PROBE_TIMEOUT_S or a closed socket)."""

    def __init__(self, broker, interval=0.1):
        self.broker = broker
        self.interval = interval
        self.latencies = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=PROBE_TIMEOUT_S + 5)
        return False

    def _run(self):
        sock = None
        corr = 0
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                if sock is None:
                    sock = self.broker.connect(timeout=PROBE_TIMEOUT_S)
                sock.settimeout(PROBE_TIMEOUT_S)
                corr += 1
                sock.sendall(api_versions_v0_request(corr))
                body = recv_frame(sock)
                ok = body is not None and parse_api_versions_v0(body)[:2] == (corr, 0)
                self.latencies.append(time.monotonic() - began if ok else None)
                if not ok:
                    sock.close()
                    sock = None
            except OSError:
                self.latencies.append(None)
                if sock is not None:
                    sock.close()
                sock = None
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))
        if sock is not None:
            sock.close()

    def summary(self):
        answered = [x for x in self.latencies if x is not None]
        worst = max(answered) if answered else None
        return len(self.latencies), len(answered), worst


class LimitsTestCase(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        # ASan keeps freed memory in its quarantine (256 MiB by default), resident: with a small
        # one, RSS measures what the broker holds rather than what it freed a moment ago.
        cls._asan_options = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [cls._asan_options, "quarantine_size_mb=16"]))
        try:
            super().setUpClass()
        finally:
            if cls._asan_options is None:
                del os.environ["ASAN_OPTIONS"]
            else:
                os.environ["ASAN_OPTIONS"] = cls._asan_options

    def assert_serving(self, what):
        """Another connection gets an ApiVersions answer within PROBE_TIMEOUT_S."""
        self.assertTrue(self.broker.alive(), f"broker died after {what}\n{self.broker.log_tail()}")
        began = time.monotonic()
        with self.broker.connect(timeout=PROBE_TIMEOUT_S) as s:
            s.settimeout(PROBE_TIMEOUT_S)
            try:
                s.sendall(api_versions_v0_request(77))
                body = recv_frame(s)
            except socket.timeout:
                body = None
        self.assertIsNotNone(body, f"no ApiVersions answer within {PROBE_TIMEOUT_S} s after {what}")
        self.assertEqual(parse_api_versions_v0(body)[:2], (77, 0))
        return time.monotonic() - began

    def served(self):
        with self.broker.connect() as s:
            s.sendall(api_versions_v0_request(1))
            return parse_api_versions_v0(recv_frame(s))[2]


class WireLimitsTest(LimitsTestCase):
    overrides = {"num.partitions": 1, "group.initial.rebalance.delay.ms": 0, "fetch.max.bytes": 1 << 20,
                 "auto.create.topics.enable": "false"}
    baseline_kib = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        kp.create_topic(cls.broker.bootstrap, "limits", 2)
        time.sleep(0.5)
        cls.baseline_kib = cls.broker.rss_kib()

    def check_rss(self, what):
        rss = self.broker.rss_kib()
        self.assertLess(rss - self.baseline_kib, RSS_BOUND_KIB,
                        f"RSS {rss} KiB after {what}, baseline {self.baseline_kib} KiB")

    def answered_or_closed(self, key, version, body, what):
        """Sends `body`, then an ApiVersions probe on the same connection: the request must be
        answered (the probe then too) or the connection closed, within 30 s."""
        with self.broker.connect() as s:
            s.settimeout(30)
            s.sendall(frame(request_header(key, version, 5) + body) + api_versions_v0_request(6))
            outcome = "closed"
            try:
                while True:
                    resp = recv_frame(s)
                    if resp is None:
                        break
                    if struct.unpack_from(">i", resp)[0] == 6:
                        outcome = "answered"
                        break
            except (ConnectionResetError, BrokenPipeError):
                pass
            except socket.timeout:
                self.fail(f"{what}: neither answered nor closed within 30 s")
        self.assert_serving(what)
        return outcome

    def test_extreme_counts_for_every_served_api(self):
        served = self.served()
        self.assertGreaterEqual(len(served), 20)
        big = s32(INT32_MAX)
        bodies = {
            "int32-max everywhere": big * 12,
            "int32-max after 2 bytes": b"\x00\x01" + big * 12,
            "int32-max after 1 byte": b"\x01" + big * 12,
            "zeros then int32-max": b"\x00" * 8 + big * 8,
            "int16-max lengths": s16(0x7FFF) * 24,
            "compact counts 2^32-1": uvarint(0xFFFFFFFF) * 10,
            "compact after a byte": b"\x02a" + uvarint(0xFFFFFFFF) * 10,
            "tagged-field count 2^31": b"\x00" * 6 + uvarint(1 << 31) + b"\x00" * 8,
            "tagged field of 2^31 bytes": b"\x00" * 6 + b"\x01\x00" + uvarint(1 << 31) + b"\x00" * 8,
        }
        summary = []
        for key, lo, hi in sorted(served):
            outcomes = []
            for version in sorted({lo, hi, (lo + hi) // 2}):
                for name, body in bodies.items():
                    with self.subTest(api=key, version=version, body=name):
                        outcomes.append(self.answered_or_closed(key, version, body, f"api {key} v{version} {name}"))
            summary.append(f"{key}:{outcomes.count('answered')}a/{outcomes.count('closed')}c")
            self.check_rss(f"extreme counts for api {key}")
        sys.stderr.write(f"  [answered/closed per api: {' '.join(summary)}]\n")

    def create_topics_v1(self, topic, partitions, replication, validate_only, assignments=()):
        body = array([string(topic) + s32(partitions) + s16(replication) +
                      array([s32(p) + array([s32(b) for b in brokers]) for p, brokers in assignments]) +
                      array([])]) + s32(5000) + (b"\x01" if validate_only else b"\x00")
        with self.broker.connect() as s:
            resp = exchange(s, 19, 1, 11, body)
        self.assertIsNotNone(resp, "CreateTopics: connection closed")
        (n,) = struct.unpack_from(">i", resp, 4)
        self.assertEqual(n, 1)
        (ln,) = struct.unpack_from(">h", resp, 8)
        (err,) = struct.unpack_from(">h", resp, 10 + ln)
        return err

    def test_create_topics_with_extreme_counts(self):
        """Needs the partition limit in cluster::topic_manager (INVALID_PARTITIONS before any
        allocation)."""
        with Prober(self.broker) as probe:
            for validate_only in (True, False):
                for name, partitions, replication, want in (
                        ("int32-max-partitions", INT32_MAX, 1, INVALID_PARTITIONS),
                        ("many-partitions-many-replicas", INT32_MAX, 0x7FFF, None),
                        ("int16-max-replicas", 1, 0x7FFF, INVALID_REPLICATION_FACTOR),
                        ("huge-partitions", 1 << 24, 1, INVALID_PARTITIONS)):
                    with self.subTest(case=name, validate_only=validate_only):
                        began = time.monotonic()
                        err = self.create_topics_v1(f"{name}-{int(validate_only)}", partitions, replication,
                                                    validate_only)
                        took = time.monotonic() - began
                        if want is None:
                            self.assertIn(err, (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR))
                        else:
                            self.assertEqual(err, want)
                        self.assertLess(took, 10, f"CreateTopics {name} took {took:.1f} s")
                        self.check_rss(f"CreateTopics {name} validate_only={validate_only}")
                        self.assert_serving(f"CreateTopics {name}")
                with self.subTest(case="assignment-at-int32-max", validate_only=validate_only):
                    err = self.create_topics_v1(f"assigned-{int(validate_only)}", -1, -1, validate_only,
                                                assignments=[(INT32_MAX, [0])])
                    self.assertEqual(err, INVALID_REPLICA_ASSIGNMENT)
        self.assert_probes(probe, "CreateTopics with extreme counts")

    def test_create_partitions_with_extreme_counts(self):
        """Needs the partition limit in cluster::topic_manager."""
        with Prober(self.broker) as probe:
            for validate_only in (True, False):
                for count in (INT32_MAX, 1 << 24):
                    with self.subTest(count=count, validate_only=validate_only):
                        body = (array([string("limits") + s32(count) + s32(-1)]) + s32(5000) +
                                (b"\x01" if validate_only else b"\x00"))
                        with self.broker.connect() as s:
                            resp = exchange(s, 37, 0, 12, body)
                        self.assertIsNotNone(resp, "CreatePartitions: connection closed")
                        (ln,) = struct.unpack_from(">h", resp, 12)
                        (err,) = struct.unpack_from(">h", resp, 14 + ln)
                        self.assertEqual(err, INVALID_PARTITIONS)
                        self.check_rss(f"CreatePartitions count={count}")
        self.assert_probes(probe, "CreatePartitions with extreme counts")

    def assert_probes(self, probe, what):
        sent, answered, worst = probe.summary()
        sys.stderr.write(f"  [{what}: {answered}/{sent} probes answered, worst {worst}]\n")
        self.assertEqual(answered, sent, f"{what}: {sent - answered} of {sent} ApiVersions probes unanswered")

    def produce_fill(self, partition, batches, value_bytes):
        value = b"v" * value_bytes
        with self.broker.connect() as s:
            for i in range(batches):
                resp = exchange(s, 0, 8, 100 + i,
                                produce_request("limits", [(partition, record_batch(plain_record(0, value), 1))]))
                self.assertEqual(parse_produce_v8(resp)[0][1], NONE)

    def test_fetch_with_int32_max_sizes_is_capped_by_fetch_max_bytes(self):
        self.produce_fill(1, 24, 100 * 1024)  # 2.4 MB; fetch.max.bytes is 1 MiB
        cases = (
            # Fetch v4: max_bytes and partition_max_bytes INT32_MAX.
            (4, s32(-1) + s32(100) + s32(1) + s32(INT32_MAX) + b"\x00" +
             array([string("limits") + array([s32(1) + s64(0) + s32(INT32_MAX)])])),
            # Fetch v2 (no response limit of its own; down-converted to magic 1 in memory).
            (2, s32(-1) + s32(100) + s32(1) + array([string("limits") + array([s32(1) + s64(0) + s32(INT32_MAX)])])),
            # Fetch v0, the same partition 50 times.
            (0, s32(-1) + s32(100) + s32(1) +
             array([string("limits") + array([s32(1) + s64(0) + s32(INT32_MAX)] * 50)])),
        )
        for version, body in cases:
            with self.subTest(version=version):
                with self.broker.connect() as s:
                    resp = exchange(s, 1, version, 13, body)
                self.assertIsNotNone(resp)
                # One batch beyond the cap at most (the first batch is always returned whole).
                self.assertLess(len(resp), (1 << 20) + 200 * 1024, f"Fetch v{version}: {len(resp)} bytes")
                self.assertGreater(len(resp), 100 * 1024)
                self.check_rss(f"Fetch v{version}")
        self.assert_serving("Fetch with INT32_MAX sizes")

    def test_list_offsets_v0_with_int32_max_offsets(self):
        body = s32(-1) + array([string("limits") + array([s32(0) + s64(-1) + s32(INT32_MAX)] * 100)])
        with self.broker.connect() as s:
            resp = exchange(s, 2, 0, 14, body)
        self.assertIsNotNone(resp)
        self.assertLess(len(resp), 100 * 64)
        self.check_rss("ListOffsets v0")

    def test_batches_declaring_int32_max_records(self):
        rec = plain_record(0, b"x")
        cases = {
            "uncompressed": record_batch(rec, INT32_MAX),
            "uncompressed, last delta 0": record_batch(rec, INT32_MAX, last_offset_delta=0),
            "gzip": record_batch(__import__("gzip").compress(rec), INT32_MAX, codec=1),
            "negative": record_batch(rec, -(2 ** 31), last_offset_delta=0),
            "no records at all": record_batch(b"", INT32_MAX),
        }
        with Prober(self.broker) as probe:
            for name, batch in cases.items():
                with self.subTest(case=name):
                    with self.broker.connect() as s:
                        resp = exchange(s, 0, 8, 15, produce_request("limits", [(0, batch)] * 200))
                    self.assertIsNotNone(resp)
                    errs = {p[1] for p in parse_produce_v8(resp)}
                    self.assertTrue(errs <= {INVALID_RECORD, CORRUPT_MESSAGE}, f"{name}: {errs}")
                    self.check_rss(f"batch with {name} record count")
        self.assert_probes(probe, "INT32_MAX record counts")

    def test_groups_with_extreme_values(self):
        with Prober(self.broker) as probe, self.broker.connect() as s:
            # JoinGroup v1: session timeout INT32_MAX is refused.
            join = (string("g-extreme") + s32(INT32_MAX) + s32(INT32_MAX) + string("") + string("consumer") +
                    array([string("range") + s32(8) + b"\x00" * 8] * 1000))
            resp = exchange(s, 11, 1, 16, join)
            self.assertIsNotNone(resp)
            self.assertEqual(struct.unpack_from(">h", resp, 4)[0], INVALID_SESSION_TIMEOUT)
            # OffsetCommit v2 without a group generation: INT32_MAX partitions, INT64_MAX offsets and retention.
            commit = (string("g-commit") + s32(-1) + string("") + s64(INT64_MAX) +
                      array([string("limits") + array([s32(INT32_MAX - i) + s64(INT64_MAX) + string("")
                                                       for i in range(2000)])]))
            self.assertIsNotNone(exchange(s, 8, 2, 17, commit))
            # OffsetFetch v1 of those partitions.
            fetch = string("g-commit") + array([string("limits") + array([s32(INT32_MAX - i) for i in range(2000)])])
            self.assertIsNotNone(exchange(s, 9, 1, 18, fetch))
            # Heartbeat and SyncGroup with INT32_MAX generations for an unknown member.
            self.assertIsNotNone(exchange(s, 12, 0, 19, string("g-extreme") + s32(INT32_MAX) + string("nobody")))
            self.assertIsNotNone(exchange(s, 14, 0, 20, string("g-extreme") + s32(INT32_MAX) + string("nobody") +
                                          array([])))
            # DeleteRecords beyond the end, with a timeout of INT32_MAX.
            dr = array([string("limits") + array([s32(0) + s64(INT64_MAX), s32(INT32_MAX) + s64(INT64_MAX)])])
            self.assertIsNotNone(exchange(s, 21, 0, 21, dr + s32(INT32_MAX)))
            # DescribeConfigs naming 10000 config keys.
            dc = array([b"\x02" + string("limits") + array([string(f"k{i}") for i in range(10000)])])
            self.assertIsNotNone(exchange(s, 32, 0, 22, dc))
        self.check_rss("group requests with extreme values")
        self.assert_probes(probe, "group requests with extreme values")


def zstd_bomb(inflated):
    import zstandard
    return zstandard.ZstdCompressor(level=3).compress(bytes(inflated))


class DecompressionLimitsTest(LimitsTestCase):
    overrides = {"num.partitions": 1, "auto.create.topics.enable": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        kp.create_topic(cls.broker.bootstrap, "bombs", 1)

    def produce_while_probing(self, body, what, version=8):
        with Prober(self.broker) as probe, self.broker.connect() as s:
            time.sleep(0.3)  # a few probes before
            began = time.monotonic()
            resp = exchange(s, 0, version, 30, body, timeout=120)
            took = time.monotonic() - began
            time.sleep(0.3)
        sent, answered, worst = probe.summary()
        fast = sum(1 for x in probe.latencies if x is not None and x < 1.0)
        sys.stderr.write(f"  [{what}: answered in {took:.1f} s; {fast}/{sent} probes within 1 s, "
                         f"worst {worst}]\n")
        self.assertIsNotNone(resp, f"{what}: connection closed")
        self.assertGreaterEqual(fast, 0.9 * sent, f"{what}: only {fast} of {sent} probes answered within 1 s")
        self.assertEqual(answered, sent, f"{what}: {sent - answered} probes unanswered")
        return parse_produce_v8(resp), took

    def test_400_zstd_batches_inflating_past_64_mib(self):
        bomb = zstd_bomb((64 << 20) + 4096)
        batch = record_batch(bomb, 1, codec=4)
        body = produce_request("bombs", [(0, batch)] * 400)
        sys.stderr.write(f"  [request of {len(body)} bytes, batches of {len(batch)}]\n")
        self.assertLess(len(body), 2 << 20)
        before = self.broker.rss_kib()
        parts, took = self.produce_while_probing(body, "400 zstd bombs")
        self.assertEqual(len(parts), 400)
        self.assertEqual({p[1] for p in parts}, {INVALID_RECORD})
        self.assertIn("decompress", parts[0][3] or "")
        self.assertIn("in total", parts[-1][3] or "")
        self.assertLess(took, 60, "the refusal took too long")
        self.assertLess(self.broker.rss_kib() - before, RSS_BOUND_KIB)

    def test_one_partition_of_400_zstd_batches(self):
        bomb = zstd_bomb((64 << 20) + 4096)
        records = record_batch(bomb, 1, codec=4) * 400
        parts, _ = self.produce_while_probing(produce_request("bombs", [(0, records)]), "one partition of bombs")
        self.assertEqual([p[1] for p in parts], [INVALID_RECORD])

    def test_gzip_bombs(self):
        import zlib
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        bomb = z.compress(bytes((40 << 20))) + z.flush()
        parts, _ = self.produce_while_probing(produce_request("bombs", [(0, record_batch(bomb, 1, codec=1))] * 20),
                                              "20 gzip bombs")
        self.assertEqual({p[1] for p in parts}, {INVALID_RECORD})

    def test_pipelined_produces_append_in_request_order(self):
        """A compressed request is checked off the broker thread; the uncompressed one pipelined
        behind it on the same connection must still append after it."""
        import zstandard
        section = b"".join(plain_record(i, b"z" * 1000 + b"%06d" % i) for i in range(2000))
        slow = record_batch(zstandard.ZstdCompressor().compress(section), 2000, codec=4)
        fast = record_batch(plain_record(0, b"fast"), 1)
        with self.broker.connect() as s:
            s.settimeout(60)
            reqs = [(50 + i, produce_request("bombs", [(0, slow if i % 2 == 0 else fast)])) for i in range(10)]
            s.sendall(b"".join(frame(request_header(0, 8, corr) + body) for corr, body in reqs))
            offsets = []
            for corr, _ in reqs:
                resp = recv_frame(s)
                self.assertEqual(struct.unpack_from(">i", resp)[0], corr)
                (_, err, base, msg), = parse_produce_v8(resp)
                self.assertEqual(err, NONE, msg)
                offsets.append(base)
        self.assertEqual(offsets, sorted(offsets), f"appended out of request order: {offsets}")

    def test_legit_compressed_batch_of_5_mb_is_accepted(self):
        import zstandard
        lines = b"".join(b"order %08d: customer=%06d item=widget quantity=1 status=shipped\n" % (i, i % 977)
                         for i in range(100000))
        values = [lines[i:i + 100000] for i in range(0, 5_000_000, 100000)]
        section = b"".join(plain_record(i, v) for i, v in enumerate(values))
        self.assertGreaterEqual(len(section), 5_000_000)
        for codec, packed in ((4, zstandard.ZstdCompressor(level=3).compress(section)),
                              (1, __import__("gzip").compress(section))):
            with self.subTest(codec=codec):
                sys.stderr.write(f"  [codec {codec}: {len(section)} bytes compress to {len(packed)}]\n")
                self.assertLess(len(packed), 1 << 20)
                with self.broker.connect() as s:
                    resp = exchange(s, 0, 8, 40, produce_request("bombs", [(0, record_batch(packed, len(values),
                                                                                            codec=codec))]))
                parts = parse_produce_v8(resp)
                self.assertEqual(parts[0][1], NONE, parts[0][3])
                self.assertGreaterEqual(parts[0][2], 0)


if __name__ == "__main__":
    harness.main()
