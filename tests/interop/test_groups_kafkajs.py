#!/usr/bin/python3
"""kafkajs consumer groups against samsa-server: the scenarios of groups_common, each member a
`node js/groups_check.js member` process that reports what it does as JSON lines and takes
commit / stop commands on stdin.

kafkajs has no auto.offset.reset "none" (only fromBeginning true / false, i.e. earliest / latest),
so test_5 runs the earliest and latest cases only: `no_offset_error` is None.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_groups_kafkajs.py
"""

import itertools
import json
import os
import subprocess
import tempfile
import threading

import harness
import groups_common as gc
import workload

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
SCRIPT = os.path.join(JS_DIR, "groups_check.js")
NODE = harness.require_program("node", "nodejs")
if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
    harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test "
                       f"(or: cd {JS_DIR} && npm ci)")


class KafkajsMember(gc.Member):
    """A groups_check.js member process; its events go into the GroupLog as they arrive."""

    def __init__(self, bootstrap, name, log, topic, reset, commit_every):
        super().__init__(name, log)
        cfg = {"bootstrap": bootstrap, "name": name, "group": log.group, "topic": topic,
               "fromBeginning": reset == "earliest", "commitEvery": commit_every or 0,
               "sessionTimeout": gc.SESSION_TIMEOUT_MS, "heartbeatInterval": gc.HEARTBEAT_MS}
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([NODE, SCRIPT, "member", json.dumps(cfg)], cwd=JS_DIR, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self.fetched = False
        self._ids = itertools.count(1)
        self._replies = {}
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name=f"js-{name}", daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            self._on_event(ev)
            with self._cond:
                if ev.get("id") is not None:
                    self._replies[ev["id"]] = ev
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _lose_all(self, t):
        owned = self.owned()
        if owned:
            self.log.record("revoke", self.name, t=t, partitions=owned)

    def _on_event(self, ev):
        kind, t = ev["ev"], ev["t"]
        if kind == "join":
            # kafkajs is eager: a new generation restarts every partition from its committed offset.
            self._lose_all(t)
            self.fetched = False
            self.log.record("assign", self.name, t=t, partitions=ev["partitions"])
        elif kind in ("rebalancing", "stopping"):
            self._lose_all(t)
        elif kind == "fetch":
            self.fetched = True
        elif kind == "msg":
            self.log.record("msg", self.name, t=t, partitions=(ev["p"],), offset=ev["o"],
                            index=workload.index_of(self.log.tag, ev["v"].encode("latin-1")))
        elif kind in ("commit", "commit_failed"):
            offsets = {int(p): o for p, o in ev["offsets"].items()}
            self.log.record(kind, self.name, t=t, offsets=offsets, detail=ev.get("detail"))
        elif kind == "error":
            self.log.record("error", self.name, t=t, detail=ev["detail"])

    def _send(self, cmd, timeout):
        cmd["id"] = next(self._ids)
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        with self._cond:
            if not self._cond.wait_for(lambda: cmd["id"] in self._replies or self.proc.poll() is not None,
                                       timeout=timeout):
                raise AssertionError(f"{self.name}: no answer to {cmd} within {timeout}s")
            reply = self._replies.get(cmd["id"])
        if reply is None:
            raise AssertionError(f"{self.name} exited ({self.proc.returncode}): {self.stderr_text()}")
        return reply

    def stderr_text(self):
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def commit_now(self, offsets=None):
        cmd = {"cmd": "commit"}
        if offsets is not None:
            cmd["offsets"] = offsets
        reply = self._send(cmd, gc.WAIT_S)
        if reply["ev"] != "commit":
            raise AssertionError(f"{self.name}: commit failed: {reply}")
        return {int(p): o for p, o in reply["offsets"].items()}

    def wait_fetch_ready(self):
        gc.wait_until(lambda: self.fetched and self.owned(), f"{self.name} to start fetching")

    def close(self, timeout=gc.WAIT_S):
        if self.proc.poll() is None:
            try:
                self._send({"cmd": "stop"}, timeout)
                self.proc.wait(timeout=timeout)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
        self._reader.join(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout, self._stderr):
            f.close()
        if self.proc.returncode != 0:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}: {self.stderr_text()}")


class KafkajsGroupsTest(gc.GroupScenarios, harness.BrokerTestCase):
    client = "jsg"
    no_offset_error = None  # kafkajs has no "none" reset policy

    def make_member(self, name, log, topic, reset="earliest", commit_every=None):
        self.assertIn(reset, ("earliest", "latest"))
        return KafkajsMember(self.broker.bootstrap, name, log, topic, reset, commit_every)

    def client_committed(self, group, topic):
        r = subprocess.run([NODE, SCRIPT, "committed", self.broker.bootstrap, group, topic], cwd=JS_DIR,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"groups_check.js committed exited with {r.returncode}: {r.stderr}")
        return {int(p): o for p, o in json.loads(r.stdout.strip().splitlines()[-1])["offsets"].items()}


if __name__ == "__main__":
    harness.main()
