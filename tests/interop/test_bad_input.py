#!/usr/bin/python3
"""Bad input over raw sockets: oversized and negative frame sizes, truncated headers, unknown API
keys, an unsupported ApiVersions version, random request bodies for every served API, idle
connections. The broker must close or answer, keep its memory flat, never crash, and keep
serving a real client (kafka-python) afterwards.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_bad_input.py
Set SAMSA_FUZZ_SEED to replay the random bodies with another seed (default 20240611).
"""

import os
import random
import select
import socket
import struct
import sys
import time

import harness
from harness import frame, recv_frame, request_header_v1

import kafka_python_client as kp
import workload

MAX_REQUEST = 1024 * 1024
IDLE_MS = 2000
API_VERSIONS = 18
UNSUPPORTED_VERSION = 35
SEED = int(os.environ.get("SAMSA_FUZZ_SEED", "20240611"))

# First request version that uses the flexible request header (v2, with tagged fields), per API
# key, as Kafka's protocol defines them; keys not listed use header v1 at every version.
FIRST_FLEXIBLE = {
    0: 9, 1: 12, 2: 6, 3: 9, 4: 4, 5: 2, 6: 6, 7: 3, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4,
    15: 5, 16: 3, 18: 3, 19: 5, 20: 4, 21: 2, 22: 2, 23: 4, 24: 3, 25: 3, 26: 3, 27: 1, 28: 3, 29: 2,
    30: 2, 31: 2, 32: 4, 33: 2, 34: 2, 35: 2, 36: 2, 37: 2, 38: 2, 39: 2, 40: 2, 41: 2, 42: 2, 43: 2,
    44: 1, 45: 0, 46: 0, 48: 1, 49: 1, 50: 0, 51: 0, 52: 0, 53: 1, 54: 1, 55: 0, 56: 0, 57: 0, 58: 0,
    59: 0, 60: 0, 61: 0, 62: 0, 63: 0, 64: 0, 65: 0, 66: 0, 67: 0, 68: 0, 69: 0,
}


def request_header(api_key, version, correlation_id):
    h = request_header_v1(api_key, version, correlation_id)
    flexible_from = FIRST_FLEXIBLE.get(api_key)
    if flexible_from is not None and version >= flexible_from:
        h += b"\x00"  # no tagged fields
    return h


def api_versions_v0_request(correlation_id):
    return frame(request_header_v1(API_VERSIONS, 0, correlation_id))


def parse_api_versions_v0(body):
    """(correlation id, error code, [(key, min, max)]) of a v0 response; all bytes must be used."""
    corr, err, n = struct.unpack_from(">ihi", body, 0)
    pos = 10
    keys = []
    for _ in range(n):
        keys.append(struct.unpack_from(">hhh", body, pos))
        pos += 6
    if pos != len(body):
        raise AssertionError(f"ApiVersions v0 response has {len(body) - pos} trailing bytes")
    return corr, err, keys


def wait_closed(sock, timeout=10.0):
    """True if the peer closes (EOF or reset) within `timeout`, ignoring any data it sends."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


FUZZ_TOPIC = "fuzz"


def record_set(magic, codec, count=5):
    b = kp.kafka.record.memory_records.MemoryRecordsBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    for i in range(count):
        b.append(timestamp=None, key=f"k{i}".encode(), value=f"fuzz value {i}".encode() * 3,
                 **({"headers": [("h", b"v")]} if magic == 2 else {}))
    b.close()
    return bytes(b.buffer())


def enc(request):
    # kafka-python binds encode() weakly to its object: keep the object alive while encoding.
    return bytes(request.encode())


def valid_templates():
    """(name, api key, version, body, bytes at the start never mutated). Fetch keeps max_wait and
    min_bytes intact so that a mutation cannot turn it into a legitimately long wait."""
    from kafka.protocol.admin import DescribeConfigsRequest
    from kafka.protocol.fetch import FetchRequest
    from kafka.protocol.metadata import MetadataRequest
    from kafka.protocol.offset import OffsetRequest
    from kafka.protocol.produce import ProduceRequest
    t = FUZZ_TOPIC
    return [
        ("produce-v3-gzip", 0, 3, enc(ProduceRequest[3](None, 1, 5000, [(t, [(0, record_set(2, 1))])])), 0),
        ("produce-v3-none", 0, 3, enc(ProduceRequest[3](None, 1, 5000, [(t, [(0, record_set(2, 0))])])), 0),
        ("produce-v2-magic1", 0, 2, enc(ProduceRequest[2](1, 5000, [(t, [(0, record_set(1, 2))])])), 0),
        ("produce-v0-magic0", 0, 0, enc(ProduceRequest[0](1, 5000, [(t, [(0, record_set(0, 1))])])), 0),
        ("fetch-v4", 1, 4, enc(FetchRequest[4](-1, 0, 0, 1 << 20, 0, [(t, [(0, 0, 1 << 20)])])), 12),
        ("list-offsets-v2", 2, 2, enc(OffsetRequest[2](-1, 0, [(t, [(0, -1)])])), 0),
        ("metadata-v1", 3, 1, enc(MetadataRequest[1]([t, "missing-topic"])), 0),
        ("describe-configs-v1", 32, 1, enc(DescribeConfigsRequest[1]([(2, t, None)], True)), 0),
    ]


def mutate(rng, body, protect):
    b = bytearray(body)
    how = rng.randrange(4)
    lo = min(protect, len(b))
    if how == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(lo, len(b))] ^= rng.randint(1, 255)
    elif how == 1:  # cut short
        del b[rng.randrange(0, len(b)):]
    elif how == 2:  # insert garbage
        at = rng.randrange(lo, len(b) + 1)
        b[at:at] = rng.randbytes(rng.randint(1, 8))
    else:  # a boundary value over an int16/int32 (length and count fields)
        width = rng.choice((2, 4))
        at = rng.randrange(lo, max(lo + 1, len(b) - width + 1))
        edges = (0, -1, 1, 0x7FFF, -0x8000) if width == 2 else (0, -1, 1, 0x7FFFFFFF, -(2 ** 31))
        value = rng.choice(edges)
        b[at:at + width] = struct.pack(">h" if width == 2 else ">i", value)
    return bytes(b)


class BadInputTest(harness.BrokerTestCase):
    overrides = {"socket.request.max.bytes": MAX_REQUEST, "connections.max.idle.ms": IDLE_MS,
                 "num.partitions": 1}

    def api_versions(self, sock, corr=7):
        sock.sendall(api_versions_v0_request(corr))
        body = recv_frame(sock)
        self.assertIsNotNone(body, "no ApiVersions response: connection closed")
        got_corr, err, keys = parse_api_versions_v0(body)
        self.assertEqual((got_corr, err), (corr, 0))
        return keys

    def assert_serving(self):
        self.assertTrue(self.broker.alive(), f"broker died\n{self.broker.log_tail()}")
        with self.broker.connect() as s:
            keys = self.api_versions(s)
        self.assertIn((API_VERSIONS, 0, 3), keys)

    def test_oversized_frames_on_200_connections(self):
        self.assert_serving()
        before = self.broker.rss_kib()
        socks = []
        try:
            for n in range(200):
                s = self.broker.connect()
                declared = MAX_REQUEST + 1 if n % 2 else 0x7FFFFFFF - n
                s.sendall(struct.pack(">i", declared) + bytes(1024))
                socks.append(s)
            peak = self.broker.rss_kib()
            open_socks = list(socks)
            deadline = time.monotonic() + 20
            while open_socks and time.monotonic() < deadline:
                readable, _, _ = select.select(open_socks, [], [], 0.5)
                for s in readable:
                    try:
                        data = s.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"", "the broker answered an oversized frame")
                    open_socks.remove(s)
            self.assertEqual(len(open_socks), 0, f"{len(open_socks)} of 200 connections left open")
            after = self.broker.rss_kib()
        finally:
            for s in socks:
                s.close()
        sys.stderr.write(f"  [VmRSS {before} KiB before, {peak} with 200 oversized frames, {after} after]\n")
        self.assertLess(max(peak, after) - before, 20 * 1024, "RSS grew by more than 20 MiB")
        self.assert_serving()

    def test_negative_and_zero_sizes(self):
        for declared in (-1, -2, -(2 ** 31), -MAX_REQUEST):
            with self.subTest(size=declared), self.broker.connect() as s:
                s.sendall(struct.pack(">i", declared) + b"\x00" * 16)
                self.assertTrue(wait_closed(s), f"declared size {declared}: connection not closed")
        # A zero-size frame has no header at all: malformed, closed.
        with self.broker.connect() as s:
            s.sendall(struct.pack(">i", 0))
            self.assertTrue(wait_closed(s), "zero-size frame: connection not closed")
        self.assert_serving()

    def test_truncated_request_headers(self):
        full = request_header_v1(3, 1, 42, b"truncated-client")
        for cut in (1, 2, 3, 4, 6, 7, 8, 9, 12, len(full) - 1):
            with self.subTest(header_bytes=cut), self.broker.connect() as s:
                s.sendall(frame(full[:cut]))
                self.assertTrue(wait_closed(s), f"a {cut}-byte header was not refused")
        # Flexible header (Metadata v9) without its tagged-fields byte and no body.
        with self.broker.connect() as s:
            s.sendall(frame(request_header_v1(3, 9, 43)))
            self.assertTrue(wait_closed(s), "a flexible header without tagged fields was not refused")
        # Frames cut short by the client going away: size says more than is ever sent.
        for sent in (0, 2, 5, 11):
            s = self.broker.connect()
            s.sendall(struct.pack(">i", len(full) + 20) + full[:sent])
            s.close()
        # Half a size prefix, then gone.
        s = self.broker.connect()
        s.sendall(b"\x00\x00")
        s.close()
        self.assert_serving()

    def test_unknown_api_keys(self):
        with self.broker.connect() as control:
            self.api_versions(control, corr=1)
            for key in (-1, 80, 999, 32767, -32768):
                with self.subTest(api_key=key), self.broker.connect() as s:
                    # A valid request first: it is answered before the unknown one closes the connection.
                    s.sendall(api_versions_v0_request(100) + frame(request_header_v1(key, 0, 101) + b"\x00" * 8))
                    body = recv_frame(s)
                    self.assertIsNotNone(body, f"api key {key}: the request before it was not answered")
                    self.assertEqual(parse_api_versions_v0(body)[:2], (100, 0))
                    self.assertTrue(wait_closed(s), f"api key {key}: connection not closed")
                self.api_versions(control, corr=2)  # the other connection is unaffected
        self.assert_serving()

    def test_unsupported_api_versions_version(self):
        with self.broker.connect() as s:
            for n, version in enumerate((4, 5, 127, 32767)):
                with self.subTest(version=version):
                    corr = 500 + n
                    # Flexible header and a v3-style body, as a newer client would send.
                    body = b"\x07interop\x061.0.0\x00"
                    s.sendall(frame(request_header_v1(API_VERSIONS, version, corr) + b"\x00" + body))
                    resp = recv_frame(s)
                    self.assertIsNotNone(resp, f"ApiVersions v{version}: connection closed instead of error 35")
                    got_corr, err, keys = parse_api_versions_v0(resp)
                    self.assertEqual(got_corr, corr)
                    self.assertEqual(err, UNSUPPORTED_VERSION)
                    served = {k: (lo, hi) for k, lo, hi in keys}
                    self.assertEqual(served.get(API_VERSIONS), (0, 3))
                    for key in (0, 1, 3):  # Produce, Fetch, Metadata
                        self.assertIn(key, served)
                        self.assertEqual(served[key][0], 0)
            # The client retries on the same connection with a version the list allows.
            self.assertIn((API_VERSIONS, 0, 3), self.api_versions(s, corr=600))
        self.assert_serving()

    def test_random_bodies_for_every_served_api(self):
        with self.broker.connect() as s:
            served = self.api_versions(s)
        self.assertGreaterEqual(len(served), 4)
        rng = random.Random(SEED)
        sys.stderr.write(f"  [seed {SEED}; {len(served)} served APIs]\n")
        sizes = (0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 33, 64, 100, 257, 1000)
        summary = []
        for key, lo, hi in sorted(served):
            answered = closed = 0
            sock = None
            for n in range(50):
                if sock is None:
                    sock = self.broker.connect()
                version = rng.randint(lo, hi)
                body = rng.randbytes(rng.choice(sizes))
                probe = 1_000_000 + n
                sock.sendall(frame(request_header(key, version, n) + body) + api_versions_v0_request(probe))
                outcome = self.read_until_probe(sock, probe)
                self.assertNotEqual(outcome, "hang", f"api {key} v{version}: random body {body.hex()} got neither "
                                                     f"an answer nor a close within 15 s")
                if outcome == "answered":
                    answered += 1
                else:
                    closed += 1
                    sock.close()
                    sock = None
                self.assertTrue(self.broker.alive(), f"broker died on api {key} v{version} body {body.hex()}\n"
                                                     f"{self.broker.log_tail()}")
            if sock is not None:
                sock.close()
            summary.append(f"{key}:{answered}a/{closed}c")
        sys.stderr.write(f"  [answered/closed per api: {' '.join(summary)}]\n")
        self.assert_serving()

    def test_mutated_valid_requests(self):
        """Valid requests built by kafka-python's protocol classes, with bytes flipped, cut,
        inserted or overwritten by boundary values: deeper decoding paths (record batches)."""
        kp.create_topic(self.broker.bootstrap, FUZZ_TOPIC, 1)
        rng = random.Random(SEED + 1)
        summary = []
        for name, key, version, body, protect in valid_templates():
            with self.subTest(template=name):
                with self.broker.connect() as s:  # the unmutated request is answered
                    s.sendall(frame(request_header(key, version, 9) + body))
                    resp = recv_frame(s)
                    self.assertIsNotNone(resp, f"{name}: the valid request was refused")
                    self.assertEqual(struct.unpack_from(">i", resp)[0], 9)
                answered = closed = 0
                sock = None
                for n in range(50):
                    if sock is None:
                        sock = self.broker.connect()
                    mutated = mutate(rng, body, protect)
                    probe = 2_000_000 + n
                    sock.sendall(frame(request_header(key, version, n) + mutated) + api_versions_v0_request(probe))
                    outcome = self.read_until_probe(sock, probe)
                    self.assertNotEqual(outcome, "hang", f"{name}: mutated body {mutated.hex()} got neither an "
                                                         f"answer nor a close within 15 s")
                    self.assertTrue(self.broker.alive(), f"broker died on {name} body {mutated.hex()}\n"
                                                         f"{self.broker.log_tail()}")
                    if outcome == "answered":
                        answered += 1
                    else:
                        closed += 1
                        sock.close()
                        sock = None
                if sock is not None:
                    sock.close()
                summary.append(f"{name}:{answered}a/{closed}c")
        sys.stderr.write(f"  [answered/closed per template: {' '.join(summary)}]\n")
        self.assert_serving()

    @staticmethod
    def read_until_probe(sock, probe, timeout=15.0):
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                body = recv_frame(sock)
                if body is None:
                    return "closed"
                if len(body) >= 4 and struct.unpack_from(">i", body)[0] == probe:
                    return "answered"
        except (ConnectionResetError, BrokenPipeError):
            return "closed"
        except socket.timeout:
            return "hang"
        return "hang"

    def test_idle_connections_are_closed(self):
        quiet = self.broker.connect()
        used_once = self.broker.connect()
        busy = self.broker.connect()
        try:
            began = time.monotonic()
            self.api_versions(used_once)
            since = {quiet: began, used_once: time.monotonic()}
            closed_after = {}
            next_busy = 0.0
            # Watch both idle connections close while the busy one sends a request every 0.5 s.
            while len(closed_after) < 2 and time.monotonic() - began < IDLE_MS / 1000 + 10:
                if time.monotonic() >= next_busy:
                    self.api_versions(busy)
                    next_busy = time.monotonic() + 0.5
                waiting = [s for s in (quiet, used_once) if s not in closed_after]
                for s in select.select(waiting, [], [], 0.1)[0]:
                    try:
                        data = s.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"", "unexpected bytes on an idle connection")
                    closed_after[s] = time.monotonic() - since[s]
            for name, s in (("never used", quiet), ("used once", used_once)):
                self.assertIn(s, closed_after, f"{name} connection still open {IDLE_MS / 1000 + 10} s later")
                self.assertGreaterEqual(closed_after[s], IDLE_MS / 1000 * 0.9, f"{name} connection closed too early")
                self.assertLess(closed_after[s], IDLE_MS / 1000 + 5, f"{name} connection closed too late")
            # The busy connection outlived the idle limit and still works.
            self.assertGreater(time.monotonic() - began, IDLE_MS / 1000)
            self.api_versions(busy)
        finally:
            for s in (quiet, used_once, busy):
                s.close()
        self.assert_serving()

    def test_zz_real_client_still_works(self):
        """Runs last (alphabetical order): after everything above, kafka-python still works."""
        topic = "after-bad-input"
        kp.create_topic(self.broker.bootstrap, topic, 2)
        msgs = workload.messages(topic, 1000)
        kp.produce(self.broker.bootstrap, topic, msgs, compression_type="gzip", acks="all")
        records = kp.consume(self.broker.bootstrap, topic, 2, len(msgs))
        workload.check_consumed(self, topic, records, count=len(msgs), partitions=2)
        self.assertTrue(self.broker.alive())
        self.broker.stop()  # and it still shuts down cleanly


if __name__ == "__main__":
    harness.main()
