"""Processes the suite starts: servers (broker, Redis, iperf3) that must always be stopped, and
the measurement programs whose one JSON line is the result."""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time

from . import kafka_wire


class bench_error(Exception):
    """A measurement that could not be made; the message says why."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_preexec():
    """Runs in a server child before exec.

    Its own process group, so that Ctrl-C at the terminal reaches only the suite, which then
    stops the servers in order. The same session, though: with the kernel's autogroup
    scheduling (sched_autogroup_enabled) a server in a session of its own competes with the
    clients as a separate group, and on a busy 2-core machine that showed as 100-150 ms stalls
    that have nothing to do with the server.

    A higher file limit: a broker with 10,000 partitions keeps a few files open per partition,
    more than the usual 1,024 or 20,000. Root may raise the hard limit up to fs.nr_open;
    otherwise the soft limit goes up to the hard one."""
    os.setpgid(0, 0)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            want = min(int(f.read()), 1 << 20)
    except OSError:
        want = 1 << 16
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class registry:
    """Every server process the suite started, so that they can all be stopped, in reverse order,
    on success, failure or a signal."""

    def __init__(self):
        self._procs = []

    def start(self, name, argv, log_path, cwd=None):
        out = open(log_path, "ab")
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=cwd, preexec_fn=_server_preexec)
        finally:
            out.close()
        self._procs.append((name, p))
        return p

    def forget(self, p):
        self._procs = [(n, q) for n, q in self._procs if q is not p]

    def stop(self, p, timeout=30):
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit status."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.forget(p)
        return p.returncode

    def stop_all(self):
        for name, p in reversed(list(self._procs)):
            if p.poll() is None:
                log(f"stopping {name} (pid {p.pid})")
            self.stop(p, timeout=20)


def run_tool(argv, timeout, what, ok_codes=(0,)):
    """Runs a measurement program; returns the JSON object of its last stdout line. Raises
    bench_error with its stderr when it fails or prints no result."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise bench_error(f"{what}: no result within {timeout:.0f} s ({' '.join(argv)})")
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    result = None
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    if r.returncode not in ok_codes or result is None:
        tail = "\n".join((r.stderr or "").strip().splitlines()[-8:])
        detail = f": {result}" if result else ""
        raise bench_error(f"{what} failed (exit {r.returncode}){detail}\n{tail}")
    return result


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise bench_error(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far (/proc/<pid>/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class server:
    """What every broker process the suite runs shares: `procs`, `proc`, `name` and `log_path`."""

    name = "server"

    def _alive(self):
        if self.proc.poll() is not None:
            raise bench_error(f"{self.name} exited with status {self.proc.returncode}; see {self.log_path}")

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def stop(self, timeout=300):
        """Clean shutdown (SIGTERM; SIGKILL after `timeout`); returns (exit status, seconds)."""
        t0 = time.monotonic()
        code = self.procs.stop(self.proc, timeout=timeout)
        return code, time.monotonic() - t0

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.procs.forget(self.proc)


class broker(server):
    """One samsa-server on 127.0.0.1 with its own data directory and log file."""

    name = "samsa-server"

    def __init__(self, procs, binary, data_dir, log_path, overrides=()):
        self.procs, self.binary, self.data_dir, self.log_path = procs, binary, data_dir, log_path
        self.overrides = list(overrides)
        self.port = free_port()
        self.proc = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=300):
        """Starts the broker and waits until it answers Metadata; returns the seconds from the
        process start until then and the Metadata summary."""
        os.makedirs(self.data_dir, exist_ok=True)
        argv = [self.binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"log.dirs={self.data_dir}"]
        for o in self.overrides:
            argv += ["--override", o]
        t0 = time.monotonic()
        self.proc = self.procs.start("samsa-server", argv, self.log_path)
        try:
            md = kafka_wire.wait_for_metadata("127.0.0.1", self.port, deadline=t0 + timeout, alive=self._alive)
        except TimeoutError as e:
            raise bench_error(f"samsa-server: {e}; see {self.log_path}")
        return time.monotonic() - t0, md

