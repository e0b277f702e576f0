#!/usr/bin/env python3
"""kafka-python 3 (from PyPI, in build/venv) with its default settings (enable_idempotence=True,
acks=all), run by test_idempotence.py and test_transactions.py; prints one JSON line.

  kafka_python3_eos.py idempotent BOOTSTRAP TOPIC COUNT KEYS
      sends COUNT records "kp-<i>" with key "key-<i % KEYS>"; {"acked": n, "offsets": {value: [p, o]}}
  kafka_python3_eos.py transactions BOOTSTRAP TOPIC GROUP
      a committed transaction of "kp-commit-<i>", an aborted one of "kp-abort-<i>", and a
      committed one of "kp-offsets-<i>" with offset 7 of partition 0 committed for GROUP
      (send_offsets_to_transaction); then reads TOPIC back with a read_committed consumer:
      {"read_committed": [values]}
"""

import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata


def idempotent(bootstrap, topic, count, keys):
    # Small batches: many Produce requests, so the proxy has responses to lose.
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=2, batch_size=400, retry_backoff_ms=20,
                      reconnect_backoff_max_ms=200,
                      request_timeout_ms=5000, delivery_timeout_ms=120000)
    futures = [(f"kp-{i}", p.send(topic, key=f"key-{i % keys}".encode(), value=f"kp-{i}".encode()))
               for i in range(count)]
    p.flush(120)
    offsets = {}
    for v, f in futures:
        md = f.get(timeout=120)
        offsets[v] = [md.partition, md.offset]
    p.close()
    print(json.dumps({"acked": len(offsets), "offsets": offsets}))


def transactions(bootstrap, topic, group):
    p = KafkaProducer(bootstrap_servers=bootstrap, transactional_id="kp-txn")
    p.init_transactions()
    batch = lambda prefix: [p.send(topic, value=f"{prefix}-{i}".encode(), partition=i % 3) for i in range(20)]
    p.begin_transaction()
    batch("kp-commit")
    p.commit_transaction()
    p.begin_transaction()
    batch("kp-abort")
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    batch("kp-offsets")
    p.send_offsets_to_transaction({TopicPartition(topic, 0): OffsetAndMetadata(7, "", -1)}, group)
    p.commit_transaction()
    p.close()
    c = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False,
                      consumer_timeout_ms=3000)
    parts = [TopicPartition(topic, q) for q in sorted(c.partitions_for_topic(topic))]
    c.assign(parts)
    c.seek_to_beginning()
    values = [m.value.decode() for m in c]
    c.close()
    print(json.dumps({"read_committed": values}))


def main():
    mode = sys.argv[1]
    if mode == "idempotent":
        idempotent(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "transactions":
        transactions(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
