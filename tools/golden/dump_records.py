#!/usr/bin/python3
"""Prints every record kafka-python reads from the record files named on the command line,
one line per record, so a test can compare what a real client sees with what it expects:

    == <file>
    offset=<n> ts=<ms|None> key=<hex|null> value=<hex|null> headers=[<key>=<hex|null>,...]

Each file holds the bytes of a fetch response's records field (message sets of magic 0/1 or
v2 batches). Every batch's CRC must check; any error exits non-zero. Run with
/usr/bin/python3, which sees Debian's python3-kafka and its codec modules.
"""
import sys

from kafka.record.memory_records import MemoryRecords


def hex_or_null(b):
    return "null" if b is None else bytes(b).hex()


def dump(path):
    with open(path, "rb") as f:
        data = f.read()
    print("== %s" % path)
    records = MemoryRecords(data)
    while records.has_next():
        batch = records.next_batch()
        if not batch.validate_crc():
            raise SystemExit("%s: CRC mismatch" % path)
        for r in batch:
            headers = ",".join("%s=%s" % (k, hex_or_null(v)) for k, v in r.headers)
            print("offset=%d ts=%s key=%s value=%s headers=[%s]" % (
                r.offset, r.timestamp, hex_or_null(r.key), hex_or_null(r.value), headers))


def main(paths):
    if not paths:
        raise SystemExit("usage: dump_records.py FILE...")
    for path in paths:
        dump(path)


if __name__ == "__main__":
    main(sys.argv[1:])
