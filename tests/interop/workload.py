"""The keyed, headered message set the client tests produce, and the checks on what they consume.

Message i of a run tagged T has key "key-NNN" (i mod KEY_COUNT), a value that starts with
"T|i|" (so every consumed record names the message it should be), and headers ("idx", i),
("tag", T), plus two headers with the same name on every tenth message (their order must survive).
Clients differ in record types, so the tests turn what they consume into `consumed` tuples.
"""

import collections
import time

MESSAGE_COUNT = 10_000
KEY_COUNT = 97

Consumed = collections.namedtuple("Consumed", "partition offset key value headers timestamp")


def key_of(i):
    return f"key-{i % KEY_COUNT:03d}".encode()


def value_of(tag, i):
    # Repetitive filler so that compression has something to do; varying length.
    return f"{tag}|{i:06d}|".encode() + b"samsa-interop-payload " * (1 + i % 9)


def headers_of(tag, i):
    h = [("idx", str(i).encode()), ("tag", tag.encode())]
    if i % 10 == 0:
        h += [("dup", b"first"), ("dup", b"second")]
    return h


def messages(tag, count=MESSAGE_COUNT):
    """(index, key, value, headers) for every message of a run."""
    return [(i, key_of(i), value_of(tag, i), headers_of(tag, i)) for i in range(count)]


def index_of(tag, value):
    prefix = f"{tag}|".encode()
    if not value.startswith(prefix):
        raise AssertionError(f"value {value[:40]!r} does not belong to run {tag!r}")
    return int(value[len(prefix):len(prefix) + 6])


def check_consumed(tc, tag, records, count=MESSAGE_COUNT, partitions=3, with_headers=True, since_ms=None):
    """Asserts `records` (in consumption order) are exactly the run's messages: content, no loss,
    no duplicates, contiguous increasing offsets per partition, produce order per key."""
    tc.assertEqual(len(records), count, f"{tag}: consumed {len(records)} records, produced {count}")
    seen = {}
    by_partition = collections.defaultdict(list)
    for r in records:
        i = index_of(tag, r.value)
        tc.assertNotIn(i, seen, f"{tag}: message {i} consumed twice (offsets {seen.get(i)} and {r.offset})")
        seen[i] = r.offset
        tc.assertEqual(r.value, value_of(tag, i), f"{tag}: value of message {i}")
        tc.assertEqual(r.key, key_of(i), f"{tag}: key of message {i}")
        if with_headers:
            tc.assertEqual(list(r.headers or []), headers_of(tag, i), f"{tag}: headers of message {i}")
        if since_ms is not None:
            now = time.time() * 1000
            tc.assertTrue(since_ms - 5000 <= r.timestamp <= now + 5000,
                          f"{tag}: message {i} has timestamp {r.timestamp}, produced after {since_ms}")
        by_partition[r.partition].append((r.offset, i, r.key))
    tc.assertEqual(set(seen), set(range(count)), f"{tag}: some messages are missing")
    tc.assertLessEqual(set(by_partition), set(range(partitions)), f"{tag}: records from unknown partitions")
    key_partition = {}
    for p, rows in by_partition.items():
        offsets = [o for o, _, _ in rows]
        tc.assertEqual(offsets, list(range(len(rows))),
                       f"{tag}: partition {p} offsets are not 0..{len(rows) - 1} in order")
        last_index = {}
        for _, i, k in rows:
            tc.assertEqual(key_partition.setdefault(k, p), p, f"{tag}: key {k!r} found in two partitions")
            tc.assertGreater(i, last_index.get(k, -1), f"{tag}: key {k!r} out of produce order in partition {p}")
            last_index[k] = i
    return by_partition


def check_acked_present(tc, acked, stored):
    """Every acknowledged (partition, offset, key, value) must be stored at that position."""
    missing = [a for a in acked if stored.get((a[0], a[1])) != (a[2], a[3])]
    tc.assertEqual(missing[:5], [], f"{len(missing)} of {len(acked)} acknowledged messages are missing or "
                                    f"different after the restart")
