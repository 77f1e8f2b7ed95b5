"""Where the end-to-end latency goes: the stage histograms each service
exports on /metrics, scraped before and after a load point and subtracted,
so each figure covers that point only.

The chain an order travels, each link measured by the service it runs in:

  A  intended send → record timestamp   loadgen's HTTP mean minus
                                        order_publish_duration_seconds
                                        (produce() stamps the record)
  B  record timestamp → polled          processing_record_wait_seconds
  C  polled → its commit starts         processing_record_txn_open_seconds
  D  commit_transaction                 processing_record_commit_seconds
  E  commit done → fetched              notification_record_wait_seconds
                                        (status timestamp → fetched) - C - D
  F  fetched → line written             notification_record_write_seconds

plus the bench's tailer, which polls the file every millisecond. Means add
up (the check in the report: A + B + C + D + E + F against the end-to-end
mean); percentiles do not, and are interpolated within buckets as
Prometheus' histogram_quantile() does.
"""
import re

import requests

SERIES = re.compile(r'^([a-z_]+?)(_bucket|_sum|_count)(?:\{(.*)\})? (\S+)$')
LE = re.compile(r'le="([^"]+)"')

STAGES = [
    # key, service, metric, what
    ("accept", "order_service", "order_publish_duration_seconds",
     "produce → broker ack (order_service; the 202 waits for it)"),
    ("wait", "processing_service", "processing_record_wait_seconds",
     "B record timestamp → polled by processing"),
    ("open", "processing_service", "processing_record_txn_open_seconds",
     "C polled → its commit starts (open transaction)"),
    ("commit", "processing_service", "processing_record_commit_seconds",
     "D commit_transaction (per record)"),
    ("fetch", "notification_service", "notification_record_wait_seconds",
     "status timestamp → fetched by notification (= C + D + E)"),
    ("write", "notification_service", "notification_record_write_seconds",
     "F fetched → line written"),
]


def scrape(url):
    """{metric: {"buckets": {le: cumulative count}, "sum": s, "count": n}}
    of every unlabelled-but-le histogram at url/metrics ({} when down)."""
    try:
        text = requests.get(url + "/metrics", timeout=5).text
    except requests.RequestException:
        return {}
    out = {}
    for line in text.splitlines():
        m = SERIES.match(line)
        if not m:
            continue
        name, part, labels, value = m.groups()
        h = out.setdefault(name, {"buckets": {}, "sum": 0.0, "count": 0.0})
        if part == "_bucket":
            le = LE.search(labels or "")
            if le:
                h["buckets"][float(le.group(1))] = float(value)
        elif part == "_sum":
            h["sum"] = float(value)
        else:
            h["count"] = float(value)
    return out


def delta(after, before):
    """after - before, per metric present in 'after'."""
    out = {}
    for name, h in after.items():
        b = before.get(name, {"buckets": {}, "sum": 0.0, "count": 0.0})
        out[name] = {"buckets": {le: n - b["buckets"].get(le, 0.0)
                                 for le, n in h["buckets"].items()},
                     "sum": h["sum"] - b["sum"], "count": h["count"] - b["count"]}
    return out


def quantile(h, q):
    """histogram_quantile(q) of one histogram delta, in seconds."""
    total = h["count"]
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_n = 0.0, 0.0
    for le in sorted(h["buckets"]):
        n = h["buckets"][le]
        if n >= rank:
            if le == float("inf"):
                return prev_le
            if n == prev_n:
                return le
            return prev_le + (le - prev_le) * (rank - prev_n) / (n - prev_n)
        prev_le, prev_n = le, n
    return prev_le


def summarize(deltas):
    """{stage key: {"mean", "p50", "p99" (ms), "count"}} from the per-service
    deltas {service: delta(...)}; missing metrics are left out."""
    out = {}
    for key, service, metric, _ in STAGES:
        h = deltas.get(service, {}).get(metric)
        if not h or h["count"] <= 0:
            continue
        out[key] = {"count": h["count"], "mean": 1e3 * h["sum"] / h["count"],
                    "p50": 1e3 * quantile(h, 0.50), "p99": 1e3 * quantile(h, 0.99)}
    return out
