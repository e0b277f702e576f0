"""Network namespaces for the chaos harness: every node (ZooKeeper, each broker) in its own
namespace, all joined by veth pairs to one bridge that lives in a namespace of its own; the
harness itself (the workload's clients) reaches the bridge through one more veth pair, so the
host's own namespace gains one interface and no routing or sysctl changes.

    node ns  eth0 10.213.K.i/24 ──veth── bridge (switch ns) ──veth── host  10.213.K.254/24

A cut between two nodes is a pair of blackhole routes, one in each node's namespace, for the
other's address: neither side's packets leave, established connections stall until their
timeouts, new connections fail at once. Cuts never touch the host side, so clients keep every
broker. K is the first subnet 10.213.K.0/24 no interface of this host has (allocated under a
lock, so two runs side by side get different ones).

Names carry the run's pid (`samsa-chaos-<pid>-<node>`, interfaces `sc<K>h`); `sweep()` removes
what a run that no longer exists left behind (a SIGKILLed harness cannot clean up after itself).
"""

import fcntl
import os
import re
import subprocess

PREFIX = "samsa-chaos-"
LOCK = "/tmp/samsa-chaos-net.lock"


class NetError(RuntimeError):
    pass


def ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise NetError(f"ip {' '.join(args)}: {r.stderr.strip() or r.returncode}")
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def namespaces():
    out = ip("netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def sweep():
    """Deletes namespaces and host interfaces of chaos runs whose process is gone."""
    for ns in namespaces():
        m = re.match(re.escape(PREFIX) + r"(\d+)-", ns)
        if m and not _pid_alive(int(m.group(1))):
            _kill_processes_in(ns)
            ip("netns", "del", ns, check=False)
    for line in ip("-o", "link", "show").stdout.splitlines():
        m = re.search(r"\d+: (sc\d+h)@", line)
        if m:
            alias = ip("-o", "link", "show", m.group(1), check=False).stdout
            owner = re.search(r"alias samsa-chaos-(\d+)", alias)
            if owner and not _pid_alive(int(owner.group(1))):
                ip("link", "del", m.group(1), check=False)
    with open("/proc/mounts") as f:
        for line in f:
            mount_point = line.split()[1]
            m = re.match(r"/tmp/samsa-chaos-(\d+)/", mount_point)
            if m and not _pid_alive(int(m.group(1))):
                subprocess.run(["umount", "-l", mount_point], capture_output=True)


def _kill_processes_in(ns):
    r = ip("netns", "pids", ns, check=False)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass


class Network:
    """The switch and its nodes. `add(name)` returns the node's address; `run_in(name)` the
    command prefix that runs a program inside its namespace."""

    def __init__(self):
        if os.geteuid() != 0:
            raise NetError("the chaos harness needs root (network namespaces, tmpfs mounts)")
        sweep()
        self.pid = os.getpid()
        self.nodes = {}             # name -> (namespace, index, address)
        self.cuts = set()           # frozenset({a, b})
        self.switch = f"{PREFIX}{self.pid}-sw"
        self.host_if = None
        with open(LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.subnet = self._free_subnet()
            self._create_switch()

    def _free_subnet(self):
        used = set(re.findall(r"inet 10\.213\.(\d+)\.", ip("-o", "-4", "addr", "show").stdout))
        for k in range(1, 250):
            if str(k) not in used:
                return k
        raise NetError("no free 10.213.K.0/24 subnet for the chaos network")

    def _create_switch(self):
        ip("netns", "add", self.switch)
        ip("-n", self.switch, "link", "set", "lo", "up")
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        self.host_if = f"sc{self.subnet}h"
        ip("link", "add", self.host_if, "type", "veth", "peer", "name", "host", "netns", self.switch)
        ip("link", "set", self.host_if, "alias", f"samsa-chaos-{self.pid}")
        ip("-n", self.switch, "link", "set", "host", "master", "br0", "up")
        ip("addr", "add", f"10.213.{self.subnet}.254/24", "dev", self.host_if)
        ip("link", "set", self.host_if, "up")

    def add(self, name):
        index = len(self.nodes) + 1
        ns = f"{PREFIX}{self.pid}-{name}"
        address = f"10.213.{self.subnet}.{index}"
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
        port = f"p{index}"
        ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", self.switch)
        ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        self.nodes[name] = (ns, index, address)
        return address

    def address(self, name):
        return self.nodes[name][2]

    def run_in(self, name):
        return ["ip", "netns", "exec", self.nodes[name][0]]

    # --- faults ----------------------------------------------------------------------------

    def cut(self, a, b):
        """Drops all traffic between nodes a and b (both directions)."""
        key = frozenset((a, b))
        if key in self.cuts or a == b:
            return
        for x, y in ((a, b), (b, a)):
            ip("-n", self.nodes[x][0], "route", "add", "blackhole", f"{self.nodes[y][2]}/32")
        self.cuts.add(key)

    def heal(self, a, b):
        key = frozenset((a, b))
        if key not in self.cuts:
            return
        for x, y in ((a, b), (b, a)):
            ip("-n", self.nodes[x][0], "route", "del", "blackhole", f"{self.nodes[y][2]}/32", check=False)
        self.cuts.discard(key)

    def split(self, group, others):
        for a in group:
            for b in others:
                self.cut(a, b)

    def heal_all(self):
        for key in list(self.cuts):
            self.heal(*tuple(key))

    # --- cleanup ---------------------------------------------------------------------------

    def close(self):
        """Deletes every namespace (killing what still runs in it) and the host interface."""
        for ns, _, _ in list(self.nodes.values()):
            _kill_processes_in(ns)
            ip("netns", "del", ns, check=False)
        self.nodes.clear()
        if self.host_if:
            ip("link", "del", self.host_if, check=False)
            self.host_if = None
        ip("netns", "del", self.switch, check=False)
