"""processing_service against the real broker: each rule gives its status
and reason, the record is keyed by order_id with the traceparent passed on,
and a bad configuration stops the start with exit status 2."""
import json

import pytest

import pipeline
import processing

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def statuses_by_key(bootstrap, topic, n):
    records = pipeline.read_topic(bootstrap, topic, expect=n, timeout=90, settle=0.5)
    assert len(records) == n, [r.key for r in records]
    return {r.key: r for r in records}


def test_each_rule_gives_its_status_and_reason(bootstrap, services, tmp_path):
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("# items we sell\nlaptop\n  mouse \n\n")
    t = processing.Topics("rules")
    svc = services("processing_service",
                   t.environ(bootstrap, CATALOG_FILE=catalog, MAX_QUANTITY=100))
    orders = [
        processing.order_record("ok-1", "laptop", 2, traceparent=TRACEPARENT),
        processing.order_record("ok-boundary", "mouse", 100),
        processing.order_record("over-limit", "laptop", 101),
        processing.order_record("unknown", "keyboard", 1),
        processing.order_record("unknown-and-over", "keyboard", 500),
    ]
    svc.wait_ready()
    pipeline.produce(bootstrap, t.orders, orders)

    got = statuses_by_key(bootstrap, t.notifications, len(orders))
    want = {"ok-1": ("confirmed", None), "ok-boundary": ("confirmed", None),
            "over-limit": ("rejected", "quantity_limit"),
            "unknown": ("rejected", "unknown_item"),
            "unknown-and-over": ("rejected", "unknown_item")}
    for key, value, _ in orders:
        rec = got[key]
        body = rec.json()
        assert (body["status"], body["reason"]) == want[key], body
        # key = order_id, the order's fields carried over
        assert body["order_id"] == key
        assert rec.headers["content-type"] == "application/json"
        sent = json.loads(value)
        for field in ("user_id", "item", "quantity"):
            assert body[field] == sent[field]
        assert body["processed_at"].endswith("Z")
        assert "created_at" not in body
    assert got["ok-1"].headers.get("traceparent") == TRACEPARENT
    assert "traceparent" not in got["unknown"].headers

    # Counted by status and reason once committed (just after the commit
    # returns, so a moment after the reader saw the records).
    processing.wait_processed(svc, len(orders), 30)
    text = svc.metrics()
    assert pipeline.metric_value(text, "processing_records_total",
                                 {"status": "confirmed"}) == 2
    assert pipeline.metric_value(text, "processing_records_total",
                                 {"reason": "quantity_limit"}) == 1
    assert pipeline.metric_value(text, "processing_records_total",
                                 {"reason": "unknown_item"}) == 2
    assert pipeline.metric_value(text, "processing_transactions_total",
                                 {"outcome": "committed"}) >= 1
    assert pipeline.metric_value(text, "processing_transaction_commit_seconds_count") >= 1
    assert pipeline.metric_value(text, "processing_consumer_lag_records") is not None


def test_max_quantity_without_catalog_knows_every_item(bootstrap, services):
    t = processing.Topics("maxq")
    svc = services("processing_service", t.environ(bootstrap, MAX_QUANTITY=5))
    orders = [processing.order_record("at-limit", "anything at all", 5),
              processing.order_record("above", "anything at all", 6)]
    svc.wait_ready()
    pipeline.produce(bootstrap, t.orders, orders)
    got = statuses_by_key(bootstrap, t.notifications, 2)
    assert got["at-limit"].json()["status"] == "confirmed"
    assert got["above"].json()["reason"] == "quantity_limit"
    # Topics it needs are created at start.
    assert pipeline.topic_exists(bootstrap, t.dlq)


@pytest.mark.parametrize("variable,value", [
    ("CATALOG_FILE", "/nonexistent/catalog.txt"),
    ("CATALOG_FILE", "/"),
    ("MAX_QUANTITY", "ten"),
    ("MAX_QUANTITY", "0"),
    ("TXN_MAX_RECORDS", "0"),
    ("TXN_MAX_RECORDS", "12x"),
    ("TXN_MAX_MS", "-1"),
    ("TXN_MIN_MS", "21"),  # more than TXN_MAX_MS (20)
    ("KAFKA_PARTITION_ASSIGNMENT_STRATEGY", "cooperative-sticky"),
    ("KAFKA_ENABLE_AUTO_COMMIT", "true"),
    ("KAFKA_ISOLATION_LEVEL", "read_uncommitted"),
])
def test_bad_configuration_exits_2_naming_the_variable(variable, value):
    res = pipeline.run_service("processing_service",
                               environ={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                                        variable: value})
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and variable in lines[0], res.stderr
