"""Shared harness for the real-client interop tests.

Runs under Debian's /usr/bin/python3 with the standard library only (the Kafka client modules are
imported by the tests themselves, through require_module). A Broker owns one samsa-server process
and one temporary directory: it starts the server on 127.0.0.1 with port 0, reads the chosen
port from the "listening on PLAINTEXT://127.0.0.1:PORT" log line, and can stop it with SIGTERM
(asserting a clean exit), kill it with SIGKILL and restart it on the same data directory. The
process and the directory are always cleaned up, also when a test fails, and the server dies
with the test process (PR_SET_PDEATHSIG) if CTest kills the test on a timeout.

Environment:
  SAMSA_SERVER        path of the samsa-server binary (CTest sets it)
  SAMSA_INTEROP_KEEP  if set, keep the temporary directories (data and broker logs)
"""

import atexit
import ctypes
import importlib
import os
import resource
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

LISTENING_RE = re.compile(r"listening on [A-Z_]+://([0-9.]+):(\d+)")
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

_live_brokers = []


def fail_setup(message):
    """Stops the test run with a message: a missing client or binary is a failure, never a skip."""
    sys.stderr.write(f"interop: {message}\n")
    sys.stderr.flush()
    raise SystemExit(1)


def require_module(name, package):
    """Imports a client module or fails the test file, naming the Debian package to install."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        fail_setup(f"the Python module '{name}' is missing ({e}); install the Debian package {package} "
                   f"(scripts/setup.sh test) and run this test with /usr/bin/python3, not {sys.executable}")


def consume_to_end(conf, topic, partitions=None, timeout=60, start=0):
    """A confluent-kafka consumer with `conf` (partition EOF events on) assigned `partitions`
    (default: every partition of the topic) from offset `start` (OFFSET_STORED, -1000: the
    group's committed offsets), polled until each reports its end (under read_committed its
    last stable offset): the messages, in arrival order. Fails when some partition never ends."""
    ck = require_module("confluent_kafka", "python3-confluent-kafka")
    c = ck.Consumer({**conf, "enable.partition.eof": True})
    try:
        if partitions is None:
            partitions = sorted(c.list_topics(topic, timeout=30).topics[topic].partitions)
        c.assign([ck.TopicPartition(topic, p, start) for p in partitions])
        out, eof = [], set()
        deadline = time.monotonic() + timeout
        while len(eof) < len(partitions) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                continue
            out.append(m)
        assert len(eof) == len(partitions), f"{topic}: only partitions {sorted(eof)} reached their end"
        return out
    finally:
        c.close()


def samsa_cli():
    """The samsa CLI binary (CTest sets SAMSA_CLI)."""
    path = os.environ.get("SAMSA_CLI")
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("SAMSA_CLI must name the samsa binary (CTest sets it)")
    return path


def venv_python():
    """The Python of build/venv, where scripts/setup.sh test installs the PyPI clients of
    tests/interop/requirements.txt (kafka-python 3)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("SAMSA_VENV_PYTHON") or os.path.join(root, "build", "venv", "bin", "python")
    if not os.access(path, os.X_OK):
        fail_setup(f"{path} is missing; run scripts/setup.sh test (it installs tests/interop/requirements.txt)")
    return path


def java_command(*args, main="Eos"):
    """The command line of one of the Java client interop programs (tests/interop/java, built by
    scripts/setup.sh test into build/java; `main`: its class in package samsa), quiet but for
    warnings."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    jar = os.path.join(root, "build", "java", "samsa-java-interop-1.jar")
    if not os.path.isfile(jar):
        fail_setup(f"{jar} is missing; run scripts/setup.sh test (it builds tests/interop/java with Maven)")
    java = require_program("java", "openjdk-17-jdk-headless")
    cp = jar + ":" + os.path.join(root, "build", "java", "lib", "*")
    # SAMSA_JAVA_LOG=debug (or info) makes the Java client say more, for a failure by hand.
    level = os.environ.get("SAMSA_JAVA_LOG", "warn")
    return [java, f"-Dorg.slf4j.simpleLogger.defaultLogLevel={level}", "-cp", cp, f"samsa.{main}", *args]


def require_program(name, package):
    path = shutil.which(name)
    if not path:
        fail_setup(f"the program '{name}' is missing; install the Debian package {package} (scripts/setup.sh test)")
    return path


def server_binary():
    path = os.environ.get("SAMSA_SERVER")
    if not path:
        fail_setup("SAMSA_SERVER is not set: point it at the samsa-server binary "
                   "(e.g. SAMSA_SERVER=build/ci/src/app/samsa-server)")
    if not os.access(path, os.X_OK):
        fail_setup(f"SAMSA_SERVER={path} is not an executable file; build the samsa-server target first")
    return os.path.abspath(path)


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec (resolved beforehand, so no locks are taken here):
    # the kernel SIGKILLs the broker if the thread that started it (the test's main thread) dies.
    _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class BrokerError(AssertionError):
    pass


class Broker:
    """One samsa-server process on 127.0.0.1 with its own data directory."""

    def __init__(self, overrides=None, name="broker"):
        self.binary = server_binary()
        self.name = name
        self.overrides = dict(overrides or {})
        self.tmp = tempfile.mkdtemp(prefix=f"samsa-interop-{name}-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.port = None
        self.proc = None
        self.runs = 0
        self._log_path = None
        # (soft, hard) RLIMIT_NOFILE for the server process, or None to inherit the test's.
        self.nofile = None
        # Extra environment for the next start (e.g. SAMSA_FAILPOINT), None for the test's own.
        self.env = None
        _live_brokers.append(self)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, port=0):
        """Starts the server (port 0: any free port) and waits until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            raise BrokerError(f"{self.name} is already running (pid {self.proc.pid})")
        self.runs += 1
        self._log_path = os.path.join(self.tmp, f"server-{self.runs}.log")
        args = [self.binary,
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                "--override", f"log.dirs={self.data_dir}"]
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        if os.environ.get("SAMSA_INTEROP_LOG_LEVEL"):  # e.g. debug, when chasing a failure by hand
            args += ["--log-level", os.environ["SAMSA_INTEROP_LOG_LEVEL"]]
        with open(self._log_path, "wb") as log:
            env = None if self.env is None else {**os.environ, **self.env}
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.tmp, preexec_fn=self._preexec, env=env)
        self.port = self._wait_for_listening_line()
        self._wait_accepting()
        return self

    def _preexec(self):
        _die_with_parent()
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)

    def restart(self):
        """Starts again on the same data directory, on the same port if it is still free."""
        old = self.port
        try:
            return self.start(port=old)
        except BrokerError:
            if self.proc is not None and self.proc.poll() is None:
                raise
            sys.stderr.write(f"interop: {self.name} could not listen on port {old} again; using a new port\n")
            return self.start(port=0)

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM; asserts a clean exit (status 0, no sanitizer report) within `timeout` seconds."""
        proc = self._require_running()
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise BrokerError(f"{self.name} did not exit within {timeout}s of SIGTERM\n{self.log_tail()}")
        took = time.monotonic() - began
        if rc != 0:
            raise BrokerError(f"{self.name} exited with status {rc} after SIGTERM (expected 0)\n{self.log_tail()}")
        self.check_log_clean()
        return took

    def kill(self):
        """SIGKILL, as a crash would."""
        proc = self._require_running()
        proc.kill()
        rc = proc.wait()
        if rc != -signal.SIGKILL:
            raise BrokerError(f"{self.name} ended with status {rc} before SIGKILL arrived\n{self.log_tail()}")
        self.check_log_clean()

    def close(self):
        """Kills a running server and removes the temporary directory. Idempotent."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("SAMSA_INTEROP_KEEP"):
            sys.stderr.write(f"interop: keeping {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _live_brokers:
            _live_brokers.remove(self)

    # --- observation -----------------------------------------------------------------------

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self._require_running().pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BrokerError("no VmRSS line in /proc/<pid>/status")

    def log_text(self):
        if not self._log_path or not os.path.exists(self._log_path):
            return ""
        with open(self._log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=40):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self._log_path} ---\n" + "\n".join(tail)

    def check_log_clean(self):
        m = SANITIZER_RE.search(self.log_text())
        if m:
            raise BrokerError(f"{self.name} log has a sanitizer report ({m.group(0)})\n{self.log_tail(80)}")

    def connect(self, timeout=10.0):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    # --- internals -------------------------------------------------------------------------

    def _require_running(self):
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise BrokerError(f"{self.name} is not running (exit status {rc})\n{self.log_tail()}")
        return self.proc

    def _wait_for_listening_line(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = LISTENING_RE.search(self.log_text())
            if m:
                return int(m.group(2))
            if self.proc.poll() is not None:
                raise BrokerError(f"{self.name} exited with status {self.proc.returncode} during startup\n"
                                  f"{self.log_tail()}")
            time.sleep(0.05)
        raise BrokerError(f"{self.name} logged no 'listening on' line within {START_TIMEOUT_S}s\n{self.log_tail()}")

    def _wait_accepting(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            except OSError as e:
                last = e
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise BrokerError(f"{self.name} does not accept on port {self.port}: {last}\n{self.log_tail()}")


def _cleanup_all():
    for b in list(_live_brokers):
        b.close()


atexit.register(_cleanup_all)


def _exit_on_signal(signum, frame):
    # unittest would catch a SystemExit raised inside a test and go on: clean up and leave now.
    sys.stderr.write(f"interop: signal {signum}: stopping the brokers and exiting\n")
    _cleanup_all()
    os._exit(128 + signum)


class BrokerTestCase(unittest.TestCase):
    """A test class sharing one broker; `overrides` are extra server properties."""

    overrides = {}
    broker = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.overrides, name=cls.__name__)
        cls.addClassCleanup(cls.broker.close)
        cls.broker.start()

    def tearDown(self):
        # A crashed broker fails the test that crashed it, with its log.
        if self.broker is not None and self.broker.proc is not None and self.broker.proc.poll() is not None \
                and self.broker.proc.returncode not in (0, -signal.SIGKILL):
            self.fail(f"broker died with status {self.broker.proc.returncode}\n{self.broker.log_tail()}")

    def restart_clean(self):
        """SIGTERM (asserting a clean exit within 10 s) and start again on the same data."""
        self.broker.stop()
        self.broker.restart()


def main():
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    unittest.main(verbosity=2)


# --- small wire helpers for raw-socket tests ---------------------------------------------------

def recv_exact(sock, n):
    """Reads exactly n bytes; returns fewer only if the peer closed."""
    chunks = []
    left = n
    while left > 0:
        b = sock.recv(left)
        if not b:
            break
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


def recv_frame(sock):
    """One size-prefixed frame, or None if the connection closed first."""
    head = recv_exact(sock, 4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">i", head)
    body = recv_exact(sock, size)
    if len(body) < size:
        return None
    return body


def request_header_v1(api_key, version, correlation_id, client_id=b"interop"):
    return struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


class Timer:
    """Wall-clock timing for log lines (never asserted on)."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.began = time.monotonic()
        return self

    def __exit__(self, *exc):
        sys.stderr.write(f"  [{self.what}: {time.monotonic() - self.began:.1f}s]\n")
        return False
