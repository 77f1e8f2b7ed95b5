"""processing_service benchmark (run by bench/processing_service.sh).

Prints the catch-up rate over a preloaded backlog and the latency the stage
adds at a steady rate. Numbers, not assertions."""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_topics(bootstrap, topics):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(t, num_partitions=PARTITIONS,
                                           replication_factor=1) for t in topics]).values():
        f.result(60)


def order(i, prefix):
    oid = f"{prefix}-{i}"
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return oid, json.dumps({"order_id": oid, "user_id": "user789", "item": "laptop",
                            "quantity": 1 + i % 150, "created_at": ts}).encode()


def preload(bootstrap, topic, n, prefix):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
                  "enable.idempotence": True, "queue.buffering.max.messages": 500000})
    for i in range(n):
        oid, value = order(i, prefix)
        while True:
            try:
                p.produce(topic, key=oid, value=value,
                          headers=[("content-type", b"application/json")])
                break
            except BufferError:
                p.poll(0.05)
        if i % 10000 == 0:
            p.poll(0)
    assert p.flush(120) == 0


def metric_sum(url, name):
    try:
        text = requests.get(url + "/metrics", timeout=2).text
    except requests.RequestException:
        return None
    return sum(float(l.rpartition(" ")[2]) for l in text.splitlines()
               if l.startswith(name + "{") or l.startswith(name + " "))


def committed_count(bootstrap, topic):
    """Records a read_committed reader sees (end offsets minus aborted data
    is not knowable cheaply, so read them)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": str(uuid.uuid4()),
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": True})
    c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    n, eof = 0, set()
    deadline = time.monotonic() + 120
    while len(eof) < PARTITIONS and time.monotonic() < deadline:
        for m in c.consume(10000, 0.5):
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                continue
            n += 1
    c.close()
    return n


def cpu_seconds(pid):
    """User + system CPU time of process 'pid' so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("settings", nargs="*", help="VAR=value for the service")
    args = ap.parse_args()

    run = uuid.uuid4().hex[:8]
    orders, notifications = f"bench-orders-{run}", f"bench-notifications-{run}"
    create_topics(args.bootstrap, [orders, notifications, orders + ".dlq"])

    t0 = time.monotonic()
    preload(args.bootstrap, orders, args.orders, "b")
    print(f"preloaded {args.orders} orders in {time.monotonic() - t0:.1f} s")

    port = free_port()
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=args.bootstrap, ORDERS_TOPIC=orders,
               NOTIFICATIONS_TOPIC=notifications, KAFKA_GROUP_ID=f"bench-{run}",
               TRANSACTIONAL_ID=f"bench-{run}", HTTP_PORT=str(port), LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warn"),
               TOPIC_PARTITIONS=str(PARTITIONS))
    for kv in args.settings:
        k, _, v = kv.partition("=")
        env[k] = v
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(args.logs, "processing_service.stderr"), "wb")
    proc = subprocess.Popen([args.binary], env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log)
    try:
        started = time.monotonic()
        first = None
        cpu_first = None
        while True:
            n = metric_sum(url, "processing_records_total")
            now = time.monotonic()
            if n and first is None:
                first = (now, n)
                cpu_first = cpu_seconds(proc.pid)
            if n is not None and n >= args.orders:
                break
            if proc.poll() is not None:
                sys.exit(f"processing_service exited with {proc.returncode}")
            if now - started > 600:
                sys.exit(f"catch-up not done after 600 s ({n} records)")
            time.sleep(0.05)
        done = time.monotonic()
        cpu = cpu_seconds(proc.pid) - cpu_first
        txns = metric_sum(url, "processing_transactions_total")
        commit_sum = metric_sum(url, "processing_transaction_commit_seconds_sum")
        rate = (args.orders - first[1]) / (done - first[0]) if done > first[0] else 0
        print(f"catch-up: {args.orders} orders committed {done - started:.2f} s after start "
              f"({args.orders / (done - started):,.0f} records/s including start and group join; "
              f"{rate:,.0f} records/s from the first commit)")
        print(f"service CPU from the first commit: {cpu:.2f} s for "
              f"{args.orders - first[1]:.0f} records "
              f"({1e6 * cpu / max(args.orders - first[1], 1):.1f} us per record; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print(f"transactions: {txns:.0f} committed, mean commit "
              f"{1000 * commit_sum / max(txns, 1):.1f} ms")
        seen = committed_count(args.bootstrap, notifications)
        print(f"a read_committed reader sees {seen} statuses for {args.orders} orders")

        # Steady rate: per-order latency.
        produced = {}
        received = {}
        c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": str(uuid.uuid4()),
                      "isolation.level": "read_committed", "enable.auto.commit": False,
                      "fetch.wait.max.ms": 10})
        parts = []
        for p in range(PARTITIONS):
            lo, hi = c.get_watermark_offsets(TopicPartition(notifications, p), timeout=10)
            parts.append(TopicPartition(notifications, p, hi))
        c.assign(parts)
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                for m in c.consume(1000, 0.1):
                    if not m.error():
                        received[m.key().decode()] = (m.timestamp()[1], time.time() * 1000)
        th = threading.Thread(target=reader)
        th.start()

        def on_delivery(err, msg):
            if not err:
                produced[msg.key().decode()] = msg.timestamp()[1]
        prod = Producer({"bootstrap.servers": args.bootstrap, "acks": "all",
                         "linger.ms": 1, "enable.idempotence": True})
        total = args.rate * args.seconds
        start = time.monotonic()
        for i in range(total):
            due = start + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the steady rate
            oid, value = order(i, "s")
            prod.produce(orders, key=oid, value=value, on_delivery=on_delivery,
                         headers=[("content-type", b"application/json")])
            prod.poll(0)
        prod.flush(60)
        deadline = time.monotonic() + 60
        while len(received) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        th.join()
        c.close()
        stage = [received[k][0] - produced[k] for k in produced if k in received]
        visible = [received[k][1] - produced[k] for k in produced if k in received]
        print(f"steady {args.rate}/s for {args.seconds} s: {len(stage)}/{total} statuses seen")
        if stage:
            print(f"  stage latency (notification ts - order ts): "
                  f"p50 {pct(stage, .5):.0f} ms, p99 {pct(stage, .99):.0f} ms, "
                  f"mean {statistics.mean(stage):.1f} ms")
            print(f"  visible to read_committed (receipt - order ts): "
                  f"p50 {pct(visible, .5):.0f} ms, p99 {pct(visible, .99):.0f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        log.close()
        print(f"processing_service exited with {rc}")


if __name__ == "__main__":
    main()
