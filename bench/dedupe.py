"""The dedupe store's cost (run by bench/processing_service.sh --dedupe):
catch-up over one preloaded backlog with the store off (DEDUPE_RETENTION=0)
and on, in alternating rounds in the same run (the shared machine's load
moves the figures between runs, not within one); then the store's memory
and its restore rate over a changelog of --entries order_ids.

Numbers, not assertions."""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid

from confluent_kafka import Producer

import processing_service as ps  # bench/processing_service.py: shared helpers


def metric(url, name):
    return ps.metric_sum(url, name)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Service:
    def __init__(self, args, group, orders, notifications, **settings):
        self.port = ps.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=args.bootstrap, ORDERS_TOPIC=orders,
                   NOTIFICATIONS_TOPIC=notifications, KAFKA_GROUP_ID=group,
                   TRANSACTIONAL_ID=group, HTTP_PORT=str(self.port), LOG_LEVEL="warn",
                   TOPIC_PARTITIONS=str(ps.PARTITIONS))
        env.update({k: str(v) for k, v in settings.items()})
        self.log = open(os.path.join(args.logs, f"dedupe-{group}.stderr"), "wb")
        self.proc = subprocess.Popen([args.binary], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

    def wait(self, predicate, what, timeout=600):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.proc.poll() is not None:
                sys.exit(f"processing_service exited with {self.proc.returncode} ({what})")
            if time.monotonic() > deadline:
                sys.exit(f"timed out waiting for {what}")
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def broker_cpu():
    pid = os.environ.get("BENCH_BROKER_PID")
    return ps.cpu_seconds(int(pid)) if pid else 0.0


def catch_up(args, orders, dedupe):
    """One catch-up over the whole backlog by a new group: records/s from
    the first commit, CPU µs per record of the service and of the broker,
    and the peak RSS."""
    group = f"dd-{uuid.uuid4().hex[:8]}"
    svc = Service(args, group, orders, f"dd-notif-{group}",
                  DEDUPE_RETENTION="7d" if dedupe else "0")
    first = svc.wait(lambda: (metric(svc.url, "processing_records_total") or 0) > 0 and
                     (time.monotonic(), metric(svc.url, "processing_records_total"),
                      ps.cpu_seconds(svc.proc.pid), broker_cpu()),
                     "the first commit")
    svc.wait(lambda: (metric(svc.url, "processing_records_total") or 0) >= args.orders,
             "the catch-up")
    done = time.monotonic()
    n = args.orders - first[1]
    rate = n / (done - first[0])
    cpu = (1e6 * (ps.cpu_seconds(svc.proc.pid) - first[2]) / n,
           1e6 * (broker_cpu() - first[3]) / n)
    rss = peak_rss_mib(svc.proc.pid)
    entries = metric(svc.url, "processing_dedupe_entries") or 0
    nbytes = metric(svc.url, "processing_dedupe_bytes") or 0
    svc.stop()
    return rate, cpu, rss, entries, nbytes


def write_changelog(bootstrap, topic, n):
    """n entries as processing_service writes them (key order_id, value 16
    hex digits), spread over the partitions as the orders would be."""
    ps.create_topics(bootstrap, [topic])
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "acks": "all",
                  "queue.buffering.max.messages": 1000000, "compression.type": "none"})
    for i in range(n):
        while True:
            try:
                p.produce(topic, key=f"{i:08x}-0000-4000-8000-{i:012x}",  # a UUID's length
                          value=f"{i * 2654435761:016x}"[-16:],
                          partition=i % ps.PARTITIONS)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(300) == 0


def restore(args, entries):
    """Start an instance whose changelog holds 'entries' order_ids: the
    restore time, and the store's memory."""
    group = f"dd-restore-{uuid.uuid4().hex[:8]}"
    changelog = f"{group}-dedupe-changelog"
    orders = f"dd-empty-orders-{group}"
    ps.create_topics(args.bootstrap, [orders])
    t0 = time.monotonic()
    write_changelog(args.bootstrap, changelog, entries)
    print(f"wrote {entries:,} changelog entries in {time.monotonic() - t0:.1f} s")
    svc = Service(args, group, orders, f"dd-notif-{group}", DEDUPE_RETENTION="7d")
    restored = svc.wait(lambda: (metric(svc.url, "processing_dedupe_restored_total") or 0)
                        >= entries and metric(svc.url, "processing_dedupe_restored_total"),
                        "the restore")
    seconds = metric(svc.url, "processing_dedupe_restore_seconds_sum")
    nbytes = metric(svc.url, "processing_dedupe_bytes")
    rss = peak_rss_mib(svc.proc.pid)
    svc.stop()
    return restored, seconds, nbytes, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--orders", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--entries", type=int, default=1_000_000)
    args = ap.parse_args()

    orders = f"dd-orders-{uuid.uuid4().hex[:8]}"
    ps.create_topics(args.bootstrap, [orders, orders + ".dlq"])
    t0 = time.monotonic()
    ps.preload(args.bootstrap, orders, args.orders, "dd")
    print(f"preloaded {args.orders:,} orders in {time.monotonic() - t0:.1f} s")
    runs = {False: [], True: []}
    cpus = {False: [], True: []}
    for r in range(args.rounds):
        for dedupe in ((False, True) if r % 2 == 0 else (True, False)):
            rate, cpu, rss, entries, nbytes = catch_up(args, orders, dedupe)
            runs[dedupe].append(rate)
            cpus[dedupe].append(cpu)
            print(f"round {r + 1}, dedupe {'on ' if dedupe else 'off'}: {rate:,.0f} records/s "
                  f"from the first commit, CPU per record: service {cpu[0]:.1f} us, "
                  f"broker {cpu[1]:.1f} us; peak RSS {rss:.0f} MiB"
                  + (f", store {entries:,.0f} entries in {nbytes / 2**20:.1f} MiB"
                     if dedupe else "")
                  + f" (load average {os.getloadavg()[0]:.1f})")
    off, on = statistics.median(runs[False]), statistics.median(runs[True])
    print(f"catch-up median: off {off:,.0f} records/s, on {on:,.0f} records/s: "
          f"{100 * (off - on) / off:+.1f}% slower with the store; CPU per record (median): "
          f"service {statistics.median(c[0] for c in cpus[False]):.1f} -> "
          f"{statistics.median(c[0] for c in cpus[True]):.1f} us, broker "
          f"{statistics.median(c[1] for c in cpus[False]):.1f} -> "
          f"{statistics.median(c[1] for c in cpus[True]):.1f} us")

    restored, seconds, nbytes, rss = restore(args, args.entries)
    per_million = 1e6 / restored
    print(f"restore: {restored:,.0f} entries in {seconds:.2f} s ({restored / seconds:,.0f} "
          f"entries/s, {seconds * per_million:.2f} s per million)")
    print(f"store: {nbytes / 2**20:.1f} MiB for {restored:,.0f} order_ids "
          f"({nbytes * per_million / 2**20:.1f} MiB per million, "
          f"{nbytes / restored:.0f} bytes each); peak RSS {rss:.0f} MiB "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
