"""processing_service against its Kafka Streams twin (bench/streams_reference),
side by side on one broker: pipeline_bench.py --streams-reference runs this;
and processing_service against itself with other settings (--compare).

Two measurements, each at a commit cadence of 100 ms (Kafka Streams' EOS
default) and 20 ms (TXN_MAX_MS / commit.interval.ms), the contenders
interleaved (C, Kafka Streams, C, Kafka Streams) so that a change in the
load of the shared host hits both:

- catch-up: N orders preloaded once; each contender starts with a fresh
  group on that topic and writes its own notifications topic. Done is when
  the group's committed offsets (written by the same transaction as the
  statuses) reach the end of every partition. Reported: records/s from the
  first commit and from the start of the process, CPU seconds per 100k
  records from the first commit (/proc/PID/stat), peak RSS (VmHWM);
- end to end: order_service → contender → notification_service, loadgen
  at each rate, from the intended send time to the notification line.
"""
import os
import time

from confluent_kafka import Consumer, TopicPartition

import pipeline
import pipeline_bench as pb
import processing_service as ps
import streams_twin

CONTENDERS = ("c", "streams")
NAMES = {"c": "processing_service", "streams": "Kafka Streams"}


def start_contender(args, system, kind, commit_ms, group, orders, notifications,
                    reset="earliest", extra_env=None):
    """Start one contender and wait until it consumes; returns (stop, pid,
    its /metrics base URL or None)."""
    env = {**system.common_env(), "KAFKA_GROUP_ID": group, "ORDERS_TOPIC": orders,
           "NOTIFICATIONS_TOPIC": notifications, "KAFKA_AUTO_OFFSET_RESET": reset,
           **(extra_env or {})}
    if kind == "c":
        svc = pipeline.Service("processing_service",
                               {"TXN_MAX_MS": str(commit_ms), **env,
                                "TRANSACTIONAL_ID": group}).start()
        svc.wait_ready(120)
        return svc.stop, svc.proc.pid, svc.url
    twin = streams_twin.StreamsTwin(args.streams_twin_dir,
                                    {**env, "COMMIT_INTERVAL_MS": str(commit_ms)},
                                    pipeline.state_dir("logs")).start()
    twin.wait_running(180)
    return twin.stop, twin.proc.pid, None


def committed_total(reader, parts):
    """Sum of the group's committed offsets on 'parts' (None when unknown)."""
    try:
        got = reader.committed(parts, timeout=5)
    except Exception:  # noqa: BLE001 - a slow coordinator: ask again
        return None
    return sum(max(tp.offset, 0) for tp in got)


def catch_up(args, system, kind, commit_ms, orders, n, extra_env=None):
    group = pipeline.unique(f"catchup-{kind}-{commit_ms}")
    notifications = group + "-notif"
    pipeline.create_topics(system.broker.bootstrap, [notifications, orders + ".dlq"],
                           partitions=args.partitions)
    parts = [TopicPartition(orders, p) for p in range(args.partitions)]
    reader = Consumer({"bootstrap.servers": system.broker.bootstrap, "group.id": group,
                       "enable.auto.commit": False})
    t0 = time.monotonic()
    stop, pid, _ = start_contender(args, system, kind, commit_ms, group, orders,
                                   notifications, extra_env=extra_env)
    # From the first commit seen on; from the start when all came at once.
    first, cpu_first = (t0, 0), 0.0
    broker = system.broker_pid()
    broker_first = pb.cpu_seconds(broker)
    try:
        deadline = t0 + args.drain_timeout + 600
        while True:
            done = committed_total(reader, parts)
            now = time.monotonic()
            if done and first[1] == 0 and done < n:
                first, cpu_first = (now, done), pb.cpu_seconds(pid)
                broker_first = pb.cpu_seconds(broker)
            if done is not None and done >= n:
                break
            if now > deadline:
                raise RuntimeError(f"{kind} catch-up not done: {done} of {n}")
            time.sleep(0.05)
        cpu = pb.cpu_seconds(pid) - cpu_first
        broker_cpu = pb.cpu_seconds(broker) - broker_first
        rss = pb.peak_rss_mib(pid)
    finally:
        stop()
        reader.close()
    span = max(now - first[0], 1e-9)
    point = {"contender": kind, "commit_ms": commit_ms, "records": n,
             "records_per_s": (n - first[1]) / span,
             "records_per_s_with_start": n / (now - t0),
             "cpu_s_per_100k": 1e5 * cpu / max(n - first[1], 1),
             "broker_cpu_s_per_100k": 1e5 * broker_cpu / max(n - first[1], 1),
             "cpu_cores": cpu / span, "broker_cpu_cores": broker_cpu / span,
             "peak_rss_mib": rss, "loadavg_1m": os.getloadavg()[0]}
    pb.log(f"catch-up {NAMES[kind]} commit {commit_ms} ms: "
           f"{point['records_per_s']:,.0f} records/s, {point['cpu_s_per_100k']:.2f} CPU s "
           f"per 100k, peak RSS {rss:.0f} MiB, load {point['loadavg_1m']:.1f}")
    return point


def end_to_end(args, system, kind, commit_ms, port, extra_env=None):
    group = pipeline.unique(f"e2e-{kind}-{commit_ms}")
    stop, pid, url = start_contender(args, system, kind, commit_ms, group, "orders",
                                     "notifications", reset="latest", extra_env=extra_env)
    urls = {n: system.services[n].url for n in ("order_service", "notification_service")}
    if url:
        urls["processing_service"] = url
    procs = {"order_service": system.services["order_service"].proc.pid, "processor": pid,
             "notification_service": system.services["notification_service"].proc.pid,
             "broker": system.broker_pid()}
    label = f"{kind}-{commit_ms}"
    points = []
    try:
        pb.run_point(args, f"{label}-warmup", min(args.rates), args.warmup, port, procs,
                     system.tailer, args.out, urls)
        for rate in args.rates:
            p = pb.run_point(args, f"{label}-{rate}", rate, args.duration, port, procs,
                             system.tailer, args.out, urls)
            p.update(contender=kind, commit_ms=commit_ms)
            points.append(p)
    finally:
        stop()
    return points


def preload(args, system):
    """A topic of --catchup-orders orders; returns its name."""
    orders = pipeline.unique("catchup-orders")
    pipeline.create_topics(system.broker.bootstrap, [orders, "orders.dlq"],
                           partitions=args.partitions)
    t0 = time.monotonic()
    ps.preload(system.broker.bootstrap, orders, args.catchup_orders, "cu")
    pb.log(f"preloaded {args.catchup_orders} orders in {time.monotonic() - t0:.0f} s")
    return orders


def run(args, system):
    """Both measurements; returns results["streams"]."""
    out = {"orders": args.catchup_orders, "catch_up": [], "e2e": []}
    orders = preload(args, system)
    for commit_ms in args.commit_ms:
        for kind in CONTENDERS:
            out["catch_up"].append(catch_up(args, system, kind, commit_ms, orders,
                                            args.catchup_orders))
    system.start_notification()
    port = system.start_order_service().port
    for commit_ms in args.commit_ms:
        for kind in CONTENDERS:
            out["e2e"] += end_to_end(args, system, kind, commit_ms, port)
    return out


def parse_variant(text):
    """'NAME:VAR=V,VAR=V' → (NAME, {VAR: V})."""
    name, _, settings = text.partition(":")
    env = dict(kv.split("=", 1) for kv in settings.split(",") if kv)
    return name, env


def compare(args, system):
    """End to end with each --compare variant of the settings of
    processing_service and notification_service, interleaved --repeat
    times; returns results["compare"]."""
    variants = [parse_variant(v) for v in args.compare]
    out = {"orders": args.catchup_orders, "catch_up": [], "e2e": []}
    if args.catchup_orders > 0:
        orders = preload(args, system)
        for _ in range(args.repeat):
            for name, env in variants:
                p = catch_up(args, system, "c", args.txn_max_ms, orders,
                             args.catchup_orders, env)
                p.update(variant=name, variant_env=",".join(f"{k}={v}" for k, v in env.items()))
                out["catch_up"].append(p)
    port = system.start_order_service().port
    points = out["e2e"]
    for _ in range(args.repeat):
        for name, env in variants:
            system.start_notification(env)
            try:
                for p in end_to_end(args, system, "c", args.txn_max_ms, port, env):
                    p.update(variant=name, variant_env=",".join(f"{k}={v}" for k, v in env.items()))
                    points.append(p)
            finally:
                system.stop_notification()
    return out
