"""The chaos workload: producers and consumers on real Kafka clients (Debian's confluent-kafka on
librdkafka), each writing the history events the checker reads (see checker.py) to its own
JSON-lines file, with the time since the run began.

- Producers (acks=all, idempotent unless the run is the broken-config demo) write unique values
  "<producer>-<n>" round-robin over the topic's partitions at a fixed rate each. A delivery
  report with no error is an `ack` (its offset, or null when librdkafka does not give one); a
  delivery error is `info` (indeterminate: the write may or may not have happened); a record the
  client refused before sending is a definite `fail`. A fatal producer error is logged as `error`
  and the producer is replaced by a new one.
- A consumer in a group (subscribe; each assignment starts a new session) and one with assign()
  of every partition log every record they see as `read`.
- final_read() reads every partition from the start up to its end, as `final` events.
"""

import json
import logging
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

T0 = time.monotonic()


def now():
    return round(time.monotonic() - T0, 3)


class History:
    """One JSON-lines file, written by one thread."""

    def __init__(self, path):
        self.f = open(path, "w")

    def write(self, **event):
        event["time"] = now()
        self.f.write(json.dumps(event, separators=(",", ":")) + "\n")

    def close(self):
        self.f.close()


LOG = logging.getLogger("librdkafka")   # run.py points it at the run's clients.log


def _partition_name(topic, p):
    return f"{topic}/{p}"


class ProducerThread(threading.Thread):
    def __init__(self, name, bootstrap, topic, partitions, rate, history_path, broken=False):
        super().__init__(name=name, daemon=True)
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.rate = rate
        self.history = History(history_path)
        self.broken = broken
        self.stopping = threading.Event()
        self.acked = 0
        self.indeterminate = 0
        self.fatal = []

    def _config(self):
        if self.broken:
            return {"bootstrap.servers": self.bootstrap, "acks": 1, "enable.idempotence": False,
                    "linger.ms": 5, "message.timeout.ms": 20000, "logger": LOG}
        return {"bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": True,
                "linger.ms": 5, "message.timeout.ms": 60000, "request.timeout.ms": 10000,
                "error_cb": self._on_error, "logger": LOG}

    def _on_error(self, err):
        if err.fatal():
            self._fatal = err

    def _report(self, err, msg):
        p = _partition_name(self.topic, msg.partition())
        value = msg.value().decode()
        if err is None:
            offset = msg.offset()
            self.history.write(type="ack", process=self.name, partition=p,
                               offset=offset if offset is not None and offset >= 0 else None, value=value)
            self.acked += 1
        else:
            self.history.write(type="info", process=self.name, partition=p, value=value, error=err.name())
            self.indeterminate += 1

    def run(self):
        seq = 0
        interval = 1.0 / self.rate
        producer = Producer(self._config())
        self._fatal = None
        next_at = time.monotonic()
        while not self.stopping.is_set():
            if self._fatal is not None:
                # librdkafka before 2.3 can raise a fatal OUT_OF_ORDER_SEQUENCE_NUMBER after a
                # possibly persisted write that was not (its issue 4438): a new producer goes on.
                self.history.write(type="error", process=self.name, error=str(self._fatal))
                self.fatal.append(str(self._fatal))
                self._drain(producer, 10)
                producer = Producer(self._config())
                self._fatal = None
            value = f"{self.name}-{seq}"
            partition = seq % self.partitions
            seq += 1
            try:
                producer.produce(self.topic, value=value.encode(), partition=partition, on_delivery=self._report)
            except (BufferError, KafkaException) as e:
                self.history.write(type="fail", process=self.name, partition=_partition_name(self.topic, partition),
                                   value=value, error=str(e))
            next_at += interval
            delay = next_at - time.monotonic()
            try:
                producer.poll(max(0.0, delay))
            except KafkaException as e:   # a fatal error surfaced by a callback
                self._fatal = self._fatal or e.args[0]
            if delay < -1.0:          # fell behind (a stall): do not burst to catch up
                next_at = time.monotonic()
        self.unflushed = self._drain(producer, 90)
        if self._fatal is not None:
            self.history.write(type="error", process=self.name, error=str(self._fatal))
            self.fatal.append(str(self._fatal))
        self.history.close()

    def _drain(self, producer, timeout):
        """Waits for the delivery reports of everything produced; returns how many are left."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return producer.flush(max(0.0, deadline - time.monotonic()))
            except KafkaException as e:
                self._fatal = self._fatal or e.args[0]
                if time.monotonic() >= deadline:
                    return len(producer)


class ConsumerThread(threading.Thread):
    """mode "group": subscribe in group `group`; mode "assign": assign() every partition."""

    def __init__(self, name, bootstrap, topic, partitions, mode, history_path, group="chaos"):
        super().__init__(name=name, daemon=True)
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.mode = mode
        self.group = group
        self.history = History(history_path)
        self.stopping = threading.Event()
        self.session = 0
        self.reads = 0

    def _on_assign(self, consumer, partitions):
        self.session += 1

    def run(self):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"{self.group}-{self.mode}",
                      "auto.offset.reset": "earliest", "enable.auto.commit": True,
                      "session.timeout.ms": 10000, "isolation.level": "read_committed", "logger": LOG})
        if self.mode == "group":
            c.subscribe([self.topic], on_assign=self._on_assign)
        else:
            c.assign([TopicPartition(self.topic, p, -2) for p in range(self.partitions)])
        while not self.stopping.is_set():
            try:
                m = c.poll(0.5)
            except KafkaException:
                continue
            if m is None or m.error():
                continue
            self.history.write(type="read", process=self.name, session=self.session,
                               partition=_partition_name(self.topic, m.partition()), offset=m.offset(),
                               value=m.value().decode())
            self.reads += 1
        try:
            c.close()
        except KafkaException:
            pass
        self.history.close()


def end_offsets(bootstrap, topic, partitions, timeout=30):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "chaos-final-ends", "logger": LOG})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in range(partitions)]
    finally:
        c.close()


def final_read(bootstrap, topic, partitions, history_path, timeout=120):
    """Every record of every partition, from the start to the end offset read first. Returns
    the number of records, or raises if the ends are not reached within `timeout`."""
    ends = end_offsets(bootstrap, topic, partitions)
    history = History(history_path)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "chaos-final", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": "read_committed", "logger": LOG})
    done = {p for p in range(partitions) if ends[p] == 0}
    c.assign([TopicPartition(topic, p, -2) for p in range(partitions) if p not in done])
    count = 0
    deadline = time.monotonic() + timeout
    try:
        while len(done) < partitions:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the final read did not reach the ends {ends} within {timeout} s "
                                   f"(done: {sorted(done)})")
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF and m.offset() >= ends[m.partition()]:
                    done.add(m.partition())
                continue
            history.write(type="final", partition=_partition_name(topic, m.partition()), offset=m.offset(),
                          value=m.value().decode())
            count += 1
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    finally:
        c.close()
        history.close()
    return count, ends
