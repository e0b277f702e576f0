#!/usr/bin/python3
"""A consume-transform-produce loop with confluent-kafka transactions (run by
test_transactions.py, which SIGKILLs it at random points): reads IN with read_committed from the
group's committed offsets (assign(), no group membership), and for each poll writes
"copy-<value>" to the same partition of OUT and commits the consumed offsets in the same
transaction. With --drain it exits once every partition's position has reached the input's end;
with --pace it waits that many seconds inside each transaction, its copies already written, so
that a kill is likely to land in an open transaction.

  txn_copier.py BOOTSTRAP IN OUT GROUP TRANSACTIONAL_ID [--drain] [--pace SECONDS]
"""

import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def main():
    bootstrap, src, dst, group, txn_id = sys.argv[1:6]
    rest = sys.argv[6:]
    drain = "--drain" in rest
    pace = float(rest[rest.index("--pace") + 1]) if "--pace" in rest else 0.0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                  "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5})
    p.init_transactions(30)
    parts = sorted(c.list_topics(src, timeout=10).topics[src].partitions)
    ends = {q: c.get_watermark_offsets(TopicPartition(src, q), timeout=10)[1] for q in parts}
    committed = c.committed([TopicPartition(src, q) for q in parts], timeout=30)
    c.assign([TopicPartition(src, tp.partition, tp.offset if tp.offset >= 0 else 0) for tp in committed])
    positions = {tp.partition: max(tp.offset, 0) for tp in committed}
    while True:
        if drain and all(positions[q] >= ends[q] for q in parts):
            break
        msgs = [m for m in c.consume(num_messages=40, timeout=0.5) if not m.error()]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce(dst, key=m.key(), value=b"copy-" + m.value(), partition=m.partition())
            positions[m.partition()] = m.offset() + 1
        if pace:
            p.flush(30)
            time.sleep(pace)
        offsets = [TopicPartition(src, q, positions[q]) for q in parts]
        p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 30)
        try:
            p.commit_transaction(30)
        except KafkaException as e:
            sys.stderr.write(f"commit failed: {e}\n")
            raise
    c.close()
    print("drained", flush=True)


if __name__ == "__main__":
    main()
