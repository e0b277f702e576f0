"""The nemesis: a seeded schedule of faults, applied one at a time to a running cluster, each
healed before the next one starts.

The schedule is a list of faults drawn from a random.Random(seed), so the same seed gives the
same kinds, targets, durations and gaps (a broker chosen "as the leader of partition 2" or "as
the controller" is looked up when the fault starts; the log says who it was). Kinds:

  kill             kill -9 of a broker, restarted after the duration
  kill-leader      kill -9 of the leader of a partition
  kill-controller  kill -9 of the controller
  pause            SIGSTOP, SIGCONT after less than the ZooKeeper session timeout
  pause-long       SIGSTOP for longer than the session timeout (its session expires)
  isolate          a broker cut from the other brokers, not from ZooKeeper or the clients
  isolate-leader   the leader of a partition cut from the other brokers, then killed while cut
                   (with unclean leader election this is where acks=1 loses records)
  zk-cut           a broker cut from ZooKeeper only
  split            a minority of brokers cut from the majority and from ZooKeeper
  flap             the link between two brokers cut and healed every 0.5 s
  zk-restart       kill -9 of ZooKeeper, restarted after the duration
  disk-full        a broker's disk filled up, freed after the duration
  clock-jump       a broker's wall clock jumped forwards or backwards by a minute to two hours,
                   back after the duration (its monotonic clock is untouched, as in a real jump)
"""

import logging
import random
import time

from confluent_kafka.admin import AdminClient

KINDS = ("kill", "kill-leader", "kill-controller", "pause", "pause-long", "isolate", "isolate-leader",
         "zk-cut", "split", "flap", "zk-restart", "disk-full", "clock-jump")


def schedule(seed, count, brokers, partitions, session_timeout_s, kinds=KINDS):
    """`count` faults as dicts: kind, target (a broker id, a partition, or a broker list),
    duration and the gap before the next one, in seconds."""
    rng = random.Random(seed)
    ids = list(range(1, brokers + 1))
    first = list(kinds)              # every kind once first, in a seeded order; then any
    rng.shuffle(first)
    out = []
    for i in range(count):
        kind = first[i] if i < len(first) else rng.choice(kinds)
        f = {"n": i + 1, "kind": kind, "gap": round(rng.uniform(1.0, 3.0), 1)}
        if kind in ("kill", "pause", "pause-long", "isolate", "zk-cut", "disk-full", "clock-jump"):
            f["target"] = rng.choice(ids)
        if kind == "clock-jump":
            f["skew_ms"] = rng.choice((-1, 1)) * rng.randrange(60_000, 7_200_000)
        elif kind in ("kill-leader", "isolate-leader"):
            f["target"] = rng.randrange(partitions)
        elif kind == "split":
            f["target"] = sorted(rng.sample(ids, (brokers - 1) // 2))
        elif kind == "flap":
            f["target"] = sorted(rng.sample(ids, 2))
        if kind == "pause":
            f["duration"] = round(rng.uniform(0.5, session_timeout_s * 0.6), 1)
        elif kind == "pause-long":
            f["duration"] = round(rng.uniform(session_timeout_s + 1, session_timeout_s + 4), 1)
        elif kind in ("zk-cut", "isolate", "split", "isolate-leader"):
            f["duration"] = round(rng.uniform(2.0, session_timeout_s + 4), 1)
        else:
            f["duration"] = round(rng.uniform(1.0, 5.0), 1)
        out.append(f)
    return out


def describe(f):
    target = f.get("target")
    if f["kind"] in ("kill-leader", "isolate-leader"):
        target = f"leader of partition {target}"
    elif f["kind"] == "kill-controller":
        target = "the controller"
    elif f["kind"] == "zk-restart":
        target = "ZooKeeper"
    elif isinstance(target, list):
        target = "brokers " + ",".join(map(str, target))
    else:
        target = f"broker {target}"
    if f["kind"] == "clock-jump":
        target += f" by {f['skew_ms'] / 1000:+.0f} s"
    return f"#{f['n']} {f['kind']} {target} for {f['duration']} s, then {f['gap']} s"


class Nemesis:
    def __init__(self, cluster, topic, log):
        self.cluster = cluster
        self.net = cluster.net
        self.topic = topic
        self.log = log
        self.admin = AdminClient({"bootstrap.servers": cluster.bootstrap, "logger": logging.getLogger("librdkafka")})

    # --- looking at the cluster ------------------------------------------------------------

    def metadata(self, timeout=5):
        return self.admin.list_topics(timeout=timeout)

    def leader_of(self, partition):
        for _ in range(50):
            try:
                p = self.metadata().topics[self.topic].partitions[partition]
                if p.leader in self.cluster.brokers and self.cluster.brokers[p.leader].alive():
                    return p.leader
            except Exception:
                pass
            time.sleep(0.2)
        return None

    def controller(self):
        for _ in range(50):
            try:
                c = self.metadata().controller_id
                if c in self.cluster.brokers and self.cluster.brokers[c].alive():
                    return c
            except Exception:
                pass
            time.sleep(0.2)
        return None

    def unhealthy(self):
        """Why the cluster is not whole yet (a broker unregistered, a partition without a leader
        or with a replica out of sync), or None when it is."""
        for b in self.cluster.brokers.values():
            if not b.alive():
                return f"broker {b.broker_id} is not running (exit status {b.proc.returncode})"
        md = self.metadata()
        if sorted(md.brokers) != sorted(self.cluster.brokers):
            return f"registered brokers {sorted(md.brokers)}"
        t = md.topics.get(self.topic)
        if t is None or t.error is not None:
            return f"topic {self.topic}: {None if t is None else t.error}"
        for p in sorted(t.partitions.values(), key=lambda p: p.id):
            if p.leader <= 0 or sorted(p.isrs) != sorted(p.replicas):
                return f"partition {p.id}: leader {p.leader}, replicas {p.replicas}, isr {p.isrs}"
        return None

    def wait_healthy(self, timeout):
        """Seconds until the cluster was whole, or None after `timeout` (the reason is logged)."""
        began = time.monotonic()
        why = None
        while time.monotonic() - began < timeout:
            try:
                why = self.unhealthy()
                if why is None:
                    return time.monotonic() - began
            except Exception as e:
                why = str(e)
            time.sleep(0.25)
        self.log(f"  not whole after {timeout:g} s: {why}")
        return None

    # --- faults ----------------------------------------------------------------------------

    def broker_nodes(self, ids=None):
        return [f"b{i}" for i in (ids if ids is not None else self.cluster.brokers)]

    def apply(self, f):
        """Runs one fault to its end (healed, killed brokers restarted). Returns who it hit."""
        kind, d = f["kind"], f["duration"]
        b = self.cluster.brokers
        target = f.get("target")
        if kind in ("kill-leader", "isolate-leader"):
            target = self.leader_of(target)
            if target is None:
                return "no live leader found; skipped"
        elif kind == "kill-controller":
            target = self.controller()
            if target is None:
                return "no live controller found; skipped"
        if kind in ("kill", "kill-leader", "kill-controller"):
            b[target].kill()
            time.sleep(d)
            b[target].start()
        elif kind in ("pause", "pause-long"):
            b[target].pause()
            time.sleep(d)
            b[target].resume()
        elif kind == "isolate":
            self.net.split([f"b{target}"], [n for n in self.broker_nodes() if n != f"b{target}"])
            time.sleep(d)
            self.net.heal_all()
        elif kind == "isolate-leader":
            self.net.split([f"b{target}"], [n for n in self.broker_nodes() if n != f"b{target}"])
            time.sleep(d)
            b[target].kill()
            self.net.heal_all()
            time.sleep(1.0)
            b[target].start()
        elif kind == "zk-cut":
            self.net.cut(f"b{target}", "zk")
            time.sleep(d)
            self.net.heal_all()
        elif kind == "split":
            minority = self.broker_nodes(target)
            majority = [n for n in self.broker_nodes() if n not in minority] + ["zk"]
            self.net.split(minority, majority)
            time.sleep(d)
            self.net.heal_all()
        elif kind == "flap":
            a, c = (f"b{i}" for i in target)
            end = time.monotonic() + d
            while time.monotonic() < end:
                self.net.cut(a, c)
                time.sleep(0.5)
                self.net.heal(a, c)
                time.sleep(0.5)
        elif kind == "zk-restart":
            self.cluster.zk.kill()
            time.sleep(d)
            self.cluster.zk.start()
        elif kind == "disk-full":
            b[target].fill_disk()
            time.sleep(d)
            b[target].free_disk()
        elif kind == "clock-jump":
            b[target].set_clock_skew(f["skew_ms"])
            time.sleep(d)
            b[target].set_clock_skew(0)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        if isinstance(target, list):
            return "brokers " + ",".join(map(str, target))
        return "ZooKeeper" if kind == "zk-restart" else f"broker {target}"
