"""A real Apache ZooKeeper (Debian's zookeeper package) and a cluster of samsa-server processes
coordinated by it, for the cluster tests.

ZooKeeper runs as `java -cp /usr/share/java/zookeeper.jar ...ZooKeeperServerMain PORT DIR` on
127.0.0.1 with its data in a temporary directory; it dies with the test process and is always
cleaned up. zk_cli() runs ZooKeeper's own command-line client (ZooKeeperMain), which the tests
use to read znodes and to write malformed ones by hand.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness

ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_CP = ZK_JAR + ":/usr/share/java/slf4j-api.jar"

_live = []


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ZooKeeper:
    def __init__(self):
        if not os.path.isfile(ZK_JAR):
            harness.fail_setup(f"{ZK_JAR} is missing; install the Debian package zookeeper (scripts/setup.sh test)")
        self.java = harness.require_program("java", "openjdk-17-jdk-headless")
        self.tmp = tempfile.mkdtemp(prefix="samsa-zookeeper-")
        self.port = _free_port()
        self.proc = None
        _live.append(self)

    @property
    def connect(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        log = open(os.path.join(self.tmp, "zookeeper.log"), "ab")
        self.proc = subprocess.Popen(
            [self.java, "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", ZK_JAR,
             "org.apache.zookeeper.server.ZooKeeperServerMain", str(self.port), os.path.join(self.tmp, "data")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=harness._die_with_parent)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("ZooKeeper exited during startup:\n" + self.log_text())
                time.sleep(0.1)
        raise AssertionError("ZooKeeper did not accept connections within 60 s:\n" + self.log_text())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        if not os.environ.get("SAMSA_INTEROP_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _live:
            _live.remove(self)

    def log_text(self):
        try:
            with open(os.path.join(self.tmp, "zookeeper.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def cli(self, *args):
        """Runs one ZooKeeperMain command; returns its output lines after the connection banner."""
        out = subprocess.run([self.java, "-cp", ZK_CP, "org.apache.zookeeper.ZooKeeperMain", "-server", self.connect,
                              *args], capture_output=True, text=True, timeout=60)
        noise = ("WatchedEvent", "WATCHER::", "Connecting to ")
        self.last_stderr = out.stderr
        return [l for l in out.stdout.splitlines() if l and not l.startswith(noise) and "state:SyncConnected" not in l]

    def get(self, path):
        """The data of a znode (the last output line), or None if it does not exist."""
        lines = self.cli("get", path)
        if "does not exist" in self.last_stderr or not lines:
            return None
        return lines[-1]

    def get_json(self, path):
        data = self.get(path)
        return None if data is None else json.loads(data)

    def children(self, path):
        lines = self.cli("ls", path)
        if "does not exist" in self.last_stderr:
            return None
        for l in reversed(lines):
            if l.startswith("["):
                inner = l.strip("[]")
                return sorted(x.strip() for x in inner.split(",") if x.strip())
        return None


def _cleanup():
    for z in list(_live):
        z.close()


import atexit  # noqa: E402

atexit.register(_cleanup)


def start_three_brokers(cls, extra, name, env_of=None):
    """For a test class's setUpClass: a ZooKeeper (cls.zk) and brokers 1-3 under its /samsa
    chroot (cls.brokers, by id), all stopped by the class cleanups; returns once each of them
    reports the three. `env_of`: extra environment of some brokers, by id."""
    import harness
    from test_zk_cluster import metadata
    cls.zk = ZooKeeper().start()
    cls.addClassCleanup(cls.zk.close)
    connect = cls.zk.connect + "/samsa"
    cls.brokers = {}
    for i in (1, 2, 3):
        b = harness.Broker(cluster_overrides(connect, i, extra), name=f"{name}-{i}")
        cls.addClassCleanup(b.close)
        b.env = (env_of or {}).get(i)
        b.start()
        cls.brokers[i] = b
    wait_until("every broker to see three brokers",
               lambda: all(metadata(b.bootstrap)[2] == [1, 2, 3] for b in cls.brokers.values()), timeout=30)


def cluster_overrides(zk_connect, broker_id=None, extra=None):
    o = {"zookeeper.connect": zk_connect, "zookeeper.session.timeout.ms": "6000",
         "zookeeper.connection.timeout.ms": "10000"}
    if broker_id is not None:
        o["broker.id"] = str(broker_id)
    o.update(extra or {})
    return o


def wait_until(what, predicate, timeout=30.0, interval=0.1):
    """Polls `predicate` until it returns a truthy value (returned) or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # a broker briefly unreachable: keep polling
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
