"""scripts/cluster.sh as the README runs it (with --no-build: CTest built the broker): a local
ZooKeeper and three brokers come up, the bootstrap list it prints reaches a cluster of three
brokers that serves README scenario 4 (a topic with replication factor 3 produced through one
broker and read through another), and Ctrl-C (SIGINT) stops every broker cleanly and ZooKeeper."""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
import zk_cluster  # noqa: F401  (fails setup with a message if ZooKeeper is missing)
from test_zk_cluster import metadata, topic_view, cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_run(n):
    # Below the kernel's ephemeral range, which other tests' connections and port-0 listeners
    # draw from while this one runs (a port free now could be taken before a broker binds it).
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(100):
        base = random.randint(10000, max(10001, low - n - 1))
        if all(free(base + i) for i in range(n)):
            return base
    raise AssertionError("no run of free ports")


class ClusterScript(unittest.TestCase):
    def test_starts_serves_and_stops_on_ctrl_c(self):
        tmp = tempfile.mkdtemp(prefix="samsa-cluster-script-")
        self.addCleanup(shutil.rmtree, tmp, True)
        port, zk_port = free_run(3), free_run(1)
        env = {**os.environ, "SAMSA_SERVER": harness.server_binary()}

        def restore_sigint():
            harness._die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal's Ctrl-C finds it
        proc = subprocess.Popen([os.path.join(ROOT, "scripts", "cluster.sh"), "--no-build", "--dir", tmp,
                                 "--port", str(port), "--zk-port", str(zk_port)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                preexec_fn=restore_sigint)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        lines, bootstrap = [], None
        began = time.monotonic()
        while time.monotonic() - began < 90:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("bootstrap: "):
                bootstrap = line.split()[1]
                break
        self.assertIsNotNone(bootstrap, "".join(lines))
        print(f"scripts/cluster.sh: {lines[0].strip()}", flush=True)
        self.assertEqual(bootstrap, ",".join(f"127.0.0.1:{port + i}" for i in range(3)))
        first = bootstrap.split(",")[0]
        self.assertEqual(metadata(first)[2], [1, 2, 3])
        brokers = bootstrap.split(",")
        # README scenario 4: replication factor 3, produced through one broker, read through another.
        cli("topics", "--create", "--bootstrap-server", brokers[0], "--topic", "events", "--partitions", "6",
            "--replication-factor", "3")
        view = zk_cluster.wait_until("the topic on every broker",
                                     lambda: all(topic_view(b, "events") for b in brokers))
        self.assertTrue(view)
        described = cli("topics", "--bootstrap-server", brokers[1], "--describe", "--topic", "events")
        self.assertEqual(described.count("Isr: "), 6, described)
        for line in described.splitlines()[1:]:
            reps = line.split("Replicas: ")[1].split()[0]
            self.assertEqual(sorted(reps.split(",")), ["1", "2", "3"], line)
        produced = subprocess.run([harness.samsa_cli(), "console-producer", "--bootstrap-server", brokers[2],
                                   "--topic", "events"], input="".join(f"{i}\n" for i in range(1, 61)),
                                  capture_output=True, text=True, timeout=60)
        self.assertEqual(produced.returncode, 0, produced.stderr)
        out = cli("console-consumer", "--bootstrap-server", brokers[0], "--topic", "events", "--from-beginning",
                  "--max-messages", "60")
        self.assertEqual(sorted(int(v) for v in out.split()), list(range(1, 61)))
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, rest)
        self.assertIn("cluster stopped", rest)
        for i in (1, 2, 3):
            with open(os.path.join(tmp, f"broker-{i}.log")) as f:
                log = f.read()
            self.assertIn("shut down cleanly", log)
            self.assertNotRegex(log, harness.SANITIZER_RE)
        for p in [port, port + 1, port + 2, zk_port]:
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", p)), 0, f"port {p} still accepts after the script stopped")


if __name__ == "__main__":
    harness.main()
