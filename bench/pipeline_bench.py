#!/usr/bin/env python3
"""The pipeline benchmark: a real broker, the three services (release build),
POST /orders from bench/loadgen at fixed rates and at saturation; for each
point the HTTP latency, the end-to-end latency from the intended send time to
the notification line, each process's CPU and peak RSS.

Run it through bench/run.sh, which builds and sets the environment up.
Results go to OUT/results.json, OUT/REPORT.md and OUT/*.png.
"""
import argparse
import contextlib
import csv
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time

import pipeline  # tests/pylib: Broker, Service, wait_until
import stages

CLK_TCK = os.sysconf("SC_CLK_TCK")
ORDER_ID_DOTTED = re.compile(rb'"order\.id"\s*:\s*"([^"\\]*)"')


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- process accounting -------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of 'pid' so far, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def peak_rss_mib(pid):
    """VmHWM of 'pid' in MiB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_anon_mib(pid):
    """RssAnon of 'pid' in MiB: its private memory, without the pages of
    shared libraries that VmRSS also counts (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def host_busy_seconds():
    """CPU seconds the whole host spent busy (all processes), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --- notification lines -------------------------------------------------------

def line_order_id(line):
    """order.id of one ECS line, dotted ("order.id") or nested ({"order":{"id"}})."""
    m = ORDER_ID_DOTTED.search(line)
    if m:
        return m.group(1).decode()
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    order = doc.get("order")
    if isinstance(order, dict):
        return order.get("id")
    return None


class Tailer(threading.Thread):
    """Follows NOTIFICATION_LOG_FILE and notes when each order's first line
    arrived on this host (time.time_ns(), the clock loadgen's intended send
    times are on). Polls every millisecond: that is the resolution."""

    def __init__(self, path):
        super().__init__(daemon=True, name="tailer")
        self.path = path
        self.arrivals = {}
        self.lines = 0
        self.duplicates = 0
        self.lock = threading.Lock()
        self.running = True

    def run(self):
        while self.running and not os.path.exists(self.path):
            time.sleep(0.01)
        buf = b""
        with open(self.path, "rb") as f:
            while self.running:
                data = f.read(1 << 20)
                if not data:
                    time.sleep(0.001)
                    continue
                now = time.time_ns()
                buf += data
                *lines, buf = buf.split(b"\n")
                with self.lock:
                    for line in lines:
                        if not line:
                            continue
                        self.lines += 1
                        oid = line_order_id(line)
                        if oid is None:
                            continue
                        if oid in self.arrivals:
                            self.duplicates += 1
                        else:
                            self.arrivals[oid] = now

    def arrived(self, ids):
        with self.lock:
            return sum(1 for i in ids if i in self.arrivals)

    def stop(self):
        self.running = False
        self.join(5)


# --- one load point ------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest rank, as loadgen computes it."""
    if not sorted_values:
        return None
    import math
    rank = max(1, math.ceil(p / 100 * len(sorted_values) - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run_point(args, label, rate, duration, port, procs, tailer, outdir, urls=None):
    """Drive one load point; returns its figures. 'urls' ({service: base
    URL}) are scraped for the stage histograms (bench/stages.py)."""
    prefix = f"{label}-{int(time.time())}"
    records = os.path.join(outdir, "raw", f"{prefix}.csv")
    summary_path = os.path.join(outdir, "raw", f"{prefix}.json")
    urls = urls or {}
    hist0 = {name: stages.scrape(url) for name, url in urls.items()}
    cpu0 = {name: cpu_seconds(pid) for name, pid in procs.items()}
    lg_cpu0 = children_cpu_seconds()
    host0 = host_busy_seconds()
    t0 = time.monotonic()
    conns = args.connections if rate else args.saturation_connections
    cmd = [args.loadgen, "--port", str(port), "--rate", str(rate),
           "--duration", str(duration), "--connections", str(conns),
           "--prefix", prefix, "--timeout-ms", "15000",
           "--out", records, "--summary-json", summary_path]
    log(f"{label}: {'saturation' if rate == 0 else f'{rate}/s'} for {duration} s")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    t_load = time.monotonic()
    lg_cpu = children_cpu_seconds() - lg_cpu0
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed: {out.stderr}")
    sys.stderr.write(out.stdout)
    with open(summary_path) as f:
        summary = json.load(f)

    accepted = {}
    http_sum_ns = 0
    with open(records) as f:
        for row in csv.DictReader(f):
            if row["status"] == "202":
                accepted[row["order_id"]] = int(row["intended_ns"])
                http_sum_ns += int(row["latency_ns"])

    # Let the pipeline drain: wait while lines keep arriving, bounded.
    e2e_available = tailer is not None
    missing = None
    if e2e_available:
        deadline = time.monotonic() + args.drain_timeout
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            got = tailer.arrived(accepted)
            if got == len(accepted):
                break
            if got != last:
                last, last_change = got, time.monotonic()
            elif time.monotonic() - last_change > 15:
                break
            time.sleep(0.1)
        with tailer.lock:
            e2e = sorted(tailer.arrivals[i] - t for i, t in accepted.items()
                         if i in tailer.arrivals)
        missing = len(accepted) - len(e2e)
    t_drain = time.monotonic()
    hist = {name: stages.delta(stages.scrape(url), hist0[name]) for name, url in urls.items()}
    wall = t_drain - t0
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in procs.items()}
    cpu["loadgen"] = lg_cpu
    total_cpu = sum(cpu.values()) or 1e-9
    # What the rest of the host (other users of the machine) took meanwhile.
    other = max(0.0, host_busy_seconds() - host0 - total_cpu)
    point = {
        "label": label,
        "target_rate": rate,
        "duration_s": duration,
        "connections": conns,
        "issued": summary["issued"],
        "accepted": summary["status"].get("202", 0),
        "status": summary["status"],
        "errors": summary["errors"],
        "unsent": summary["unsent"],
        "accepted_rate": summary["status"].get("202", 0) / summary["elapsed_s"],
        "http_ms": dict(summary["latency_ms"],
                        mean=http_sum_ns / 1e6 / max(1, len(accepted))),
        "stages_ms": stages.summarize(hist),
        "e2e_ms": None,
        "e2e_missing": missing,
        "load_s": t_load - t0,
        "wall_s": wall,
        "cpu_cores": {n: c / wall for n, c in cpu.items()},
        # CPU seconds per accepted order x 1e6 = CPU ms per 1,000 orders.
        "cpu_ms_per_1k": {n: 1e6 * c / max(1, len(accepted)) for n, c in cpu.items()},
        "broker_cpu_share": cpu.get("broker", 0) / total_cpu,
        "other_cpu_cores": other / wall,
        "loadavg_1m": os.getloadavg()[0],
        "peak_rss_mib": {n: peak_rss_mib(pid) for n, pid in procs.items()},
        "rss_anon_mib": {n: rss_anon_mib(pid) for n, pid in procs.items()},
    }
    if e2e_available and e2e:
        point["e2e_ms"] = {k: percentile(e2e, p) / 1e6 for k, p in
                           (("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9))}
        point["e2e_ms"]["max"] = e2e[-1] / 1e6
        point["e2e_ms"]["mean"] = sum(e2e) / len(e2e) / 1e6
    log(f"{label}: accepted {point['accepted']} ({point['accepted_rate']:.0f}/s), "
        f"http p99 {point['http_ms']['p99']:.2f} ms, e2e "
        f"{point['e2e_ms'] and round(point['e2e_ms']['p99'], 2)} ms p99, "
        f"missing {missing}, cpu {json.dumps({k: round(v, 2) for k, v in point['cpu_cores'].items()})}")
    return point


# --- the system under test ------------------------------------------------------

class System:
    """A private broker and the services, all stopped by close()."""

    def __init__(self, args):
        self.args = args
        self.broker = pipeline.Broker("bench")
        self.services = {}
        self.reference = None
        self.tailer = None
        self.state = pipeline.state_dir()
        self.notification_log = os.path.join(self.state, "notifications.log")

    def start_broker(self):
        with contextlib.suppress(Exception):
            self.broker.clean()
        bootstrap = self.broker.start()
        log(f"broker at {bootstrap}")
        pipeline.create_topics(bootstrap, ["orders", "notifications"],
                               partitions=self.args.partitions)
        return bootstrap

    def broker_pid(self):
        with open(os.path.join(self.broker.state, "pid")) as f:
            return int(f.read())

    def common_env(self):
        return {"KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
                "ORDERS_TOPIC": "orders", "NOTIFICATIONS_TOPIC": "notifications",
                "TOPIC_PARTITIONS": str(self.args.partitions),
                "LOG_LEVEL": "warn", **dict(e.split("=", 1) for e in self.args.env)}

    def start_pipeline_consumers(self):
        self.services["processing_service"] = pipeline.Service(
            "processing_service", {**self.common_env(), "KAFKA_GROUP_ID": "bench-processing",
                                   "TRANSACTIONAL_ID": "bench-processing-1",
                                   "TXN_MAX_MS": str(self.args.txn_max_ms)}).start()
        self.services["processing_service"].wait_ready(120)
        self.start_notification()

    def start_notification(self, extra_env=None):
        """notification_service, and the tailer of its lines."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.notification_log)
        svc = pipeline.Service(
            "notification_service", {**self.common_env(), "KAFKA_GROUP_ID": "bench-notification",
                                     "NOTIFICATION_LOG_FILE": self.notification_log,
                                     **(extra_env or {})}).start()
        svc.wait_ready(120)
        self.services["notification_service"] = svc
        self.tailer = Tailer(self.notification_log)
        self.tailer.start()

    def stop_notification(self):
        if self.tailer:
            self.tailer.stop()
            self.tailer = None
        svc = self.services.pop("notification_service", None)
        if svc:
            svc.stop()

    def start_order_service(self):
        svc = pipeline.Service("order_service", self.common_env()).start()
        svc.wait_ready(120)
        self.services["order_service"] = svc
        return svc

    def stop_order_service(self):
        svc = self.services.pop("order_service", None)
        if svc:
            svc.stop()

    def start_reference(self):
        port = pipeline.free_port()
        env = dict(os.environ, **self.common_env(), HTTP_PORT=str(port))
        log_path = os.path.join(self.state, "reference.log")
        self._ref_log = open(log_path, "ab")
        self.reference = subprocess.Popen(
            [sys.executable, self.args.reference_app], env=env,
            stdin=subprocess.DEVNULL, stdout=self._ref_log, stderr=self._ref_log)
        import requests

        def up():
            if self.reference.poll() is not None:
                raise RuntimeError(f"reference exited; see {log_path}")
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.RequestException:
                return False
        pipeline.wait_until(up, 60, "the reference's /healthz")
        return port

    def stop_reference(self):
        if self.reference and self.reference.poll() is None:
            self.reference.send_signal(signal.SIGTERM)
            try:
                self.reference.wait(30)
            except subprocess.TimeoutExpired:
                self.reference.kill()
                self.reference.wait(10)
        self.reference = None

    def close(self):
        if self.tailer:
            self.tailer.stop()
        self.stop_reference()
        for svc in list(self.services.values())[::-1]:
            with contextlib.suppress(Exception):
                svc.stop(timeout=30)
        self.services.clear()
        with contextlib.suppress(Exception):
            self.broker.clean()


def warm_broker(args, system, port, procs):
    """Load a fresh broker once before anything is measured: its JIT takes
    about a minute to settle, and without this the first front measured
    (the C one) paid for it while the reference, measured second, did not
    (broker CPU 0.8 against 0.45 cores at 1,000/s; 0.94 for the reference
    too on a fresh broker). Not reported."""
    if args.broker_warmup > 0:
        run_point(args, "broker-warmup", min(args.rates), args.broker_warmup, port,
                  procs, system.tailer if args.e2e else None, args.out)


def measure(args, system, label, port, procs, with_e2e=True):
    points = []
    outdir = args.out
    urls = {n: svc.url for n, svc in system.services.items()}
    # A short warm-up: the broker's JIT, the first connections, the first
    # transactions. Not reported.
    run_point(args, f"{label}-warmup", min(args.rates), args.warmup, port, procs,
              system.tailer if with_e2e else None, outdir, urls)
    for rate in args.rates:
        points.append(run_point(args, f"{label}-{rate}", rate, args.duration, port,
                                procs, system.tailer if with_e2e else None, outdir, urls))
    if args.saturation:
        p = run_point(args, f"{label}-saturation", 0, args.duration, port, procs,
                      system.tailer if with_e2e else None, outdir, urls)
        points.append(p)
    return points


def measure_fronts(args, system, results):
    """The C order_service and/or the Python reference in front of the
    same processing and notification services."""
    if args.e2e:
        system.start_pipeline_consumers()
    broker = system.broker_pid()
    consumers = {n: s.proc.pid for n, s in system.services.items()}
    if not args.reference_only:
        svc = system.start_order_service()
        procs = {"order_service": svc.proc.pid, **consumers, "broker": broker}
        warm_broker(args, system, svc.port, procs)
        results["c"] = measure(args, system, "c", svc.port, procs, args.e2e)
        system.stop_order_service()
    if args.reference or args.reference_only:
        port = system.start_reference()
        procs = {"reference": system.reference.pid, **consumers, "broker": broker}
        if args.reference_only:
            warm_broker(args, system, port, procs)
        results["reference"] = measure(args, system, "ref", port, procs, args.e2e)
        system.stop_reference()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default=None,
                    help="comma-separated orders/s (default 1000,5000,10000; "
                         "2000,5000 with --streams-reference)")
    ap.add_argument("--duration", type=int, default=20, help="seconds per point")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--broker-warmup", type=int, default=60,
                    help="seconds of load on a fresh broker before any series (not reported)")
    ap.add_argument("--no-saturation", dest="saturation", action="store_false")
    ap.add_argument("--connections", type=int, default=96,
                    help="loadgen connections at a fixed rate: at least rate x "
                         "latency, below order_service's HTTP_THREADS (128)")
    ap.add_argument("--saturation-connections", type=int, default=96,
                    help="loadgen connections at saturation (order_service "
                         "has HTTP_THREADS=128 workers)")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra setting for every service (repeatable), such as "
                         "KAFKA_FETCH_WAIT_MAX_MS=10")
    ap.add_argument("--txn-max-ms", type=int, default=20,
                    help="processing_service TXN_MAX_MS: how long a transaction stays "
                         "open, the floor of end-to-end latency (service default 100)")
    ap.add_argument("--drain-timeout", type=int, default=120)
    ap.add_argument("--reference", action="store_true",
                    help="also drive the Python reference (bench/reference/app.py)")
    ap.add_argument("--reference-only", action="store_true")
    ap.add_argument("--no-e2e", dest="e2e", action="store_false",
                    help="front service only: no processing/notification, no end-to-end figures")
    ap.add_argument("--streams-reference", action="store_true",
                    help="instead: processing_service against its Kafka Streams twin "
                         "(bench/streams_reference.py): catch-up and end to end")
    ap.add_argument("--streams-twin-dir", help="where bench/streams_reference/build.sh built it")
    ap.add_argument("--catchup-orders", type=int, default=500_000)
    ap.add_argument("--commit-ms", default="100,20",
                    help="commit cadences for --streams-reference (TXN_MAX_MS, commit.interval.ms)")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME:VAR=V,...",
                    help="instead: end to end with processing_service and "
                         "notification_service restarted with each of these settings "
                         "(repeatable; the variants interleaved, --repeat times)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--reference-app", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.rates is None:
        args.rates = ("2000,5000" if args.streams_reference or args.compare
                      else "1000,5000,10000")
    args.rates = [int(r) for r in args.rates.split(",") if r]
    args.commit_ms = [int(r) for r in args.commit_ms.split(",") if r]
    os.makedirs(os.path.join(args.out, "raw"), exist_ok=True)

    system = System(args)

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    results = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "host": {"cpus": os.cpu_count(), "kernel": os.uname().release},
               "settings": {k: v for k, v in vars(args).items()
                            if k in ("rates", "duration", "warmup", "broker_warmup",
                                     "connections",
                                     "saturation_connections", "partitions",
                                     "txn_max_ms", "env", "catchup_orders",
                                     "commit_ms", "streams_reference", "compare",
                                     "repeat")},
               "c": [], "reference": []}
    try:
        system.start_broker()
        if args.streams_reference or args.compare:
            import streams_reference
            if args.streams_reference:
                results["streams"] = streams_reference.run(args, system)
            if args.compare:
                results["compare"] = streams_reference.compare(args, system)
        else:
            measure_fronts(args, system, results)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        system.close()

    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    import report
    if args.streams_reference or args.compare:
        # Their own files: REPORT.md shows them beside the front's results.json.
        for key, name in (("streams", "streams.json"), ("compare", "compare.json")):
            if key in results:
                with open(os.path.join(args.out, name), "w") as f:
                    json.dump({key: results[key], "started": results["started"],
                               "finished": results["finished"],
                               "settings": results["settings"]}, f, indent=1)
        front = os.path.join(args.out, "results.json")
        if os.path.exists(front):
            with open(front) as f:
                results = json.load(f)
        else:
            results = {k: v for k, v in results.items() if k not in ("streams", "compare")}
    else:
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    report.write(results, args.out)
    log(f"wrote {args.out}/REPORT.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
