#!/usr/bin/python3
"""SIGTERM in the middle of a stream of pipelined acks=1 Produce requests.

Two raw-socket connections each send Produce v8 requests (one v2 batch of RECORDS records with
values unique to the request) as fast as the broker takes them, while a reader per connection
collects the responses. Once some hundreds are acknowledged the broker gets SIGTERM. Then:

- every request sent was either answered (in order, a prefix of what the connection sent) or
  refused: the connection closed without its response. Nothing hangs: every socket operation
  and the broker's exit are bounded by generous timeouts;
- the broker exits 0 within the bound, logs "shut down cleanly" and leaves the clean-shutdown
  marker in its log directory;
- after a restart every acknowledged record is at its acknowledged offset (read back record by
  record with kafka-python), the offsets are contiguous from 0, and every stored record is one
  that was sent (at most once).

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_shutdown.py
"""

import os
import socket
import struct
import sys
import threading
import time

import harness
from harness import frame, recv_frame, request_header_v1

import kafka_python_client as kp
from test_wire_limits import parse_produce_v8, plain_record, produce_request, record_batch

PRODUCE = 0
RECORDS = 5
CONNECTIONS = 2
ACKED_BEFORE_SIGTERM = 400
SOCKET_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 30.0
TOPIC = "shutdown-stream"


def value_of(conn, req, k):
    return f"c{conn}-r{req}-k{k}".encode()


class Stream:
    """One connection: a sender thread pipelining Produce requests (correlation id = request
    number) until the connection fails or stop is set, and a reader thread taking responses
    until the broker closes the connection."""

    def __init__(self, broker, conn):
        self.conn = conn
        self.sock = broker.connect(timeout=SOCKET_TIMEOUT_S)
        self.sent = []       # correlation ids, in sending order
        self.answered = []   # (correlation id, error code, base offset), in arrival order
        self.errors = []     # what went wrong in the threads (a hang, a bad response)
        self.closed = False  # the reader saw the connection end
        self.stop = threading.Event()
        self._sender = threading.Thread(target=self._send, name=f"sender-{conn}", daemon=True)
        self._reader = threading.Thread(target=self._read, name=f"reader-{conn}", daemon=True)

    def start(self):
        self._reader.start()
        self._sender.start()

    def request(self, corr):
        records = b"".join(plain_record(k, value_of(self.conn, corr, k)) for k in range(RECORDS))
        body = produce_request(TOPIC, [(0, record_batch(records, RECORDS))], acks=1)
        return frame(request_header_v1(PRODUCE, 8, corr) + body)

    def _send(self):
        corr = 0
        while not self.stop.is_set():
            # Keep a bounded window ahead of the answers, so the stream is continuous but the
            # broker's read side, not the socket buffers, holds what is unanswered.
            if len(self.sent) - len(self.answered) >= 64:
                time.sleep(0.001)
                continue
            data = self.request(corr)
            try:
                self.sock.sendall(data)
            except socket.timeout:
                self.errors.append(f"connection {self.conn}: a send hung for {SOCKET_TIMEOUT_S}s")
                return
            except OSError:
                return  # the broker closed the connection: this request and later ones refused
            self.sent.append(corr)
            corr += 1

    def _read(self):
        while True:
            try:
                body = recv_frame(self.sock)
            except socket.timeout:
                self.errors.append(f"connection {self.conn}: no response and no close for {SOCKET_TIMEOUT_S}s")
                return
            except OSError:
                body = None
            if body is None:
                self.closed = True
                return
            (corr,) = struct.unpack_from(">i", body)
            parts = parse_produce_v8(body)
            if len(parts) != 1:
                self.errors.append(f"connection {self.conn}: response {corr} has {len(parts)} partitions")
                continue
            _, err, base, msg = parts[0]
            self.answered.append((corr, err, base))

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in (self._sender, self._reader):
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                self.errors.append(f"connection {self.conn}: thread {t.name} still running after {timeout}s")
        self.sock.close()


class ShutdownTest(harness.BrokerTestCase):
    def test_sigterm_during_a_produce_stream(self):
        b = self.broker
        kp.create_topic(b.bootstrap, TOPIC, 1)
        streams = [Stream(b, c) for c in range(CONNECTIONS)]
        for s in streams:
            s.start()
        deadline = time.monotonic() + 120
        while sum(len(s.answered) for s in streams) < ACKED_BEFORE_SIGTERM:
            self.assertLess(time.monotonic(), deadline, "the stream was not acknowledged fast enough")
            for s in streams:
                self.assertFalse(s.errors, s.errors)
                self.assertFalse(s.closed, f"connection {s.conn} closed before SIGTERM\n{b.log_tail()}")
            time.sleep(0.01)

        # SIGTERM with the senders still going: exit 0 within the bound, no sanitizer report.
        with harness.Timer("SIGTERM to exit"):
            b.stop(timeout=EXIT_TIMEOUT_S)
        for s in streams:
            s.stop.set()
            s.join(SOCKET_TIMEOUT_S + 5)
        self.assertIn("shut down cleanly", b.log_text())
        self.assertTrue(os.path.exists(os.path.join(b.data_dir, ".kafka_cleanshutdown")),
                        "no clean-shutdown marker after SIGTERM")

        acked = {}  # value -> offset, for every record of every acknowledged request
        sent_values = set()
        for s in streams:
            self.assertFalse(s.errors, s.errors)
            self.assertTrue(s.closed, f"connection {s.conn} was not closed by the broker")
            # Answered in order: exactly the first len(answered) requests sent, then nothing.
            self.assertEqual([c for c, _, _ in s.answered], s.sent[:len(s.answered)],
                             f"connection {s.conn}: responses out of order or for requests never sent")
            refused = len(s.sent) - len(s.answered)
            sys.stderr.write(f"  connection {s.conn}: {len(s.sent)} sent, {len(s.answered)} answered, "
                             f"{refused} refused (closed unanswered)\n")
            for corr, err, base in s.answered:
                self.assertEqual(err, 0, f"connection {s.conn}: request {corr} answered with error {err}")
                for k in range(RECORDS):
                    acked[value_of(s.conn, corr, k)] = base + k
            for corr in s.sent:
                sent_values.update(value_of(s.conn, corr, k) for k in range(RECORDS))
        self.assertGreaterEqual(len(acked), ACKED_BEFORE_SIGTERM * RECORDS)

        # After a restart: every acknowledged record at its offset; nothing that was not sent.
        b.restart()
        stored, ends = kp.read_everything(b.bootstrap, TOPIC, 1)
        end = list(ends.values())[0]
        self.assertEqual(sorted(o for _, o in stored), list(range(end)), "offsets are not contiguous from 0")
        by_value = {}
        for (_, off), (_, value) in stored.items():
            self.assertIn(value, sent_values, f"offset {off} holds a record that was never sent: {value!r}")
            self.assertNotIn(value, by_value, f"{value!r} stored twice (offsets {by_value.get(value)} and {off})")
            by_value[value] = off
        for value, off in acked.items():
            self.assertEqual(by_value.get(value), off, f"acknowledged record {value!r} is not at offset {off}")
        sys.stderr.write(f"  {len(acked)} acknowledged records found at their offsets; {end} stored\n")
        self.restart_clean()


if __name__ == "__main__":
    harness.main()
