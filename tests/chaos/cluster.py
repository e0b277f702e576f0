"""The processes under test: a real Apache ZooKeeper and samsa-server brokers, each in its own
network namespace (netns.Network), each broker's log directory on its own tmpfs (so one disk can
fill up alone). Logs and ZooKeeper's data go to the run's folder; everything is removed by
close(), which also runs when the harness is interrupted.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time

ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_PORT = 2181
BROKER_PORT = 9092
DISK_BYTES = 4 << 30          # tmpfs size: an upper bound, only what is written takes memory


class ClusterError(RuntimeError):
    pass


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _own_session_dying_with_parent():
    # Between fork and exec: out of the harness's process group (a Ctrl-C reaches only the
    # harness, which then stops everything in order), and SIGKILLed by the kernel if the harness
    # dies without cleaning up. `ip netns exec` execs the program in place, which keeps both.
    os.setsid()
    _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _wait_port(addr, port, proc, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ClusterError(f"{what} exited with status {proc.returncode} while starting")
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise ClusterError(f"{what} did not accept connections on {addr}:{port} within {timeout} s")


class Node:
    """One process in one namespace: started, killed, paused, restarted."""

    def __init__(self, net, name, workdir):
        self.net = net
        self.name = name
        self.address = net.add(name)
        self.workdir = workdir
        self.proc = None
        self.paused = False
        os.makedirs(workdir, exist_ok=True)

    def command(self):
        raise NotImplementedError

    def env(self):
        return {}

    def _spawn(self):
        log = open(os.path.join(self.workdir, f"{self.name}.log"), "ab")
        log.write(f"=== {time.strftime('%H:%M:%S')} start\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.net.run_in(self.name) + self.command(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     preexec_fn=_own_session_dying_with_parent, env={**os.environ, **self.env()})
        log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            if self.paused:
                self.resume()
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout=30):
        """SIGTERM and wait; SIGKILL after `timeout`. Returns the exit status."""
        if not self.alive():
            return None if self.proc is None else self.proc.returncode
        if self.paused:
            self.resume()
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after SIGTERM timed out"

    def pause(self):
        if self.alive() and not self.paused:
            os.kill(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.alive() and self.paused:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False


class ZooKeeper(Node):
    def __init__(self, net, workdir):
        if not os.path.isfile(ZK_JAR):
            raise ClusterError(f"{ZK_JAR} is missing; install the Debian package zookeeper (scripts/setup.sh test)")
        self.java = shutil.which("java")
        if not self.java:
            raise ClusterError("java is missing; install openjdk-17-jdk-headless (scripts/setup.sh test)")
        super().__init__(net, "zk", workdir)

    @property
    def connect(self):
        return f"{self.address}:{ZK_PORT}"

    def command(self):
        return [self.java, "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", ZK_JAR,
                "org.apache.zookeeper.server.ZooKeeperServerMain", str(ZK_PORT), os.path.join(self.workdir, "zk-data")]

    def start(self, timeout=60):
        self._spawn()
        _wait_port(self.address, ZK_PORT, self.proc, "ZooKeeper", timeout)
        return self


class Broker(Node):
    def __init__(self, net, broker_id, workdir, binary, zk_connect, overrides):
        self.broker_id = broker_id
        self.binary = binary
        self.zk_connect = zk_connect
        self.overrides = overrides
        super().__init__(net, f"b{broker_id}", workdir)
        self.disk = os.path.join(workdir, f"disk-{broker_id}")
        os.makedirs(self.disk, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", self.disk],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ClusterError(f"cannot mount a tmpfs at {self.disk}: {r.stderr.strip()}")
        self.data_dir = os.path.join(self.disk, "data")
        self.filler = os.path.join(self.disk, "filler")
        # The broker's wall clock is shifted by the milliseconds in this file (samsa's
        # SAMSA_CLOCK_SKEW_FILE, read every 100 ms): the clock-jump fault writes it.
        self.skew_file = os.path.join(workdir, f"clock-skew-{broker_id}")
        self.set_clock_skew(0)

    @property
    def bootstrap(self):
        return f"{self.address}:{BROKER_PORT}"

    def command(self):
        props = {"broker.id": self.broker_id, "listeners": f"PLAINTEXT://{self.bootstrap}",
                 "log.dirs": self.data_dir, "zookeeper.connect": self.zk_connect, **self.overrides}
        args = [self.binary]
        for k, v in props.items():
            args += ["--override", f"{k}={v}"]
        return args

    def start(self, timeout=60):
        self._spawn()
        _wait_port(self.address, BROKER_PORT, self.proc, f"broker {self.broker_id}", timeout)
        return self

    def env(self):
        return {"SAMSA_CLOCK_SKEW_FILE": self.skew_file}

    def set_clock_skew(self, ms):
        tmp = self.skew_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{int(ms)}\n")
        os.replace(tmp, self.skew_file)

    def fill_disk(self):
        """Takes all the free space of the broker's tmpfs."""
        st = os.statvfs(self.disk)
        free = st.f_bavail * st.f_frsize
        subprocess.run(["fallocate", "-l", str(free), self.filler], capture_output=True)

    def free_disk(self):
        try:
            os.remove(self.filler)
        except FileNotFoundError:
            pass

    def unmount(self):
        subprocess.run(["umount", "-l", self.disk], capture_output=True)

    def log_text(self):
        try:
            with open(os.path.join(self.workdir, f"{self.name}.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Cluster:
    """ZooKeeper and brokers 1..n on one network."""

    def __init__(self, net, workdir, binary, n, overrides):
        self.net = net
        self.workdir = workdir
        self.zk = ZooKeeper(net, workdir)
        zk_connect = self.zk.connect + "/samsa"
        self.brokers = {}
        for i in range(1, n + 1):
            self.brokers[i] = Broker(net, i, workdir, binary, zk_connect, overrides)

    @property
    def bootstrap(self):
        return ",".join(b.bootstrap for b in self.brokers.values())

    def start(self):
        self.zk.start()
        for b in self.brokers.values():
            b.start()
        return self

    def close(self):
        for b in self.brokers.values():
            b.kill()
        self.zk.kill()
        for b in self.brokers.values():
            b.unmount()
