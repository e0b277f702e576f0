"""Apache Kafka side by side: the real broker (its published jars, fetched by scripts/setup.sh bench
into build/apache-kafka/lib; version pinned in bench/apache-kafka/pom.xml) as a single combined
KRaft node on 127.0.0.1, its data under the suite's data directory (the same file system as
Samsa's), run with kafka-server-start.sh's JVM settings and Kafka's defaults except what one
node needs (replication factor 1 for its internal topics). The same measurement programs with the
same parameters as Samsa's phases, in the same run: produce, consume, end-to-end latency, broker
CPU seconds per GB produced, idle RSS, startup, creating 1,000 partitions, recovery after
SIGKILL."""

import base64
import glob
import os
import re
import shutil
import subprocess
import time
import uuid

from . import kafka_phases, kafka_wire
from .broker_phases import RECOVERY_PARTITIONS, _create_partitions, _settled_rss_kib
from .cluster_phases import _addr, rf3_runs
from .kafka_phases import LATENCY_RATES, SIZES
from .procs import bench_error, free_port, log, run_tool, server

# kafka-server-start.sh's heap and kafka-run-class.sh's performance options.
JVM_OPTS = ["-Xmx1G", "-Xms1G", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxInlineLevel=15",
            "-Djava.awt.headless=true"]

LOG4J = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
"""


def lib_dir(ctx):
    return os.path.join(ctx.repo, "build", "apache-kafka", "lib")


def version(ctx):
    """The Apache Kafka version of the fetched jars (from kafka_2.13-<v>.jar), or None."""
    for j in glob.glob(os.path.join(lib_dir(ctx), "kafka_2.13-*.jar")):
        m = re.match(r"kafka_2\.13-([0-9][^-]*)\.jar$", os.path.basename(j))
        if m:
            return m.group(1)
    return None


def java_version():
    try:
        r = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return (r.stderr.splitlines() or [""])[0].strip()


class kafka_broker(server):
    """One Apache Kafka node (process.roles=broker,controller) with its own data directory: the
    interface of procs.broker (address, port, proc, start, stop, kill, rss_kib)."""

    name = "apache kafka"

    def __init__(self, ctx, name, node_id=1, cluster_id=None):
        self.ctx = ctx
        self.node_id = node_id
        self.cluster_id = cluster_id or _cluster_id()
        self.voters = None  # "id@host:port,...": a static quorum of several nodes; None: this node alone
        self.procs = ctx.procs
        self.data_dir = os.path.join(ctx.data_root, name)
        self.conf_dir = os.path.join(ctx.out_dir, "kafka-conf", name)
        self.log_path = os.path.join(ctx.log_dir, f"{name}.log")
        self.port, self.controller_port = free_port(), free_port()
        self.proc = None
        self.formatted = False

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _java(self, main, *args):
        return ["java", *JVM_OPTS, f"-Dlog4j2.configurationFile={os.path.join(self.conf_dir, 'log4j2.properties')}",
                f"-Dkafka.logs.dir={self.conf_dir}", "-cp", os.path.join(lib_dir(self.ctx), "*"), main, *args]

    def _write_config(self):
        os.makedirs(self.conf_dir, exist_ok=True)
        props = {
            "process.roles": "broker,controller", "node.id": str(self.node_id),
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER", "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": self.data_dir,
        }
        # Internal topics: three replicas on a quorum of three; a node alone cannot have three.
        rf, min_isr = ("3", "2") if self.voters else ("1", "1")
        for t in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
            props[f"{t}.replication.factor"] = rf
        for t in ("transaction.state.log", "share.coordinator.state.topic"):
            props[f"{t}.min.isr"] = min_isr
        if self.voters:
            props["controller.quorum.voters"] = self.voters
        else:
            props["controller.quorum.bootstrap.servers"] = f"127.0.0.1:{self.controller_port}"
        path = os.path.join(self.conf_dir, "server.properties")
        with open(path, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in props.items())
        with open(os.path.join(self.conf_dir, "log4j2.properties"), "w") as f:
            f.write(LOG4J)
        return path

    def start(self, timeout=300, wait=True):
        """Formats the storage the first time (kafka-storage.sh format, --standalone for a node
        alone), starts the node and waits until it answers Metadata; returns (seconds from the
        JVM's start, the Metadata summary). Formatting is not counted. wait=False returns at
        once (a node of a quorum answers only once the quorum has a leader)."""
        conf = self._write_config()
        if not self.formatted:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.ctx.top_up()  # as before each samsa-server start (memory.py)
            t0 = time.monotonic()
            args = ["format", "-t", self.cluster_id, "-c", conf] + ([] if self.voters else ["--standalone"])
            r = subprocess.run(self._java("kafka.tools.StorageTool", *args), capture_output=True, text=True,
                               timeout=180)
            if r.returncode != 0:
                raise bench_error(f"kafka-storage format failed: {(r.stderr or r.stdout).strip()[-800:]}")
            self.format_s = time.monotonic() - t0
            self.formatted = True
        t0 = time.monotonic()
        self.proc = self.procs.start("apache-kafka", self._java("kafka.Kafka", conf), self.log_path)
        if not wait:
            return None, None
        try:
            md = kafka_wire.wait_for_metadata("127.0.0.1", self.port, deadline=t0 + timeout, alive=self._alive,
                                              poll_interval=0.01)
        except TimeoutError as e:
            raise bench_error(f"apache kafka: {e}; see {self.log_path}")
        return time.monotonic() - t0, md

    def retire(self):
        if self.proc is not None and self.proc.poll() is None:
            code, secs = self.stop()
            log(f"apache kafka stopped (exit {code}) in {secs:.1f} s")
        shutil.rmtree(self.data_dir, ignore_errors=True)


class kafka_cluster:
    """Three combined Apache Kafka nodes with a static three-voter KRaft quorum."""

    def __init__(self, ctx):
        cid = _cluster_id()
        self.nodes = [kafka_broker(ctx, f"apache-kafka-cluster-{i}", node_id=i, cluster_id=cid) for i in (1, 2, 3)]
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        for n in self.nodes:
            n.voters = voters
        try:
            for n in self.nodes:
                n.start(wait=False)
            deadline = time.monotonic() + 300
            for n in self.nodes:
                kafka_wire.wait_for_metadata("127.0.0.1", n.port, deadline=deadline, alive=n._alive,
                                             poll_interval=0.05)
            # Every node registered with the controller before topics are created on three.
            while kafka_wire.metadata("127.0.0.1", self.nodes[0].port)["brokers"] < 3:
                if time.monotonic() > deadline:
                    raise bench_error("the Apache Kafka nodes did not all register within 300 s")
                time.sleep(0.2)
        except Exception:
            self.close()
            raise

    @property
    def bootstrap(self):
        return ",".join(n.address for n in self.nodes)

    def close(self):
        # All at once: a node stopping alone after the others waits for a quorum that is gone.
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.terminate()
        for n in reversed(self.nodes):
            n.retire()


def _cluster_id():
    """A random cluster id as kafka-storage.sh random-uuid prints it (base64url, 22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _wait_leaders(b, topics, deadline_s=60):
    """Kafka answers CreateTopics before every partition has its leader everywhere: waits until
    Metadata shows them all (the produce runs would otherwise start with retries)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        md = kafka_wire.metadata("127.0.0.1", b.port)
        if md["topics"] >= topics and md["led"] == md["partitions"]:
            return
        time.sleep(0.1)
    raise bench_error(f"apache kafka: {topics} topics with a leader for every partition not seen in {deadline_s} s")


def side_by_side(ctx):
    """Every single-node figure of the latency, throughput, memory and recovery phases, measured
    on Apache Kafka with the same programs and parameters. Kafka gets a warm-up run first (its
    JIT compiles the hot paths in the first seconds; Samsa has nothing to warm up)."""
    v = version(ctx)
    if v is None:
        raise bench_error(f"no Apache Kafka jars in {lib_dir(ctx)}; run scripts/setup.sh bench")
    out = {"version": v, "java": java_version(), "jvm_opts": " ".join(JVM_OPTS)}
    k = kafka_broker(ctx, "apache-kafka")
    try:
        out["startup_empty_s"], _ = k.start()
        out["format_s"] = k.format_s
        out["idle_rss_kib"] = _settled_rss_kib(k)
        log(f"apache kafka {v}: started in {out['startup_empty_s']:.2f} s, idle RSS {out['idle_rss_kib'] / 1024:.0f} MiB")

        names = [f"lat-{r}" for r in LATENCY_RATES]
        kafka_phases.create_topics(ctx, k, 1, names)
        _wait_leaders(k, len(names))
        _warm_up(ctx, k)
        out["latency"] = kafka_phases.latency_runs(ctx, k, "apache kafka: ")

        # The throughput phase's runs, transactions included (one node: replication factor 1
        # for the transaction log, as set in its configuration).
        out.update(kafka_phases.throughput_runs(
            ctx, k, "apache kafka: ", on_created=lambda n: _wait_leaders(k, n + len(LATENCY_RATES) + 1)))

        out["clients"] = kafka_phases.many_clients_run(ctx, k, "c-")
        topics, parts = ctx.profile["mem_stages"][0]
        log(f"apache kafka: creating {topics} topics x {parts} partitions, one record each")
        r = _create_partitions(ctx, k, "m0-", topics, parts)
        out["create_partitions"] = {"partitions": topics * parts, "create_seconds": r["create_seconds"],
                                    "seed_seconds": r["seed_seconds"]}
    finally:
        k.retire()
    out["recovery"] = ctx.attempt("kafka recovery", lambda: _recovery(ctx))
    out["rf3"] = ctx.attempt("kafka replication", lambda: _replicated(ctx))
    return out


def _replicated(ctx):
    """The replication phase's cluster figures on three Apache Kafka nodes: end-to-end latency at
    20k msg/s of 1 KiB with RF 3 acks=all, then 100 B and 1 KiB records with RF 3 acks=all."""
    c = kafka_cluster(ctx)
    try:
        names = [f"rf3-{s}" for s in SIZES] + ["rf3-latency", "rf3-warm-up"]
        run_tool([ctx.tool("topics_bench"), "--brokers", c.nodes[0].address, "--partitions", "1",
                  "--replication-factor", "3"] + names, timeout=120, what="create RF 3 topics on Apache Kafka")
        _wait_leaders(c.nodes[0], len(names))
        count = max(ctx.profile["count_1k"] // 5, 20000)
        log(f"apache kafka cluster: warm-up, {count:,} x 1 KiB with acks=all, read back")
        kafka_phases.produce(ctx, _addr(c.bootstrap), "rf3-warm-up", 1024, "all", 1, count=count)
        # The read makes Kafka create __consumer_offsets (three replicas here), which the latency
        # program's consumer otherwise meets half-made (NOT_COORDINATOR).
        kafka_phases.consume(ctx, _addr(c.bootstrap), "rf3-warm-up", 1, count)
        latency, runs = rf3_runs(ctx, c.bootstrap, "apache kafka cluster: ")
    finally:
        c.close()
    return {"latency": latency, **runs}



def _warm_up(ctx, k):
    kafka_phases.create_topics(ctx, k, 1, ["warm-up"])
    _wait_leaders(k, len(LATENCY_RATES) + 1)
    count = max(ctx.profile["count_1k"] // 5, 20000)
    log(f"apache kafka: warm-up, {count:,} x 1 KiB produced and read back")
    kafka_phases.produce(ctx, k, "warm-up", 1024, "1", 1, count=count)
    kafka_phases.consume(ctx, k, "warm-up", 1, count)


def _recovery(ctx):
    """As broker_phases.recovery: the same bytes of 1 KiB records over 4 partitions, SIGKILL, restart
    (the time until Metadata is answered), every record read back."""
    nbytes = ctx.profile["recovery_bytes"]
    count = nbytes // 1024
    k = kafka_broker(ctx, "apache-kafka-recovery")
    try:
        k.start()
        kafka_phases.create_topics(ctx, k, RECOVERY_PARTITIONS, ["recovery"])
        _wait_leaders(k, 1)
        log(f"apache kafka: recovery: producing {nbytes >> 20} MiB to {RECOVERY_PARTITIONS} partitions")
        produced = kafka_phases.produce(ctx, k, "recovery", 1024, "1", RECOVERY_PARTITIONS, count=count)
        k.kill()
        log("apache kafka: recovery: SIGKILLed; restarting")
        secs, md = k.start()
        back = kafka_phases.consume(ctx, k, "recovery", RECOVERY_PARTITIONS, produced["records"], timeout=300)
        if back["records"] != produced["records"]:
            raise bench_error(f"after recovery {back['records']} of {produced['records']} records came back")
        return {"records": produced["records"], "seconds": secs, "records_read_back": back["records"]}
    finally:
        k.retire()
