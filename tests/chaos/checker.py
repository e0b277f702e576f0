#!/usr/bin/python3
"""The chaos harness's checker: reads what a workload saw and says whether the log kept its word.

A history is JSON lines, one event each (the workload writes them; any order across processes):

  {"type": "ack",   "process": P, "partition": N, "offset": O, "value": V}   acknowledged write
                                                    (O null: acknowledged without an offset)
  {"type": "fail",  "process": P, "partition": N, "value": V}              definite failure
  {"type": "info",  "process": P, "partition": N, "value": V}              indeterminate (may or
                                                    may not have been written: a timeout)
  {"type": "error", "process": P, "error": E}       a client error worth reporting (a fatal one)
  {"type": "read",  "process": C, "partition": N, "offset": O, "value": V, "session": S}
                                                    a consumer's record; a session is one assignment
  {"type": "final", "partition": N, "offset": O, "value": V}               the last read from the start

`partition` is any string or number naming a topic partition ("t/0"). Replica logs for the
divergence check are JSON lines too, {"broker": B, "partition": N, "hw": H, "offset": O, "value": V},
one per record (from `samsa dump-log` of each broker's data directory).

The categories follow Jepsen's Kafka workload:
  lost          acknowledged, but not in the final read
  duplicated    one value at two or more offsets
  inconsistent  one offset seen holding two values (acknowledgement, reads, final read)
  divergent     replicas holding different values at an offset below their common high watermark
  nonmonotonic  a consumer session reading a partition at an offset not above the one before
  unseen        acknowledged, in the final read, but seen by no consumer (information)
  failed_written  a definite failure whose value was read anyway (information)

One summary line; the exit status is 1 on any lost, duplicated, inconsistent or divergent record.

    checker.py HISTORY [--replicas FILE] [--details N]
"""

import argparse
import collections
import json
import sys

FAILING = ("lost", "duplicated", "inconsistent", "divergent")
ORDER = FAILING + ("nonmonotonic", "unseen", "failed_written")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check(events, replicas=()):
    """{category: [examples]} for a history (a list of event dicts) and replica records."""
    found = {c: [] for c in ORDER}
    acked = {}                                   # (partition, value) -> offset
    failed = set()                               # (partition, value)
    at = collections.defaultdict(set)            # (partition, offset) -> values
    offsets_of = collections.defaultdict(set)    # value -> {(partition, offset)}
    final = set()                                # (partition, value)
    consumed = set()
    last_read = {}                               # (process, session, partition) -> offset
    for e in events:
        kind = e["type"]
        if kind in ("info", "error"):
            continue
        p = e["partition"]
        if kind == "fail":
            failed.add((p, e["value"]))
            continue
        o, v = e["offset"], e["value"]
        if kind == "ack":
            acked[(p, v)] = o
            if o is None:
                continue
        at[(p, o)].add(v)
        if kind != "ack":
            offsets_of[v].add((p, o))
        if kind == "final":
            final.add((p, v))
        elif kind == "read":
            consumed.add((p, v))
            key = (e["process"], e.get("session"), p)
            if key in last_read and o <= last_read[key]:
                found["nonmonotonic"].append(f"{e['process']} read {p}@{o} after {p}@{last_read[key]}")
            last_read[key] = o
        elif kind != "ack":
            raise ValueError(f"unknown event type {kind!r}")
    for (p, v), o in sorted(acked.items(), key=str):
        if (p, v) not in final:
            found["lost"].append(f"{v!r} acknowledged at {p}@{'?' if o is None else o}")
        elif (p, v) not in consumed:
            found["unseen"].append(f"{v!r} at {p}@{'?' if o is None else o}")
    for v, where in sorted(offsets_of.items(), key=str):
        if len(where) > 1:
            found["duplicated"].append(f"{v!r} at " + ", ".join(f"{p}@{o}" for p, o in sorted(where, key=str)))
    for (p, o), values in sorted(at.items(), key=str):
        if len(values) > 1:
            found["inconsistent"].append(f"{p}@{o} holds " + " and ".join(sorted(map(repr, values))))
    for p, v in sorted(failed, key=str):
        if (p, v) in final or (p, v) in consumed:
            found["failed_written"].append(f"{v!r} failed but is in {p}")
    found["divergent"] = divergent(replicas)
    return found


def divergent(replicas):
    """Offsets below the replicas' common high watermark where their records differ (or one lacks it)."""
    logs = collections.defaultdict(dict)         # partition -> broker -> {offset: value}
    hws = collections.defaultdict(dict)          # partition -> broker -> hw
    for r in replicas:
        logs[r["partition"]].setdefault(r["broker"], {})
        if "offset" in r:
            logs[r["partition"]][r["broker"]][r["offset"]] = r["value"]
        hws[r["partition"]][r["broker"]] = r["hw"]
    out = []
    for p, by_broker in sorted(logs.items(), key=str):
        if len(by_broker) < 2:
            continue
        hw = min(hws[p].values())
        start = max(min(log) if log else hw for log in by_broker.values())  # retention may differ
        for o in range(start, hw):
            values = {b: log.get(o) for b, log in by_broker.items()}
            if len(set(values.values())) > 1:
                out.append(f"{p}@{o}: " + ", ".join(f"broker {b} {v!r}" for b, v in sorted(values.items())))
    return out


def summary(found, events):
    acks = sum(1 for e in events if e["type"] == "ack")
    reads = sum(1 for e in events if e["type"] == "read")
    unsure = sum(1 for e in events if e["type"] == "info")
    errors = sum(1 for e in events if e["type"] == "error")
    counts = ", ".join(f"{c} {len(found[c])}" for c in ORDER)
    verdict = "FAIL" if any(found[c] for c in FAILING) else "ok"
    return (f"checker: {verdict}: acknowledged {acks}, read {reads}, indeterminate {unsure}, "
            f"client errors {errors}, {counts}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Checks a chaos workload's history.")
    ap.add_argument("history")
    ap.add_argument("--replicas", help="replica records (JSON lines) for the divergence check")
    ap.add_argument("--details", type=int, default=10, help="examples printed per category")
    args = ap.parse_args(argv)
    try:
        events = read_jsonl(args.history)
        replicas = read_jsonl(args.replicas) if args.replicas else []
        found = check(events, replicas)
    except (OSError, ValueError, KeyError) as e:
        print(f"checker: cannot read the history: {e}", file=sys.stderr)
        return 2
    for c in ORDER:
        for example in found[c][:args.details]:
            print(f"  {c}: {example}")
    print(summary(found, events))
    return 1 if any(found[c] for c in FAILING) else 0


if __name__ == "__main__":
    sys.exit(main())
