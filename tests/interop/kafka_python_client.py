"""kafka-python helpers shared by the tests that drive it (plain, old formats, bad input)."""

import threading
import time

from harness import require_module
from workload import Consumed

kafka = require_module("kafka", "python3-kafka")
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

for _codec_module, _package in (("lz4", "python3-lz4"), ("snappy", "python3-snappy"),
                                ("zstandard", "python3-zstandard")):
    require_module(_codec_module, _package)


def create_topic(bootstrap, name, partitions):
    """CreateTopics through the admin client, then waits until Metadata shows every partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="interop-admin", request_timeout_ms=20000)
    try:
        resp = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for topic, code, *_ in resp.topic_errors:
            if code != 0:
                raise AssertionError(f"CreateTopics {topic}: error {code}")
    finally:
        admin.close()
    wait_partitions(bootstrap, name, partitions)


def wait_partitions(bootstrap, name, partitions, timeout=20.0):
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="interop-meta")
    try:
        deadline = time.monotonic() + timeout
        found = None
        while time.monotonic() < deadline:
            c._client.cluster.request_update()
            c._client.poll(timeout_ms=200)
            found = c.partitions_for_topic(name)
            if found and len(found) == partitions:
                return found
        raise AssertionError(f"topic {name}: metadata shows partitions {found}, expected {partitions}")
    finally:
        c.close()


def produce(bootstrap, topic, msgs, with_headers=True, **cfg):
    """Sends (i, key, value, headers) messages, waits for every ack; returns {i: (partition, offset)}."""
    cfg.setdefault("linger_ms", 5)
    cfg.setdefault("batch_size", 64 * 1024)
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="interop-kafka-python", **cfg)
    try:
        futures = []
        for i, key, value, headers in msgs:
            kw = {"headers": headers} if with_headers else {}
            futures.append((i, p.send(topic, key=key, value=value, **kw)))
        p.flush(timeout=60)
        out = {}
        for i, f in futures:
            md = f.get(timeout=30)
            out[i] = (md.partition, md.offset)
        return out
    finally:
        p.close(timeout=10)


def consume(bootstrap, topic, partitions, expected, timeout=90.0, **cfg):
    """Reads every partition from the beginning with manual assignment (no group, no commits)
    until `expected` records arrived, then polls a little longer to catch extras."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="interop-kafka-python", group_id=None,
                      enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=100,
                      max_poll_records=5000, **cfg)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = []

        def take(ms):
            for tp, recs in sorted(c.poll(timeout_ms=ms).items()):
                out.extend(Consumed(r.partition, r.offset, r.key, r.value, r.headers, r.timestamp) for r in recs)

        deadline = time.monotonic() + timeout
        while len(out) < expected and time.monotonic() < deadline:
            take(500)
        for _ in range(2):
            take(200)
        return out
    finally:
        c.close()


def read_everything(bootstrap, topic, partitions, timeout=60.0):
    """{(partition, offset): (key, value)} of everything stored, up to the end offsets."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="interop-reader", group_id=None,
                      enable_auto_commit=False, fetch_max_wait_ms=100, max_poll_records=5000)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        stored = {}
        deadline = time.monotonic() + timeout
        while any(c.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read up to the end offsets {ends} in {timeout}s")
            for tp, recs in c.poll(timeout_ms=500).items():
                for r in recs:
                    stored[(r.partition, r.offset)] = (r.key, r.value)
        return stored, ends
    finally:
        c.close()


class AckedProducerLoop:
    """A thread that produces with acks=all until stopped, recording every acknowledged message as
    (partition, offset, key, value) and every failure."""

    def __init__(self, bootstrap, topic):
        self.bootstrap = bootstrap
        self.topic = topic
        self.acked = []
        self.failed = []
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="acks-all-producer", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def wait_acked(self, n, timeout=60.0):
        deadline = time.monotonic() + timeout
        while len(self.acked) < n:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError(f"only {len(self.acked)} messages acknowledged ({len(self.failed)} failed)")
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=60)
        if self._thread.is_alive():
            raise AssertionError("the producer thread did not stop")
        return list(self.acked)

    def _run(self):
        p = KafkaProducer(bootstrap_servers=self.bootstrap, client_id="interop-acks-all", acks="all", linger_ms=2,
                          retries=0, max_block_ms=2000, request_timeout_ms=5000,
                          max_in_flight_requests_per_connection=5)
        try:
            i = 0
            while not self._stop.is_set():
                key, value = f"k{i % 13}".encode(), f"acked-{i}".encode()
                try:
                    f = p.send(self.topic, key=key, value=value)
                except Exception as e:  # broker gone: metadata or buffer timeouts
                    self.failed.append(e)
                    time.sleep(0.05)
                    continue
                f.add_callback(lambda md, k=key, v=value: self.acked.append((md.partition, md.offset, k, v)))
                f.add_errback(self.failed.append)
                self.sent += 1
                i += 1
                if i % 500 == 0:
                    time.sleep(0.005)
        finally:
            p.close(timeout=5)
