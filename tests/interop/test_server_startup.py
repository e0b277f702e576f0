"""samsa-server as an operator meets it: the embedded default, Kafka property files, invalid
values, unknown keys, ZooKeeper mode not yet available, and a clean SIGTERM shutdown."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Broker

STOCK_PROPERTIES = """\
# A server.properties in Kafka's usual shape.
broker.id=0
listeners=PLAINTEXT://127.0.0.1:0
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs={data}
num.partitions=2
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
group.initial.rebalance.delay.ms=0
"""


def run(args, cwd, timeout=20):
    return subprocess.run([harness.server_binary()] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


class Startup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="samsa-startup-")
        if not os.environ.get("SAMSA_INTEROP_KEEP"):
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def start(self, args, cwd):
        proc = subprocess.Popen([harness.server_binary()] + args, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "samsa-server started" in line:
                return proc, lines
        proc.kill()
        self.fail("the server did not start:\n" + "".join(lines))

    def stop(self, proc, lines):
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
        self.assertLess(time.monotonic() - began, 10, "shutdown took too long")
        self.assertEqual(proc.returncode, 0, rest)
        return "".join(lines) + rest

    def test_embedded_default_keeps_data_in_dot_data(self):
        # No properties file: ./data in the working directory (the port is overridden so the
        # test never collides with a broker on 9092).
        proc, lines = self.start(["--override", "listeners=PLAINTEXT://127.0.0.1:0"], cwd=self.tmp)
        text = self.stop(proc, lines)
        self.assertIn("data in ./data", text)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "data", "meta.properties")))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "data", ".kafka_cleanshutdown")))
        self.assertIn("shut down cleanly", text)

    def test_stock_kafka_properties_load(self):
        data = os.path.join(self.tmp, "kafka-logs")
        path = os.path.join(self.tmp, "server.properties")
        with open(path, "w") as f:
            f.write(STOCK_PROPERTIES.format(data=data))
        proc, lines = self.start([path], cwd=self.tmp)
        text = self.stop(proc, lines)
        self.assertIn(f"data in {data}", text)
        self.assertNotIn("ERROR", text)

    def test_invalid_value_is_one_line_naming_key_and_accepted_values(self):
        out = run(["--override", "log.message.timestamp.type=Sometimes", "--override",
                   "listeners=PLAINTEXT://127.0.0.1:0"], cwd=self.tmp)
        self.assertEqual(out.returncode, 1)
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertIn("log.message.timestamp.type", lines[0])
        self.assertIn("CreateTime", lines[0])
        self.assertIn("LogAppendTime", lines[0])
        out = run(["--override", "num.partitions=many"], cwd=self.tmp)
        self.assertEqual(out.returncode, 1)
        self.assertIn("num.partitions", out.stderr)
        out = run(["/nonexistent/server.properties"], cwd=self.tmp)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)
        out = run(["--bogus-flag"], cwd=self.tmp)
        self.assertEqual(out.returncode, 2)

    def test_unknown_key_is_a_warning(self):
        proc, lines = self.start(["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                  "my.custom.setting=1", "--override", f"log.dirs={self.tmp}/d"], cwd=self.tmp)
        text = self.stop(proc, lines)
        warn = [l for l in text.splitlines() if "my.custom.setting" in l]
        self.assertTrue(warn and "WARN" in warn[0], text)

    def test_unreachable_zookeeper_fails_clearly_within_the_connection_timeout(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # nothing listens here once closed
        began = time.monotonic()
        out = run(["--override", f"zookeeper.connect=127.0.0.1:{port}/samsa", "--override",
                   "zookeeper.connection.timeout.ms=1500", "--override", f"log.dirs={self.tmp}/zk"], cwd=self.tmp)
        took = time.monotonic() - began
        self.assertEqual(out.returncode, 1, out.stderr)
        last = out.stderr.strip().splitlines()[-1]
        self.assertIn(f"cannot connect to ZooKeeper at 127.0.0.1:{port}/samsa within 1500 ms", last)
        self.assertLess(took, 15, "gave up long after zookeeper.connection.timeout.ms")

    def test_second_broker_on_the_same_log_dir_is_refused(self):
        data = os.path.join(self.tmp, "shared")
        proc, lines = self.start(["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                  f"log.dirs={data}"], cwd=self.tmp)
        try:
            out = run(["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", f"log.dirs={data}"],
                      cwd=self.tmp)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            err = out.stderr.strip().splitlines()
            self.assertEqual(len(err), 1, out.stderr)
            self.assertIn("Failed to acquire lock", err[0])
            self.assertIn(data, err[0])
            self.assertIn(f"pid {proc.pid}", err[0])
            self.assertNotIn("samsa-server started", out.stdout)
        finally:
            text = self.stop(proc, lines)
        self.assertIn("shut down cleanly", text)
        # Once the holder is gone the directory can be used again.
        proc, lines = self.start(["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                  f"log.dirs={data}"], cwd=self.tmp)
        self.stop(proc, lines)

    def test_unimplemented_security_protocols_are_refused(self):
        for listeners, extra in [("SSL://127.0.0.1:0", []),
                                 ("SASL_PLAINTEXT://127.0.0.1:0", []),
                                 ("INTERNAL://127.0.0.1:0",
                                  ["--override", "listener.security.protocol.map=INTERNAL:SASL_SSL"])]:
            out = run(["--override", f"listeners={listeners}", "--override", f"log.dirs={self.tmp}/sec"] + extra,
                      cwd=self.tmp)
            self.assertEqual(out.returncode, 1, listeners + ": " + out.stdout + out.stderr)
            err = out.stderr.strip().splitlines()
            self.assertEqual(len(err), 1, out.stderr)
            self.assertIn("only PLAINTEXT", err[0])
            self.assertNotIn("listening on", out.stdout)

    def test_startup_errors_carry_the_reason_and_the_place(self):
        # A log directory that cannot be created: the path and the system's reason.
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("x")
        out = run(["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                   f"log.dirs={blocker}/data"], cwd=self.tmp)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        err = out.stderr.strip().splitlines()
        self.assertEqual(len(err), 1, out.stderr)
        self.assertIn(f"{blocker}/data", err[0])
        self.assertIn("Not a directory", err[0])
        self.assertNotIn("I/O error", err[0])
        # A port in use: the address and "Address already in use", no library source location.
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            out = run(["--override", f"listeners=PLAINTEXT://127.0.0.1:{port}", "--override",
                       f"log.dirs={self.tmp}/busy"], cwd=self.tmp)
        finally:
            busy.close()
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        # Storage is opened (and logged) before the listeners: the error is the last line.
        last = out.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("samsa-server: "), out.stderr)
        self.assertIn(f"127.0.0.1:{port}", last)
        self.assertIn("Address already in use", last)
        self.assertNotIn(".hpp", out.stderr)

    def test_version(self):
        out = run(["--version"], cwd=self.tmp)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout.strip(), r"^samsa-server \d+\.\d+\.\d+$")

    def test_sigkill_then_restart_recovers(self):
        b = Broker(name="startup-kill")
        try:
            b.start()
            b.kill()
            b.restart()
            self.assertIn("with recovery", b.log_text())
            b.stop()
        finally:
            b.close()


if __name__ == "__main__":
    harness.main()
