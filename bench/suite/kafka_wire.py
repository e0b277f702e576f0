"""The one Kafka request the suite sends itself: Metadata v4 for all topics, to time how long a
broker takes from process start until it serves clients (a client's first request after
ApiVersions). Written from the protocol description: a size-prefixed request header v1
(api_key, api_version, correlation_id, client_id) and a v4 body whose topic array is null, with
no auto-creation. Version 4 because Apache Kafka 4 no longer answers versions 0-3."""

import socket
import struct
import time

METADATA = 3
CLIENT_ID = b"samsa-bench"


class wire_error(Exception):
    pass


def metadata_request(correlation_id):
    header = struct.pack(">hhih", METADATA, 4, correlation_id, len(CLIENT_ID)) + CLIENT_ID
    body = struct.pack(">ib", -1, 0)  # null array: every topic; allow_auto_topic_creation false
    msg = header + body
    return struct.pack(">i", len(msg)) + msg


class _reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8", "replace")

    def int32_array(self):
        n = self.take(">i")
        return [self.take(">i") for _ in range(max(n, 0))]


def parse_metadata_v4(body):
    """{brokers, topics, partitions, led} of a Metadata v4 response body (after the correlation id);
    led: the partitions that have a leader."""
    r = _reader(body)
    r.take(">i")  # throttle time
    brokers = r.take(">i")
    for _ in range(brokers):
        r.take(">i")
        r.string()
        r.take(">i")
        r.string()
    r.string()  # cluster id
    r.take(">i")  # controller id
    topics = r.take(">i")
    partitions = led = 0
    for _ in range(topics):
        r.take(">h")
        r.string()
        r.take(">b")
        n = r.take(">i")
        for _ in range(n):
            _, _, leader = r.take(">hii")
            led += leader >= 0
            r.int32_array()
            r.int32_array()
        partitions += n
    return {"brokers": brokers, "topics": topics, "partitions": partitions, "led": led}


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise wire_error("connection closed mid-response")
        buf += chunk
    return bytes(buf)


def metadata(host, port, timeout=10.0, correlation_id=1):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(metadata_request(correlation_id))
        size = struct.unpack(">i", _recv_exact(s, 4))[0]
        resp = _recv_exact(s, size)
    cid = struct.unpack_from(">i", resp)[0]
    if cid != correlation_id:
        raise wire_error(f"correlation id {cid}, expected {correlation_id}")
    return parse_metadata_v4(resp[4:])


def wait_for_metadata(host, port, deadline, alive=lambda: None, poll_interval=0.002):
    """Retries connecting every few milliseconds until a Metadata request is answered; `alive`
    raises if the server died meanwhile."""
    last = None
    while time.monotonic() < deadline:
        alive()
        try:
            return metadata(host, port, timeout=max(1.0, deadline - time.monotonic()))
        except (OSError, wire_error, struct.error) as e:
            last = e
            time.sleep(poll_interval)
    raise TimeoutError(f"{host}:{port} did not answer Metadata in time (last error: {last})")
