"""Helpers for the processing_service tests: orders as records on the
orders topic, the service's environment, its progress from /metrics, and
exactly-once checks on the notifications topic."""
import collections
import datetime
import json
import threading
import time
import zlib

import requests

import pipeline


def now_rfc3339():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def order_value(order_id, item="laptop", quantity=1, user_id="user789"):
    """An order as JSON; the same arguments give the same order (a retry)
    but for created_at."""
    return json.dumps({"order_id": order_id, "user_id": user_id, "item": item,
                       "quantity": quantity, "created_at": now_rfc3339()}).encode()


def order_record(order_id, item="laptop", quantity=1, traceparent=None):
    """(key, value, headers) as order_service writes it."""
    headers = [("content-type", b"application/json")]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return (order_id, order_value(order_id, item, quantity), headers)


class Topics:
    """Unique topic and group names for one test."""

    def __init__(self, prefix="proc"):
        self.orders = pipeline.unique(prefix + "-orders")
        self.notifications = pipeline.unique(prefix + "-notif")
        self.dlq = self.orders + ".dlq"
        self.group = pipeline.unique(prefix + "-group")

    def environ(self, bootstrap, transactional_id=None, **extra):
        e = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
             "ORDERS_TOPIC": self.orders,
             "NOTIFICATIONS_TOPIC": self.notifications,
             "KAFKA_GROUP_ID": self.group,
             "TRANSACTIONAL_ID": transactional_id or pipeline.unique("txn"),
             "TOPIC_PARTITIONS": "3",
             # A killed member leaves the group after this; the broker's
             # minimum is 6 s.
             "KAFKA_SESSION_TIMEOUT_MS": "6000"}
        e.update({k: str(v) for k, v in extra.items()})
        return e


def metric_sum(text, name):
    """Sum of every series of 'name' in Prometheus text."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rpartition(" ")[2])
    return total


def processed(svc):
    """Records the instance has committed (statuses and DLQ), or None when
    it does not answer."""
    try:
        text = svc.metrics()
    except requests.RequestException:
        return None
    return (metric_sum(text, "processing_records_total")
            + metric_sum(text, "processing_dlq_records_total")
            + metric_sum(text, "processing_duplicates_total"))


def wait_assigned(svc, timeout=90):
    """Until the instance has received a partition assignment."""
    def assigned():
        try:
            return (pipeline.metric_value(svc.metrics(), "processing_rebalances_total")
                    or 0) >= 1
        except Exception:
            return False
    pipeline.wait_until(assigned, timeout, f"{svc.name} to join the group", interval=0.1)


def wait_processed(svc, at_least, timeout, what=None):
    return pipeline.wait_until(lambda: (processed(svc) or 0) >= at_least, timeout,
                               what or f"{svc.name} to commit {at_least} records",
                               interval=0.1)


class Stream:
    """Produce orders 'ids' to 'topic' in a background thread, in chunks,
    so that the service works on a stream rather than a backlog."""

    def __init__(self, bootstrap, topic, ids, chunk=250, pause=0.05):
        self.bootstrap, self.topic, self.ids = bootstrap, topic, ids
        self.chunk, self.pause = chunk, pause
        self.sent = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            for i in range(0, len(self.ids), self.chunk):
                part = self.ids[i:i + self.chunk]
                # The quantity follows the order_id: an id posted twice
                # is the same order twice (a retry).
                pipeline.produce(self.bootstrap, self.topic,
                                 [order_record(o, quantity=1 + zlib.crc32(o.encode()) % 150)
                                  for o in part])
                self.sent += len(part)
                time.sleep(self.pause)  # pacing the stream, not waiting on a condition
        except Exception as e:  # reported by join()
            self.error = e

    def start(self):
        self.thread.start()
        return self

    def join(self, timeout=180):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the order stream did not finish"
        assert self.error is None, f"the order stream failed: {self.error}"


def assert_exactly_once(bootstrap, topic, ids, timeout=180):
    """A read_committed reader of 'topic' sees exactly one record per id in
    'ids', and no other. Returns the records."""
    records = pipeline.read_topic(bootstrap, topic, "read_committed",
                                  timeout=timeout, expect=len(ids), settle=1.0)
    counts = collections.Counter(r.key for r in records)
    twice = sorted(k for k, n in counts.items() if n > 1)
    missing = sorted(set(ids) - set(counts))
    extra = sorted(set(counts) - set(ids))
    assert not twice, f"{len(twice)} orders have more than one status: {twice[:5]}"
    assert not missing, f"{len(missing)} orders have no status: {missing[:5]}"
    assert not extra, f"unexpected statuses: {extra[:5]}"
    return records
