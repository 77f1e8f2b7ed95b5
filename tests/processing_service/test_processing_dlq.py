"""Records on the orders topic that are not valid orders go to
<orders>.dlq unchanged (key, value, headers) with headers naming the error,
in the same transaction; the valid orders around them are still processed,
and nothing stalls or crashes."""
import json

import pipeline
import processing


def poison_records():
    """(key, value, expected dlq.error.code, expected dlq.error.field)."""
    good = json.loads(processing.order_value("x"))
    wrong_type = dict(good, order_id="p-type", quantity="2")
    missing = {k: v for k, v in good.items() if k != "item"}
    missing["order_id"] = "p-missing"
    no_created_at = {k: v for k, v in good.items() if k != "created_at"}
    huge = b'{"order_id":"p-huge","user_id":"u","item":"' + b"h" * 900_000 + b'"}'
    return [
        ("p-notjson", b"this is not json", "invalid_json", None),
        ("p-type", json.dumps(wrong_type).encode(), "invalid_type", "quantity"),
        ("p-missing", json.dumps(missing).encode(), "missing_field", "item"),
        ("p-created", json.dumps(no_created_at).encode(), "missing_field", "created_at"),
        ("p-null", None, "invalid_json", None),
        ("p-empty", b"", "invalid_json", None),
        ("p-binary", bytes(range(256)) * 4, "invalid_json", None),
        ("p-array", b"[1,2,3]", "invalid_type", None),
        (None, b"{}", "missing_field", None),  # no key either
        ("p-huge", huge, "invalid_json", None),
    ]


def test_poison_records_reach_the_dlq_unchanged_and_valid_orders_go_on(bootstrap, services):
    t = processing.Topics("dlq")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    poison = poison_records()
    records, valid_ids = [], []
    for i, (key, value, _, _) in enumerate(poison):
        vid = f"valid-{i}"
        valid_ids.append(vid)
        records.append(processing.order_record(vid))
        records.append((key, value, [("origin", b"poison-test"), ("n", str(i).encode())]))
    records.append(processing.order_record("valid-last"))
    valid_ids.append("valid-last")
    pipeline.produce(bootstrap, t.orders, records)

    # Small transactions, so that poison records and valid orders share
    # some and not others.
    svc = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=3))
    processing.wait_processed(svc, len(records), 120)

    processing.assert_exactly_once(bootstrap, t.notifications, valid_ids)
    source = {r.headers.get("n"): r for r in
              pipeline.read_topic(bootstrap, t.orders, expect=len(records), timeout=60)
              if r.headers.get("origin") == "poison-test"}
    dlq = pipeline.read_topic(bootstrap, t.dlq, expect=len(poison), timeout=60, settle=0.5)
    assert len(dlq) == len(poison), [r.key for r in dlq]
    by_n = {r.headers["n"]: r for r in dlq}
    for i, (key, value, code, field) in enumerate(poison):
        rec = by_n[str(i)]
        assert rec.key == key
        assert rec.value == value, f"value of poison record {i} changed"
        assert rec.headers["origin"] == "poison-test"  # original headers kept
        assert rec.headers["dlq.error.code"] == code, (i, rec.headers)
        assert rec.headers["dlq.error.message"]
        if field:
            assert rec.headers.get("dlq.error.field") == field, (i, rec.headers)
        src = source[str(i)]
        assert rec.headers["dlq.source.topic"] == t.orders
        assert int(rec.headers["dlq.source.partition"]) == src.partition
        assert int(rec.headers["dlq.source.offset"]) == src.offset
    assert pipeline.metric_value(svc.metrics(), "processing_dlq_records_total") == len(poison)
    # Still alive and well after all that.
    assert svc.proc.poll() is None
    assert svc.stop() == 0
