"""processing_service scaling benchmark (run by bench/scale_processing.sh).

The scaling model of docs/scaling.md says a consumer group's throughput grows
with its instances, up to the partition count. This measures it: for each
instance count N, a fresh pair of topics with a preloaded backlog, N
instances started together in one group (distinct TRANSACTIONAL_IDs), and the
catch-up rate from the moment every instance holds partitions until every
status is committed, in total and per instance. Numbers, not assertions; the
host's load is printed with them, since instances share its cores."""
import argparse
import os
import signal
import subprocess
import time
import uuid

from confluent_kafka.admin import AdminClient

import processing_service as pb  # bench/processing_service.py: topics, preload, metrics
from pipeline import wait_until  # tests/pylib
from pipeline_bench import peak_rss_mib


def uptime():
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


def bytes_on_disk(data_dir, topic):
    """Bytes of the log segments of every partition of 'topic'."""
    total = 0
    for d in os.listdir(data_dir):
        if d.rpartition("-")[0] == topic:
            total += sum(os.path.getsize(os.path.join(data_dir, d, f))
                         for f in os.listdir(os.path.join(data_dir, d)) if f.endswith(".log"))
    return total


def assigned_members(admin, group):
    """Members of 'group' that hold at least one partition (0 while it rebalances)."""
    try:
        desc = admin.describe_consumer_groups([group])[group].result(10)
    except Exception:  # group not there yet
        return 0
    if str(desc.state) not in ("ConsumerGroupState.STABLE", "STABLE"):
        return 0
    return sum(1 for m in desc.members
               if m.assignment and m.assignment.topic_partitions)


def run_point(args, n):
    run = uuid.uuid4().hex[:8]
    orders, notifications = f"scale-orders-{run}", f"scale-notifications-{run}"
    group = f"scale-{run}"
    pb.create_topics(args.bootstrap, [orders, notifications, orders + ".dlq"])
    pb.preload(args.bootstrap, orders, args.orders, f"n{n}")

    procs, urls = [], []
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    try:
        for i in range(n):
            port = pb.free_port()
            env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=args.bootstrap,
                       ORDERS_TOPIC=orders, NOTIFICATIONS_TOPIC=notifications,
                       KAFKA_GROUP_ID=group, TRANSACTIONAL_ID=f"{group}-{i}",
                       HTTP_PORT=str(port), LOG_LEVEL="warn",
                       TOPIC_PARTITIONS=str(pb.PARTITIONS), TXN_MAX_MS=str(args.txn_max_ms))
            log = open(os.path.join(args.logs, f"scale-{n}-{i}.stderr"), "wb")
            procs.append(subprocess.Popen([args.binary], env=env, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log))
            log.close()  # the child holds its own descriptor
            urls.append(f"http://127.0.0.1:{port}")

        def running():
            dead = [p.args[0] for p in procs if p.poll() is not None]
            assert not dead, "a processing_service exited"
            return True

        # The window opens once all N hold partitions (the group is stable).
        wait_until(lambda: running() and assigned_members(admin, group) >= n, 120,
                   f"{n} instances holding partitions")
        t0 = time.monotonic()
        start = [pb.metric_sum(u, "processing_records_total") or 0 for u in urls]
        cpu0 = [pb.cpu_seconds(p.pid) for p in procs]
        broker0 = pb.cpu_seconds(args.broker_pid)
        load_before = uptime()

        def counts():
            return [pb.metric_sum(u, "processing_records_total") or 0 for u in urls]
        wait_until(lambda: running() and sum(counts()) >= args.orders, 600,
                   f"{args.orders} statuses committed", interval=0.02)
        now_counts = counts()
        t1 = time.monotonic()
        cpu1 = [pb.cpu_seconds(p.pid) for p in procs]
        broker1 = pb.cpu_seconds(args.broker_pid)
        rss = [peak_rss_mib(p.pid) or 0.0 for p in procs]
        load_after = uptime()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    window = t1 - t0
    if sum(start) > args.orders / 2:
        print(f"{n} instance(s): {sum(start):.0f} of {args.orders} records were done before the "
              f"group was stable; too short a window to measure: preload more (--orders)")
        return None
    done = [now_counts[i] - start[i] for i in range(n)]
    total = sum(done)
    print(f"{n} instance(s): {total:.0f} records in {window:.2f} s after the group was stable "
          f"({sum(start):.0f} done before): {total / window:,.0f} records/s, "
          f"broker {(broker1 - broker0) / window:.2f} cores "
          f"[{load_before} at start, {load_after} at end]")
    print(f"  on disk (replication 1): {bytes_on_disk(args.broker_data, orders) / args.orders:.0f} "
          f"bytes per order record, {bytes_on_disk(args.broker_data, notifications) / args.orders:.0f} "
          f"per notification record (transaction markers included)")
    for i in range(n):
        cpu = cpu1[i] - cpu0[i]
        print(f"  instance {i}: {done[i] / window:,.0f} records/s, {cpu / window:.2f} cores, "
              f"{1e6 * cpu / max(done[i], 1):.1f} us CPU per record, peak RSS {rss[i]:.1f} MiB")
    return total / window


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--broker-pid", type=int, required=True)
    ap.add_argument("--broker-data", required=True)
    ap.add_argument("--orders", type=int, default=600_000)
    ap.add_argument("--instances", default="1,2,3")
    ap.add_argument("--txn-max-ms", type=int, default=20)
    args = ap.parse_args()

    print(f"{pb.PARTITIONS} partitions, {args.orders} orders preloaded per point, "
          f"TXN_MAX_MS={args.txn_max_ms}, {os.cpu_count()} CPUs, {uptime()}")
    rates = {n: run_point(args, n) for n in map(int, args.instances.split(","))}
    base = rates[min(rates)]
    print("summary: " + ", ".join(
        f"{n} -> not measured" if not r else
        f"{n} -> {r:,.0f} records/s" + (f" ({r / base:.2f}x)" if base else "")
        for n, r in rates.items()))


if __name__ == "__main__":
    main()
