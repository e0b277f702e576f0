#!/usr/bin/python3
"""The checker on hand-made histories: a clean one passes, and each anomaly is caught (and only
that one), through check() and through the command line (its summary line and exit status)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checker  # noqa: E402


def ack(p, o, v, proc="p1"):
    return {"type": "ack", "process": proc, "partition": p, "offset": o, "value": v}


def read(p, o, v, proc="c1", session=0):
    return {"type": "read", "process": proc, "partition": p, "offset": o, "value": v, "session": session}


def final(p, o, v):
    return {"type": "final", "partition": p, "offset": o, "value": v}


def clean_history():
    """Two partitions, three writes each, all acknowledged, consumed and read at the end; one
    definite failure that was indeed not written; a consumer re-reading after a rebalance."""
    h = []
    for p in ("t/0", "t/1"):
        for o in range(3):
            v = f"{p}-{o}"
            h += [ack(p, o, v), read(p, o, v), final(p, o, v)]
    h.append({"type": "fail", "process": "p1", "partition": "t/0", "value": "never"})
    h += [read("t/1", 1, "t/1-1", session=1), read("t/1", 2, "t/1-2", session=1)]
    h.append({"type": "info", "process": "p1", "partition": "t/1", "value": "maybe", "error": "_MSG_TIMED_OUT"})
    h.append({"type": "error", "process": "p1", "error": "a fatal one"})
    h += [ack("t/1", None, "no-offset"), read("t/1", 3, "no-offset"), final("t/1", 3, "no-offset")]
    return h


def replicas(values_by_broker, hw):
    return [{"broker": b, "partition": "t/0", "hw": hw, "offset": o, "value": v}
            for b, values in values_by_broker.items() for o, v in enumerate(values)]


class Checker(unittest.TestCase):
    def only(self, found, category, count=1):
        for c in checker.ORDER:
            self.assertEqual(len(found[c]), count if c == category else 0, f"{c}: {found[c]}")

    def test_a_clean_history_passes(self):
        found = checker.check(clean_history(), replicas({1: ["a", "b"], 2: ["a", "b"]}, 2))
        self.assertFalse(any(found.values()), found)

    def test_lost(self):
        h = [e for e in clean_history() if not (e["type"] in ("final", "read") and e["value"] == "t/0-2")]
        self.only(checker.check(h), "lost")

    def test_an_acknowledgement_without_an_offset_can_still_be_lost(self):
        h = [e for e in clean_history() if not (e["type"] in ("final", "read") and e["value"] == "no-offset")]
        found = checker.check(h)
        self.only(found, "lost")
        self.assertIn("t/1@?", found["lost"][0])

    def test_unseen_is_reported_but_not_lost(self):
        h = [e for e in clean_history() if not (e["type"] == "read" and e["value"] == "t/0-2")]
        self.only(checker.check(h), "unseen")

    def test_duplicated(self):
        h = clean_history() + [final("t/0", 3, "t/0-1")]
        self.only(checker.check(h), "duplicated")

    def test_inconsistent_offsets(self):
        # The acknowledgement said offset 1, but offset 1 holds another value (which is in the
        # final read only at 1, so not duplicated, and the acked value appears at 5).
        h = [e for e in clean_history() if e.get("value") != "t/0-1"]
        h += [ack("t/0", 1, "t/0-1"), final("t/0", 1, "x"), final("t/0", 5, "t/0-1"), read("t/0", 5, "t/0-1")]
        found = checker.check(h)
        self.assertEqual(len(found["inconsistent"]), 1, found)
        self.assertEqual(found["lost"], [])

    def test_nonmonotonic_reads_within_a_session(self):
        h = clean_history() + [read("t/0", 1, "t/0-1")]   # session 0 again, after offset 2
        self.only(checker.check(h), "nonmonotonic")

    def test_divergent_replicas_below_the_high_watermark(self):
        found = checker.check(clean_history(), replicas({1: ["a", "b", "c"], 2: ["a", "x", "c"]}, 3))
        self.only(found, "divergent")
        # Past the common high watermark replicas may differ (uncommitted tails).
        found = checker.check(clean_history(), replicas({1: ["a", "b", "c"], 2: ["a", "b", "y"]}, 2))
        self.only(found, "divergent", 0)
        # A replica missing a record below the high watermark diverges too.
        found = checker.check(clean_history(), replicas({1: ["a", "b", "c"], 2: ["a", "b"]}, 3))
        self.only(found, "divergent")

    def test_a_failure_that_was_written_is_reported(self):
        h = clean_history() + [{"type": "fail", "process": "p1", "partition": "t/0", "value": "t/0-0"}]
        self.only(checker.check(h), "failed_written")

    def test_the_command_line(self):
        with tempfile.TemporaryDirectory() as d:
            good, bad, broken = (os.path.join(d, n) for n in ("good", "bad", "broken"))
            with open(good, "w") as f:
                f.writelines(json.dumps(e) + "\n" for e in clean_history())
            with open(bad, "w") as f:
                f.writelines(json.dumps(e) + "\n" for e in clean_history() if e["type"] != "final")
            with open(broken, "w") as f:
                f.write("{not json\n")
            run = [sys.executable, os.path.join(HERE, "checker.py")]
            r = subprocess.run(run + [good], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("checker: ok: acknowledged 7, read 9, indeterminate 1, client errors 1, lost 0,", r.stdout)
            r = subprocess.run(run + [bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("checker: FAIL: acknowledged 7, read 9, indeterminate 1, client errors 1, lost 7,", r.stdout)
            self.assertIn("lost: 't/0-0' acknowledged at t/0@0", r.stdout)
            r = subprocess.run(run + [broken], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("cannot read the history", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
