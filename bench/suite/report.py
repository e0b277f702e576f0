"""Turns the raw results into rows (figure, value, limit, ratio, target, met), prints them as a
table and returns them for bench.json. Units: MB = 10^6 bytes, KiB = 1024 bytes."""

from .cluster_phases import LATENCY_RATE as LATENCY_RATE_RF3
from .kafka_phases import KEYED, LATENCY_RATES, OMB, SIZES, run_key

TARGETS = {
    "produce_100B": "100 B acks=1, one producer >= 1.5M records/s",
    "consume": "fetch from page cache >= 70% of loopback bandwidth",
    "sustained": "1 KiB sustained 60 s >= 90% of sequential disk write",
    "latency_20k": "end-to-end p99 <= 1 ms at 20k msg/s of 1 KiB",
    "redis": ">= 2x Redis Streams records/s at equal record size",
    "idle_rss": "idle RSS <= 30 MB",
    "per_partition": "<= 20 KiB per idle partition",
    "recovery": "recovery scan >= 500 MB/s",
    "idempotence": "idempotent produce >= 95% of plain acks=all in the same run",
    "txn_commit": "a transaction commit (100 records) adds <= 2 ms at p99",
    "replication": "RF 3 acks=all >= 50% of one broker's acks=1 records/s",
    "latency_rf3": "end-to-end p99 < 2 ms at 20k msg/s with RF 3 acks=all",
    "kafka_100B": ">= 2x Apache Kafka's produce records/s, 100 B (every acks/partitions row)",
    "kafka_1k": ">= 1.3x Apache Kafka's produce records/s, 1 KiB (every acks/partitions row)",
    "kafka_latency": "<= 0.5x Apache Kafka's end-to-end p99 at 20k msg/s of 1 KiB",
    "kafka_rss": "<= 0.1x Apache Kafka's idle RSS",
    "kafka_replicated": "ahead of Apache Kafka on every replicated figure (3 brokers, RF 3)",
}


def rate_str(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f}M rec/s"
    if v >= 1e3:
        return f"{v / 1e3:.0f}k rec/s"
    return f"{v:.0f} rec/s"


def mbps_str(v):
    return f"{v:,.0f} MB/s" if v >= 10 else f"{v:.1f} MB/s"


def size_str(size):
    return "1 KiB" if size == 1024 else f"{size} B"


class rows:
    def __init__(self):
        self.items = []
        self.section = ""

    def start(self, section):
        self.section = section

    def add(self, rid, label, value, unit, display, limit=None, limit_label=None, ratio_kind="percent",
            target=None, met=None, target_ratio=None):
        """limit: the figure's limit in the same unit (ratio = value / limit). target: a key of
        TARGETS; met: whether it is met; target_ratio: value / target, for rows without a limit."""
        ratio = value / limit if (value is not None and limit) else None
        self.items.append({
            "section": self.section, "id": rid, "label": label, "value": value, "unit": unit, "display": display,
            "limit": limit, "limit_label": limit_label, "ratio": ratio, "ratio_kind": ratio_kind,
            "target": TARGETS.get(target), "target_id": target, "met": met, "target_ratio": target_ratio,
        })

    def missing(self, rid, label, target=None):
        self.add(rid, label, None, None, "not measured", target=target, met=None)


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return None
        d = d[p]
    return d


def build(res):
    r = rows()
    loop = _get(res, "limits", "loopback", "mb_per_s")
    disk = _get(res, "limits", "disk", "mb_per_s")
    _limit_rows(r, res, loop, disk)
    _produce_rows(r, res, loop)
    _consume_rows(r, res, loop)
    _latency_rows(r, res)
    _memory_rows(r, res)
    _clients_rows(r, res)
    _peer_rows(r, res)
    _kafka_rows(r, res)
    _replication_rows(r, res)
    return r.items


def _kafka_rows(r, res):
    """Samsa's figure, Apache Kafka's in the same run with the same program, and their ratio."""
    k = _get(res, "kafka")
    r.start(f"Side by side: Apache Kafka {k['version'] if k else ''} (one KRaft node; samsa | kafka; same "
            f"programs, parameters and run)")
    if not k:
        for tid in ("kafka_100B", "kafka_1k", "kafka_latency", "kafka_rss", "kafka_replicated"):
            r.missing(f"vs_{tid}", f"vs Apache Kafka ({tid})", tid)
        return

    def pair(rid, label, mine, theirs, unit, fmt, target=None, met=None):
        if mine is None or theirs is None:
            r.missing(rid, label, target)
            return
        r.add(rid, label, mine, unit, f"{fmt(mine)} | {fmt(theirs)}", limit=theirs, limit_label="Kafka",
              ratio_kind="times", target=target, met=met(mine / theirs) if (target and theirs) else None)

    for size in SIZES:
        target = "kafka_100B" if size == 100 else "kafka_1k"
        need = 2.0 if size == 100 else 1.3
        runs = [(run_key(size, a, p), f"acks={a} {p} part.", target) for a in ("1", "all") for p in (1, 16)]
        runs.append((run_key(size, "idem", 1), "idempotent 1 part.", None))
        runs.append((run_key(size, "txn", 1), "transactional 1 part.", None))
        for key, what, tid in runs:
            pair(f"kafka_produce_{key}", f"produce {size_str(size)} {what}",
                 _get(res, "throughput", "produce", key, "records_per_s"), _get(k, "produce", key, "records_per_s"),
                 "records/s", rate_str, tid, lambda x: x >= need)
        key = run_key(size, "txn", 1)
        pair(f"kafka_commit_p99_{size}", f"{size_str(size)} transaction commit p99",
             _get(res, "throughput", "produce", key, "commit_ms_p99"), _get(k, "produce", key, "commit_ms_p99"), "ms",
             lambda x: f"{x:.2f} ms")
        key = run_key(size, "1", 16)
        pair(f"kafka_cpu_{size}", f"broker CPU s per GB, {size_str(size)} acks=1 16 part.",
             _get(res, "throughput", "produce", key, "broker_cpu_s_per_gb"),
             _get(k, "produce", key, "broker_cpu_s_per_gb"), "s/GB", lambda x: f"{x:.1f} s")
    for size in SIZES:
        for parts in (1, 16):
            key = run_key(size, "1", parts)
            pair(f"kafka_consume_{key}", f"consume {size_str(size)} {parts} part.",
                 _get(res, "throughput", "consume", key, "mb_per_s"), _get(k, "consume", key, "mb_per_s"), "MB/s",
                 mbps_str)
    for rate in LATENCY_RATES:
        mine = _get(res, "latency", "broker", str(rate))
        theirs = _get(k, "latency", str(rate))
        lost = " (records lost!)" if (mine or {}).get("incomplete") or (theirs or {}).get("incomplete") else ""
        pair(f"kafka_latency_{rate}", f"e2e p99 {rate // 1000}k msg/s 1 KiB{lost}",
             mine and mine["p99_us"], theirs and theirs["p99_us"], "us", lambda x: f"{x / 1000:.2f} ms",
             "kafka_latency" if rate == 20000 else None, lambda x: x <= 0.5 and not lost)
    idle = _get(res, "memory", "idle_rss_kib")
    pair("kafka_idle_rss", "RSS idle after start", idle and idle * 1024 / 1e6,
         (_get(k, "idle_rss_kib") or 0) * 1024 / 1e6 or None, "MB", lambda x: f"{x:.1f} MB", "kafka_rss",
         lambda x: x <= 0.1)
    pair("kafka_startup", "startup, empty", _get(res, "memory", "startup_empty_s"), _get(k, "startup_empty_s"), "s",
         lambda x: f"{x:.2f} s")
    st = (_get(res, "memory", "stages") or [None])[0]
    cp = _get(k, "create_partitions")
    pair("kafka_create_partitions", f"create {cp['partitions'] if cp else 1000:,} partitions",
         st and st["create_seconds"], cp and cp["create_seconds"], "s", lambda x: f"{x:.2f} s")
    ms = lambda x: f"{x / 1000:.2f} ms"  # noqa: E731
    for what, field in (("publish", "publish_p99_us"), ("end-to-end", "e2e_p99_us")):
        pair(f"kafka_omb_{field}", f"OMB shape {what} p99", _get(res, "clients", "omb", field),
             _get(k, "clients", "omb", field), "us", ms)
    pair("kafka_keyed", f"{KEYED['producers']} keyed producers, {KEYED['size']} B",
         _get(res, "clients", "keyed", "records_per_s"), _get(k, "clients", "keyed", "records_per_s"), "records/s",
         rate_str)
    for size in SIZES:
        key = f"{size}_acksall"
        pair(f"kafka_rf3_{size}", f"3 brokers RF 3 acks=all {size_str(size)}",
             _get(res, "replication", "rf3", key, "records_per_s"), _get(k, "rf3", key, "records_per_s"),
             "records/s", rate_str, "kafka_replicated", lambda x: x > 1)
    mine, theirs = _get(res, "replication", "latency"), _get(k, "rf3", "latency")
    pair("kafka_rf3_latency", f"3 brokers RF 3 acks=all e2e p99 {LATENCY_RATE_RF3 // 1000}k msg/s",
         mine and mine["p99_us"], theirs and theirs["p99_us"], "us", lambda x: f"{x / 1000:.2f} ms",
         "kafka_replicated", lambda x: x < 1)
    rec = _get(res, "recovery")
    krec = _get(k, "recovery")
    pair("kafka_recovery", f"restart after SIGKILL, {(_get(res, 'recovery', 'log_bytes') or 0) / 1e6:,.0f} MB",
         rec and rec["seconds"], krec and krec["seconds"], "s", lambda x: f"{x:.2f} s")


def _replication_rows(r, res):
    """Three brokers, replication factor 3 (phase "replication"), next to one broker."""
    r.start("Replication: 3 brokers + ZooKeeper, RF 3, 1 partition (one librdkafka producer)")
    for size in SIZES:
        single = _get(res, "replication", "single", f"{size}_acks1")
        single_all = _get(res, "replication", "single", f"{size}_acksall")
        if single_all:
            v = single_all["records_per_s"]
            r.add(f"single_{size}_acksall", f"{size_str(size)} one broker acks=all", v, "records/s",
                  f"{rate_str(v)} {mbps_str(single_all['mb_per_s'])}",
                  limit=single["records_per_s"] if single else None, limit_label="one broker acks=1")
        p = _get(res, "replication", "rf3", f"{size}_acksall")
        label = f"{size_str(size)} RF 3 acks=all"
        if not p:
            r.missing(f"rf3_{size}_acksall", label, "replication")
            continue
        v = p["records_per_s"]
        base = single["records_per_s"] if single else None
        r.add(f"rf3_{size}_acksall", label, v, "records/s", f"{rate_str(v)} {mbps_str(p['mb_per_s'])}",
              limit=base, limit_label="one broker acks=1", target="replication",
              met=(v >= 0.5 * base) if base else None)
    lat = _get(res, "replication", "latency")
    label = f"{LATENCY_RATE_RF3 // 1000}k msg/s 1 KiB RF 3 acks=all"
    if lat:
        single = _get(res, "latency", "broker", str(LATENCY_RATE_RF3))
        note = " (records lost!)" if lat.get("incomplete") else ""
        r.add("latency_rf3_p99_us", f"{label}{note}", lat["p99_us"], "us", _percentiles(lat),
              limit=single["p99_us"] if single else None, limit_label="one broker acks=1 p99", ratio_kind="times",
              target="latency_rf3", met=lat["p99_us"] < 2000 and not lat.get("incomplete"),
              target_ratio=lat["p99_us"] / 2000)
    else:
        r.missing("latency_rf3_p99_us", label, "latency_rf3")
    cu = _get(res, "replication", "catch_up")
    label = "follower restarted behind: catch-up"
    if cu:
        disk = _get(res, "limits", "disk", "mb_per_s")
        r.add("catch_up_mb_per_s", f"{label} ({cu['bytes_behind'] / 1e6:,.0f} MB in {cu['seconds']:.1f} s)",
              cu["mb_per_s"], "MB/s", mbps_str(cu["mb_per_s"]), limit=disk, limit_label="disk write")
    else:
        r.missing("catch_up_mb_per_s", label)


def _limit_rows(r, res, loop, disk):
    r.start("Limits")
    if loop:
        r.add("loopback_mb_per_s", "loopback TCP bandwidth (iperf3)", loop, "MB/s", mbps_str(loop))
    else:
        r.missing("loopback_mb_per_s", "loopback TCP bandwidth (iperf3)")
    if disk:
        r.add("disk_write_mb_per_s", "disk seq. write + fdatasync (dd)", disk, "MB/s", mbps_str(disk))
    else:
        r.missing("disk_write_mb_per_s", "disk seq. write + fdatasync (dd)")
    # The page-cache ballast (memory.py), when the run filled memory with one.
    pc = _get(res, "page_cache")
    if pc and pc.get("first_fill"):
        ff = pc["first_fill"]
        r.add("page_cache_first_fill_mb_per_s", f"page-cache write, free memory (first fill, {ff['bytes'] / 1e9:.1f} GB)",
              ff["mb_per_s"], "MB/s", mbps_str(ff["mb_per_s"]))
    if pc and pc["reclaimed"]:
        r.add("page_cache_reclaimed_mb_per_s", "page-cache write, reclaimed pages (memory full)",
              pc["reclaimed"]["mb_per_s"], "MB/s", mbps_str(pc["reclaimed"]["mb_per_s"]))
    for size in SIZES:
        m = _get(res, "limits", f"mock_{size}")
        label = f"producer ceiling, mock cluster, {size_str(size)}"
        if m:
            r.add(f"mock_{size}_records_per_s", label, m["records_per_s"], "records/s",
                  f"{rate_str(m['records_per_s'])} {mbps_str(m['mb_per_s'])}")
        else:
            r.missing(f"mock_{size}_records_per_s", label)


def _produce_rows(r, res, loop):
    r.start("Produce (one librdkafka producer)")
    for size in SIZES:
        mock = _get(res, "limits", f"mock_{size}", "records_per_s")
        for acks in ("1", "all"):
            for parts in (1, 16):
                key = run_key(size, acks, parts)
                p = _get(res, "throughput", "produce", key)
                label = f"{size_str(size)} acks={acks} {parts} partition{'s' if parts > 1 else ''}"
                target = "produce_100B" if size == 100 and acks == "1" else None
                if not p:
                    r.missing(f"produce_{key}", label, target)
                    continue
                v = p["records_per_s"]
                r.add(f"produce_{key}", label, v, "records/s", f"{rate_str(v)} {mbps_str(p['mb_per_s'])}",
                      limit=mock, limit_label=f"mock {size_str(size)}", target=target,
                      met=(v >= 1.5e6) if target else None)
        # Idempotence against plain acks=all in the same run (target: under 5% slower).
        key = run_key(size, "idem", 1)
        p = _get(res, "throughput", "produce", key)
        plain = _get(res, "throughput", "produce", run_key(size, "all", 1), "records_per_s")
        label = f"{size_str(size)} idempotent (acks=all) 1 partition"
        if not p:
            r.missing(f"produce_{key}", label, "idempotence")
        else:
            v = p["records_per_s"]
            r.add(f"produce_{key}", label, v, "records/s", f"{rate_str(v)} {mbps_str(p['mb_per_s'])}",
                  limit=plain, limit_label="acks=all 1 partition", target="idempotence",
                  met=(v >= 0.95 * plain) if plain else None)
        _txn_rows(r, res, size, plain)
    s = _get(res, "sustained")
    disk = _get(res, "limits", "disk", "mb_per_s")
    label = "1 KiB acks=1 16 partitions, sustained"
    if s:
        secs = s.get("send_seconds", 0)
        r.add("sustained_mb_per_s", f"{label} {secs:.0f} s", s["mb_per_s"], "MB/s",
              f"{mbps_str(s['mb_per_s'])} {rate_str(s['records_per_s'])}", limit=disk, limit_label="disk write",
              target="sustained", met=(s["mb_per_s"] >= 0.9 * disk) if disk else None)
    else:
        r.missing("sustained_mb_per_s", label, "sustained")


def _txn_rows(r, res, size, plain):
    """Transactional produce (100 records per commit) next to plain acks=all, and the commit's
    latency (commit_transaction: the last records' acks, EndTxn, the markers)."""
    key = run_key(size, "txn", 1)
    p = _get(res, "throughput", "produce", key)
    label = f"{size_str(size)} transactional, 100 per commit, 1 partition"
    if not p:
        r.missing(f"produce_{key}", label)
        r.missing(f"commit_p99_{size}", f"{size_str(size)} commit p99", "txn_commit")
        return
    v = p["records_per_s"]
    r.add(f"produce_{key}", label, v, "records/s", f"{rate_str(v)} {mbps_str(p['mb_per_s'])}",
          limit=plain, limit_label="acks=all 1 partition")
    p99 = p.get("commit_ms_p99")
    if p99 is None:
        r.missing(f"commit_p99_{size}", f"{size_str(size)} commit p99", "txn_commit")
        return
    r.add(f"commit_p99_{size}", f"{size_str(size)} commit p99 ({p.get('transactions', 0):,} commits)", p99, "ms",
          f"{p99:.2f} ms (p50 {p.get('commit_ms_p50', 0):.2f} ms)", target="txn_commit", met=p99 <= 2.0,
          target_ratio=p99 / 2.0)


def _consume_rows(r, res, loop):
    r.start("Consume from page cache (one librdkafka consumer)")
    for size in SIZES:
        for parts in (1, 16):
            key = run_key(size, "1", parts)
            c = _get(res, "throughput", "consume", key)
            label = f"{size_str(size)} records, {parts} partition{'s' if parts > 1 else ''}"
            if not c:
                r.missing(f"consume_{key}", label, "consume")
                continue
            r.add(f"consume_{key}", label, c["mb_per_s"], "MB/s", f"{mbps_str(c['mb_per_s'])} {rate_str(c['records_per_s'])}",
                  limit=loop, limit_label="loopback", target="consume",
                  met=(c["mb_per_s"] >= 0.7 * loop) if loop else None)


def _latency_rows(r, res):
    r.start("End-to-end latency, 1 KiB, acks=1, linger.ms=0 (p50 / p99 / p99.9)")
    for rate in LATENCY_RATES:
        lat = _get(res, "latency", "broker", str(rate))
        echo = _get(res, "latency", "echo", str(rate))
        label = f"{rate // 1000}k msg/s"
        target = "latency_20k" if rate == 20000 else None
        if echo:
            r.add(f"latency_floor_{rate}_p99_us", f"{label} floor: loopback echo", echo["p99_us"], "us",
                  _percentiles(echo))
        if not lat:
            r.missing(f"latency_{rate}_p99_us", label, target)
            continue
        note = " (records lost!)" if lat.get("incomplete") else ""
        r.add(f"latency_{rate}_p99_us", f"{label}{note}", lat["p99_us"], "us", _percentiles(lat),
              limit=echo["p99_us"] if echo else None, limit_label="echo p99", ratio_kind="times", target=target,
              met=(lat["p99_us"] <= 1000 and not lat.get("incomplete")) if target else None)


def _percentiles(lat):
    return " / ".join(f"{lat[k] / 1000:.2f}" for k in ("p50_us", "p99_us", "p999_us")) + " ms"


def _memory_rows(r, res):
    r.start("Broker memory and startup")
    m = _get(res, "memory") or {}
    idle = m.get("idle_rss_kib")
    if idle is not None:
        mb = idle * 1024 / 1e6
        r.add("idle_rss_mb", "RSS idle after start", mb, "MB", f"{mb:.1f} MB", target="idle_rss", met=mb <= 30,
              target_ratio=mb / 30)
    else:
        r.missing("idle_rss_mb", "RSS idle after start", "idle_rss")
    for st in m.get("stages", []):
        mb = st["rss_kib"] * 1024 / 1e6
        r.add(f"rss_{st['partitions']}_mb", f"RSS with {st['partitions']:,} partitions", mb, "MB", f"{mb:.1f} MB")
    per = m.get("per_partition_kib")
    if per is not None:
        r.add("per_partition_kib", f"RSS per partition (@{m['partitions']:,} - idle)", per, "KiB", f"{per:.1f} KiB",
              target="per_partition", met=per <= 20, target_ratio=per / 20)
    else:
        r.missing("per_partition_kib", "RSS per partition", "per_partition")
    if m.get("startup_s") is not None:
        r.add("startup_s", f"startup with {m['partitions_at_restart']:,} partitions", m["startup_s"], "s",
              f"{m['startup_s']:.2f} s", limit=m.get("startup_empty_s"), limit_label="empty start",
              ratio_kind="times")
    else:
        r.missing("startup_s", "startup with many partitions")
    rec = _get(res, "recovery")
    if rec:
        r.add("recovery_s", f"recovery after SIGKILL, {rec['log_bytes'] / 1e6:,.0f} MB unflushed", rec["seconds"], "s",
              f"{rec['seconds']:.2f} s")
        v = rec["scan_mb_per_s"]
        r.add("recovery_scan_mb_per_s", "recovery scan rate", v, "MB/s", mbps_str(v), target="recovery",
              met=v >= 500, target_ratio=v / 500)
    else:
        r.missing("recovery_scan_mb_per_s", "recovery scan rate", "recovery")


def _lat3(x, prefix):
    return " / ".join(f"{x[f'{prefix}_{k}_us'] / 1000:.2f}" for k in ("p50", "p99", "p999")) + " ms"


def _clients_rows(r, res):
    r.start(f"Many clients: OMB shape ({OMB['partitions']} partitions, {OMB['producers']} producers, "
            f"{OMB['consumers']} consumers, 1 KiB) and {KEYED['producers']} keyed producers")
    omb = _get(res, "clients", "omb")
    if omb:
        note = " (records lost!)" if omb.get("incomplete") else ""
        rate = f"{omb['rate'] / 1000:.0f}k msg/s"
        r.add("omb_publish_p99_us", f"OMB {rate} publish p50/p99/p99.9{note}", omb["publish_p99_us"], "us",
              _lat3(omb, "publish"))
        r.add("omb_e2e_p99_us", f"OMB {rate} end-to-end p50/p99/p99.9{note}", omb["e2e_p99_us"], "us",
              _lat3(omb, "e2e"))
    else:
        r.missing("omb_e2e_p99_us", "OMB shape end-to-end latency")
    k = _get(res, "clients", "keyed")
    if k:
        note = " (records lost!)" if k.get("incomplete") else ""
        r.add("keyed_records_per_s", f"{KEYED['producers']} keyed producers, {KEYED['size']} B{note}",
              k["records_per_s"], "records/s", f"{rate_str(k['records_per_s'])} {mbps_str(k['mb_per_s'])}")
    else:
        r.missing("keyed_records_per_s", f"{KEYED['producers']} keyed producers")


def _peer_rows(r, res):
    r.start("Peer: Redis Streams XADD (AOF everysec, pipeline 64, 50 clients)")
    red = _get(res, "redis")
    for size in SIZES:
        x = _get(red, str(size))
        label = f"Redis XADD {size_str(size)}"
        if x:
            r.add(f"redis_{size}_records_per_s", label, x["records_per_s"], "records/s",
                  f"{rate_str(x['records_per_s'])} {mbps_str(x['mb_per_s'])}")
        else:
            r.missing(f"redis_{size}_records_per_s", label)
        p = _get(res, "throughput", "produce", run_key(size, "1", 1))
        rlabel = f"samsa / Redis, {size_str(size)} (acks=1, 1 partition)"
        if x and p:
            ratio = p["records_per_s"] / x["records_per_s"]
            r.add(f"samsa_vs_redis_{size}", rlabel, ratio, "x", f"{ratio:.2f}x", target="redis", met=ratio >= 2,
                  target_ratio=ratio / 2)
        else:
            r.missing(f"samsa_vs_redis_{size}", rlabel, "redis")


def ratio_str(row):
    if row["ratio"] is not None:
        if row["ratio_kind"] == "times":
            x = row["ratio"]
            return f"{x:.1f}x {row['limit_label']}" if x >= 1 else f"{x:.2f}x {row['limit_label']}"
        return f"{row['ratio'] * 100:.0f}% of {row['limit_label']}"
    if row["target_ratio"] is not None:
        return f"{row['target_ratio'] * 100:.0f}% of target"
    return ""


def status_str(row):
    if row["target"] is None:
        return ""
    return {True: "met", False: "NOT MET", None: "n/a"}[row["met"]]


def summary(items):
    targets = [i for i in items if i["target"]]
    met = sum(1 for i in targets if i["met"] is True)
    missed = sum(1 for i in targets if i["met"] is False)
    return {"rows_with_target": len(targets), "met": met, "not_met": missed, "not_measured": len(targets) - met - missed}


def table(items, header):
    lines = [header, ""]
    w = (48, 28, 22, 9)
    lines.append(f"{'figure':<{w[0]}} {'value':>{w[1]}}  {'vs limit':<{w[2]}} {'target':<{w[3]}}")
    section = None
    for i in items:
        if i["section"] != section:
            section = i["section"]
            lines.append(f"-- {section}")
        lines.append(f"  {i['label']:<{w[0] - 2}} {i['display']:>{w[1]}}  {ratio_str(i):<{w[2]}} {status_str(i):<{w[3]}}")
    s = summary(items)
    lines += ["", "Targets (on this machine, client and broker sharing it):"]
    for tid, text in TARGETS.items():
        rs = [i for i in items if i["target_id"] == tid]
        states = {i["met"] for i in rs}
        verdict = "n/a" if not rs or states == {None} else ("met" if states == {True} else "NOT MET")
        if False not in states and None in states and True in states:
            verdict = "met (partly measured)"
        lines.append(f"  {verdict:<22} {text}")
    lines.append(f"rows with a target: {s['met']} met, {s['not_met']} not met, {s['not_measured']} not measured")
    return "\n".join(lines)
