"""SIGTERM in the middle of a stream of concurrent orders: every order that
got a 202 is on the topic, none that got a 503 is, and the exit status is 0."""
import http.client
import json
import threading

import orders
import pipeline

WORKERS = 16
MAX_PER_WORKER = 2000


def test_sigterm_during_concurrent_orders_loses_no_accepted_order(services, bootstrap):
    topic = pipeline.unique("orders-term")
    svc = services("order_service", {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                     "ORDERS_TOPIC": topic, "TOPIC_PARTITIONS": 3})
    svc.wait_ready(90)
    lock = threading.Lock()
    results = {}  # order_id -> status, or None when no answer came
    stop = threading.Event()

    def worker():
        conn = None
        for _ in range(MAX_PER_WORKER):
            if stop.is_set():
                break
            o = orders.order()
            data = json.dumps(o)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
                conn.request("POST", "/orders", data, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                status = None
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                results[o["order_id"]] = status
            if status is None and svc.proc.poll() is not None:
                break
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    try:
        def answered():
            with lock:
                return sum(1 for s in results.values() if s == 202) >= 200
        pipeline.wait_until(answered, 120, "200 accepted orders before SIGTERM")
        rc = svc.stop(timeout=90)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert rc == 0

    accepted = {k for k, s in results.items() if s == 202}
    refused = {k for k, s in results.items() if s is not None and s != 202}
    assert all(s in (202, 503, None) for s in results.values()), \
        {s for s in results.values()}
    records = pipeline.read_topic(bootstrap, topic, expect=len(accepted), settle=2.0)
    keys = {r.key for r in records}
    assert accepted <= keys, f"{len(accepted - keys)} accepted orders missing"
    assert not refused & keys
