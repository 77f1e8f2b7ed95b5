"""SIGTERM in the middle of a stream of concurrent orders: every request the
service took gets a complete HTTP answer (a connection is only ever refused
before a request is sent on it, never reset or closed after), every order
that got a 202 is on the topic, none that got a 503 is, and the exit status
is 0."""
import http.client
import json
import threading

import orders
import pipeline

WORKERS = 16
MAX_PER_WORKER = 2000
# Outcomes that are not an HTTP status.
REFUSED = "connect refused"  # the connect failed: nothing was sent
LOST = "no answer"           # sent, then a reset, EOF or timeout


def test_sigterm_during_concurrent_orders_answers_every_request_loses_no_accepted_order(
        services, bootstrap):
    topic = pipeline.unique("orders-term")
    svc = services("order_service", {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                     "ORDERS_TOPIC": topic, "TOPIC_PARTITIONS": 3})
    svc.wait_ready(90)
    lock = threading.Lock()
    results = {}  # order_id -> HTTP status, REFUSED or LOST
    lost = []     # (order_id, the exception) of each LOST
    stop = threading.Event()

    def worker():
        conn = None
        for _ in range(MAX_PER_WORKER):
            if stop.is_set():
                break
            o = orders.order()
            data = json.dumps(o)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
                try:
                    conn.connect()
                except OSError:
                    # Refused, or never established (the service drops
                    # new connection attempts while it drains): the order
                    # was not sent, and the service is going away.
                    conn.close()
                    with lock:
                        results[o["order_id"]] = REFUSED
                    return
            try:
                conn.request("POST", "/orders", data, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                status = LOST
                conn.close()
                conn = None
                with lock:
                    lost.append((o["order_id"], repr(e)))
            with lock:
                results[o["order_id"]] = status
            if status == LOST and svc.proc.poll() is not None:
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
    assert rc == 0, svc.stderr_tail()

    counts = {}
    for s in results.values():
        counts[s] = counts.get(s, 0) + 1
    print(f"outcomes: {counts}")
    assert not lost, f"{len(lost)} requests sent without an answer: {lost[:5]}"
    assert set(counts) <= {202, 503, 504, REFUSED}, counts

    accepted = {k for k, s in results.items() if s == 202}
    refused = {k for k, s in results.items() if s in (503, REFUSED)}
    records = pipeline.read_topic(bootstrap, topic, expect=len(accepted), settle=2.0)
    keys = {r.key for r in records}
    assert accepted <= keys, f"{len(accepted - keys)} accepted orders missing"
    assert not refused & keys
