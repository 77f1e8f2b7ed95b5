#!/usr/bin/env python3
"""Benchmark of order_service's held connections and of its order view.

  python bench/order_streams.py streams [--subscribers 1000] [--long-polls 200]
  python bench/order_streams.py view [--orders 1000000]

A private broker (tests/kafka/broker.sh), the release build
(cmake --preset release && cmake --build --preset release -j2).

streams: POST /orders throughput (bench/loadgen, saturation) without and
then with N open subscribers (half SSE /orders/{id}/events, half WebSocket
/ws, each on an order of its own) and M pending long-polls; then posts the
subscribers' orders at a steady rate while the load runs and measures, per
subscriber, the time from the 202 to its "accepted" event. Prints req/s
both ways and their ratio, the event latency p50/p99/max, the service's
RSS both ways, and the load average (the box may be shared: both runs are
in the same invocation, one after the other).

view: puts N orders on the orders topic (and a status for each on the
notifications topic), starts order_service, and prints the time until
/readyz (the view caught up) and the RSS with the view filled against an
empty one: bytes per order and per million.

Needs confluent-kafka (tests/requirements.txt). Talks to 127.0.0.1 only."""
import argparse
import base64
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import streams  # noqa: E402 (tests/pylib)

BUILD = os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build", "release"))
BROKER_SH = os.path.join(ROOT, "tests", "kafka", "broker.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def threads_of(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def wait_http(port, path, timeout, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"service exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{path} not 200 within {timeout}s")


class Env:
    """A broker and the services, stopped at the end."""

    def __init__(self, partitions=6):
        self.dir = tempfile.mkdtemp(prefix="order-streams-bench.")
        self.procs = []
        dist = os.path.join(ROOT, "build", "bench", "kafka-dist")
        subprocess.run([BROKER_SH, "fetch", dist], check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([BROKER_SH, "start", os.path.join(self.dir, "kafka"), dist],
                             check=True, capture_output=True, text=True).stdout
        self.bootstrap = out.strip().splitlines()[-1]
        self.env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "ORDERS_TOPIC": "bench-orders",
                    "NOTIFICATIONS_TOPIC": "bench-notifications",
                    "TOPIC_PARTITIONS": str(partitions), "LOG_LEVEL": "warn"}

    def start(self, name, extra=None):
        port = free_port()
        env = dict(os.environ, **self.env, HTTP_PORT=str(port), **(extra or {}))
        log = open(os.path.join(self.dir, f"{name}-{port}.log"), "wb")
        proc = subprocess.Popen([os.path.join(BUILD, name, name)], env=env, cwd=self.dir,
                                stdout=subprocess.DEVNULL, stderr=log)
        self.procs.append(proc)
        proc.port = port
        return proc

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run([BROKER_SH, "clean", os.path.join(self.dir, "kafka")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def loadgen(port, seconds, connections, prefix):
    out = os.path.join(tempfile.gettempdir(), f"lg-{os.getpid()}-{prefix}.json")
    subprocess.run([os.path.join(BUILD, "bench", "loadgen", "loadgen"), "--port", str(port),
                    "-c", str(connections), "-d", str(seconds), "--prefix", prefix,
                    "--summary-json", out], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(out) as f:
        summary = json.load(f)
    os.unlink(out)
    return summary


# --- held connections over raw sockets, one selector ----------------------

class Watcher(threading.Thread):
    """Reads every subscriber socket; notes when each first sees an event
    of its order."""

    def __init__(self, socks):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.seen = {}
        for order_id, s in socks.items():
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, order_id)
        self.stop = False

    def run(self):
        while not self.stop:
            for key, _ in self.sel.select(0.1):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(key.fileobj)
                    continue
                # Its first event: "accepted", or the final status when
                # the view read the status first (the view never goes back).
                if key.data.encode() in data and key.data not in self.seen:
                    self.seen[key.data] = time.monotonic()


def post_paced(port, ids, rate, sent_at):
    """POST 'ids' at 'rate' per second over one keep-alive connection,
    noting when each 202 arrived."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.monotonic()
    for n, order_id in enumerate(ids):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"order_id": order_id, "user_id": "u", "item": "pen", "quantity": 1})
        conn.request("POST", "/orders", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status == 202:
            sent_at[order_id] = time.monotonic()
    conn.close()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def bench_streams(args):
    env = Env()
    try:
        svc = env.start("order_service", {"ORDER_STREAM_MAX": "1400"})
        env.start("processing_service", {"KAFKA_GROUP_ID": "bench-proc",
                                         "TRANSACTIONAL_ID": "bench-proc-1"})
        wait_http(svc.port, "/readyz", 120, svc)
        loadgen(svc.port, 5, args.connections, "warm")
        base = loadgen(svc.port, args.seconds, args.connections, "base")
        rss0, threads0 = rss_kib(svc.pid), threads_of(svc.pid)

        n_sse = args.subscribers // 2
        ids = [f"sub-{os.getpid()}-{i}" for i in range(args.subscribers)]
        socks = {}
        for i, order_id in enumerate(ids):
            socks[order_id] = (streams.sse_open if i < n_sse else streams.ws_open)(svc.port, order_id)
        polls = [streams.long_poll_open(svc.port, i) for i in range(args.long_polls)]
        watcher = Watcher(socks)
        watcher.start()
        time.sleep(1)  # let the server take them all (a settle, not a condition)
        rss1, threads1 = rss_kib(svc.pid), threads_of(svc.pid)

        sent_at = {}
        poster = threading.Thread(target=post_paced,
                                  args=(svc.port, ids, args.event_rate, sent_at))
        poster.start()
        held = loadgen(svc.port, args.seconds, args.connections, "held")
        poster.join()
        deadline = time.monotonic() + 10
        while len(watcher.seen) < len(sent_at) and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.stop = True
        lat = [(watcher.seen[i] - sent_at[i]) * 1000 for i in sent_at if i in watcher.seen]
        rss2 = rss_kib(svc.pid)
        for s in list(socks.values()) + polls:
            s.close()
        # Without again, after: the box is shared, so the load may move.
        after = loadgen(svc.port, args.seconds, args.connections, "after")
        without = (base["ok_rate"] + after["ok_rate"]) / 2
        ratio = held["ok_rate"] / without
        print(f"order_streams: post_rps without={base['ok_rate']:.0f},{after['ok_rate']:.0f} "
              f"with={held['ok_rate']:.0f} ratio={ratio:.2f} "
              f"(subscribers={args.subscribers} sse={n_sse} ws={args.subscribers - n_sse} "
              f"long_polls={args.long_polls} loadgen_connections={args.connections})")
        print(f"order_streams: event_latency_ms p50={pct(lat, 50):.1f} p99={pct(lat, 99):.1f} "
              f"max={max(lat) if lat else float('nan'):.1f} received={len(lat)}/{len(sent_at)} "
              f"(202 to the subscriber's first event of its order, {args.event_rate}/s during the load)")
        print(f"order_streams: rss_kib idle={rss0} held={rss1} after={rss2} "
              f"per_held_connection_kib={(rss1 - rss0) / max(1, args.subscribers + args.long_polls):.1f} "
              f"threads idle={threads0} held={threads1}")
        print(f"order_streams: cores={os.cpu_count()} load_avg=\"{' '.join(open('/proc/loadavg').read().split()[:3])}\"")
    finally:
        env.close()


def bench_view(args):
    from confluent_kafka import Producer
    env = Env()
    try:
        # An empty service first: its RSS is the baseline.
        svc = env.start("order_service", {"ORDER_VIEW_MAX_ORDERS": str(args.orders)})
        wait_http(svc.port, "/readyz", 120, svc)
        rss_empty = rss_kib(svc.pid)
        p = Producer({"bootstrap.servers": env.bootstrap, "linger.ms": 50,
                      "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000})
        t0 = time.monotonic()
        for i in range(args.orders):
            oid = f"view-{i:08d}"
            order = {"order_id": oid, "user_id": f"user{i % 10000}", "item": "laptop",
                     "quantity": 1 + i % 5, "created_at": "2026-12-03T20:00:00.000Z"}
            status = dict(order, status="confirmed", reason=None,
                          processed_at="2026-12-03T20:00:00.100Z")
            del status["created_at"]
            for topic, value in (("bench-orders", order), ("bench-notifications", status)):
                while True:
                    try:
                        p.produce(topic, json.dumps(value).encode(), oid.encode())
                        break
                    except BufferError:
                        p.poll(0.1)
        p.flush(120)
        produced_s = time.monotonic() - t0
        svc.terminate()
        svc.wait(60)
        t0 = time.monotonic()
        svc = env.start("order_service", {"ORDER_VIEW_MAX_ORDERS": str(args.orders)})
        wait_http(svc.port, "/readyz", 1200, svc)
        rebuild_s = time.monotonic() - t0
        rss_full = rss_kib(svc.pid)
        per_order = (rss_full - rss_empty) * 1024 / args.orders
        print(f"order_view: orders={args.orders} rebuild_s={rebuild_s:.1f} "
              f"(start to /readyz; {args.orders / rebuild_s:.0f} orders/s, two records each) "
              f"produce_s={produced_s:.1f}")
        print(f"order_view: rss_kib empty={rss_empty} full={rss_full} "
              f"bytes_per_order={per_order:.0f} mib_per_million={per_order * 1e6 / 2**20:.0f}")
        print(f"order_view: cores={os.cpu_count()} load_avg=\"{' '.join(open('/proc/loadavg').read().split()[:3])}\"")
    finally:
        env.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("streams")
    s.add_argument("--subscribers", type=int, default=1000)
    s.add_argument("--long-polls", type=int, default=200)
    s.add_argument("--seconds", type=int, default=15)
    s.add_argument("--connections", type=int, default=32)
    s.add_argument("--event-rate", type=float, default=100.0)
    v = sub.add_parser("view")
    v.add_argument("--orders", type=int, default=1000000)
    args = ap.parse_args()
    bench_streams(args) if args.what == "streams" else bench_view(args)


if __name__ == "__main__":
    main()
