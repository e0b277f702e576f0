"""Three samsa-server processes coordinated by a real ZooKeeper (Debian's package), on loopback.

Membership and the controller: every broker registers itself in Kafka's /brokers/ids layout and
every broker answers Metadata with the same live brokers and the same controller; killing the
controller moves it within the session timeout and changes nothing else; a restarted broker
registers again; a second broker with a taken broker.id is refused; a generated broker.id is
kept across restarts; a malformed registration written by hand is logged and ignored.
"""

import json
import os
import subprocess
import time
import unittest

import harness
import zk_cluster
from zk_cluster import ZooKeeper, cluster_overrides, wait_until

CHROOT = "/samsa"


def metadata(bootstrap):
    """(originating broker id, controller id, sorted broker ids) from a Metadata request to
    exactly that broker, through kcat's JSON output."""
    kcat = harness.require_program("kcat", "kcat")
    out = subprocess.run([kcat, "-L", "-J", "-b", bootstrap, "-m", "10"], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"kcat -L against {bootstrap} failed: {out.stderr[-500:]}")
    md = json.loads(out.stdout)
    return md["originating_broker"]["id"], md.get("controllerid"), sorted(b["id"] for b in md["brokers"])


class ZkCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zk = ZooKeeper().start()
        cls.addClassCleanup(cls.zk.close)
        cls.connect = cls.zk.connect + CHROOT
        cls.brokers = {}
        for i in (1, 2, 3):
            b = harness.Broker(cluster_overrides(cls.connect, i), name=f"zk-broker-{i}")
            cls.addClassCleanup(b.close)
            b.start()
            cls.brokers[i] = b

    def tearDown(self):
        for i, b in self.brokers.items():
            if b.proc is not None and b.proc.poll() is not None and b.proc.returncode not in (0, -9):
                self.fail(f"broker {i} died with status {b.proc.returncode}\n{b.log_tail()}")

    def live(self):
        return {i: b for i, b in self.brokers.items() if b.alive()}

    def agreed_view(self, expect_ids, timeout=30):
        """Waits until every live broker reports `expect_ids` and one common controller among them."""
        def check():
            views = {i: metadata(b.bootstrap) for i, b in self.live().items()}
            controllers = {v[1] for v in views.values()}
            ok = all(v[0] == i and v[2] == expect_ids for i, v in views.items()) and len(controllers) == 1 \
                and next(iter(controllers)) in expect_ids
            return views if ok else None
        views = wait_until(f"every broker to report brokers {expect_ids} and one controller", check, timeout)
        return next(iter(views.values()))[1]

    def test_1_every_broker_reports_the_same_brokers_and_controller(self):
        controller = self.agreed_view([1, 2, 3])
        # The znodes are Kafka's.
        reg = self.zk.get_json(f"{CHROOT}/brokers/ids/2")
        self.assertEqual(reg["version"], 5)
        self.assertEqual(reg["host"], "127.0.0.1")
        self.assertEqual(reg["port"], self.brokers[2].port)
        self.assertEqual(reg["endpoints"], [f"PLAINTEXT://127.0.0.1:{self.brokers[2].port}"])
        self.assertEqual(reg["listener_security_protocol_map"], {"PLAINTEXT": "PLAINTEXT"})
        self.assertEqual(self.zk.get_json(f"{CHROOT}/controller")["brokerid"], controller)
        self.assertGreaterEqual(int(self.zk.get(f"{CHROOT}/controller_epoch")), 1)
        cluster_id = self.zk.get_json(f"{CHROOT}/cluster/id")["id"]
        with open(os.path.join(self.brokers[1].data_dir, "meta.properties")) as f:
            meta = f.read()
        self.assertIn(f"cluster.id={cluster_id}", meta)
        self.assertIn("broker.id=1", meta)
        self.assertEqual(self.zk.children(f"{CHROOT}/brokers/ids"), ["1", "2", "3"])

    def test_2_controller_kill_moves_the_controller_within_the_session_timeout(self):
        old = self.agreed_view([1, 2, 3])
        epoch = int(self.zk.get(f"{CHROOT}/controller_epoch"))
        began = time.monotonic()
        self.brokers[old].kill()
        others = sorted(i for i in self.brokers if i != old)
        new = self.agreed_view(others, timeout=30)
        took = time.monotonic() - began
        print(f"controller failover (kill -9 of broker {old} to every broker naming broker {new}): {took:.2f} s",
              flush=True)
        self.assertNotEqual(new, old)
        self.assertLess(took, 6 + 10, "the new controller took much longer than the 6 s session timeout")
        self.assertGreater(int(self.zk.get(f"{CHROOT}/controller_epoch")), epoch)
        # The killed broker comes back: registered again, nothing else changes.
        self.brokers[old].restart()
        self.assertEqual(self.agreed_view([1, 2, 3]), new)

    def test_3_a_taken_broker_id_is_refused(self):
        self.agreed_view([1, 2, 3])
        tmp = self.brokers[2].tmp
        out = subprocess.run([harness.server_binary(), "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                              "--override", f"log.dirs={tmp}/duplicate"] +
                             sum((["--override", f"{k}={v}"] for k, v in cluster_overrides(self.connect, 2).items()),
                                 []),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stderr[-2000:])
        self.assertNotRegex(out.stderr, harness.SANITIZER_RE)
        self.assertIn("broker.id 2 is already registered in ZooKeeper (/brokers/ids/2)",
                      out.stderr.strip().splitlines()[-1])
        # The broker holding the id is untouched.
        self.agreed_view([1, 2, 3])

    def test_4_a_generated_broker_id_is_kept_across_restarts(self):
        b = harness.Broker(cluster_overrides(self.connect), name="zk-broker-generated")
        self.addCleanup(b.close)
        b.start()
        ident = wait_until("the generated id in metadata", lambda: metadata(b.bootstrap)[0])
        self.assertGreater(ident, 1000, "generated ids start above reserved.broker.max.id")
        with open(os.path.join(b.data_dir, "meta.properties")) as f:
            self.assertIn(f"broker.id={ident}", f.read())
        b.stop()
        b.restart()
        self.assertEqual(wait_until("the id after a restart", lambda: metadata(b.bootstrap)[0]), ident)
        self.assertIn(ident, metadata(self.brokers[1].bootstrap)[2])
        b.stop()
        wait_until("the generated broker to leave", lambda: ident not in metadata(self.brokers[1].bootstrap)[2])

    def test_5_a_malformed_registration_is_logged_and_ignored(self):
        self.agreed_view([1, 2, 3])
        self.zk.cli("create", f"{CHROOT}/brokers/ids/77", "not-json")
        try:
            wait_until("a warning about the malformed registration",
                       lambda: all("ignoring malformed broker registration /brokers/ids/77" in b.log_text()
                                   for b in self.live().values()))
            self.agreed_view([1, 2, 3])
        finally:
            self.zk.cli("delete", f"{CHROOT}/brokers/ids/77")


if __name__ == "__main__":
    harness.main()
