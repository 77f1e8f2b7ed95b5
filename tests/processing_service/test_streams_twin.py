"""The Kafka Streams twin of processing_service (bench/streams_reference), the
reference the bench measures it against, keeps to the same contract: for
the same records it writes the same statuses (byte for byte but for
processed_at), keys and headers, and the same dead letter records, so
that notification_service consumes either alike and the comparison is
one of equals."""
import json
import re

import pipeline
import processing
import streams_twin

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
PROCESSED_AT = re.compile(rb'"processed_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')


def input_records():
    missing_user = json.loads(processing.order_value("bad-missing"))
    del missing_user["user_id"]
    big_quantity = json.loads(processing.order_value("bad-type"))
    big_quantity["quantity"] = 2.5
    return [
        processing.order_record("ok-1", "laptop", 2, traceparent=TRACEPARENT),
        processing.order_record("ok-edge", "mouse", 100, traceparent="00-not-a-traceparent"),
        processing.order_record("over", "laptop", 101),
        processing.order_record("unknown", "keyboard", 500),
        ("ok-quote", processing.order_value("ok-quote", 'laptop "pro" \\ ü', 1, "u\u00e9"),
         [("content-type", b"application/json")]),
        ("bad-missing", json.dumps(missing_user).encode(), [("n", b"1")]),
        ("bad-type", json.dumps(big_quantity).encode(), [("n", b"2")]),
        ("bad-extra", b'{"order_id":"x","nope":1}', [("n", b"3")]),
        ("bad-json", b"this is not json", [("n", b"4")]),
    ]


def test_the_twin_writes_what_processing_service_writes(bootstrap, services, tmp_path):
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("laptop\nmouse\n" + 'laptop "pro" \\ ü\n')
    records = input_records()
    n_dlq = sum(1 for k, _, _ in records if k.startswith("bad-"))
    n_status = len(records) - n_dlq
    c, j = processing.Topics("twin-c"), processing.Topics("twin-j")
    for t in (c, j):
        pipeline.create_topics(bootstrap, [t.orders, t.notifications, t.dlq], partitions=3)
        pipeline.produce(bootstrap, t.orders, records)

    svc = services("processing_service",
                   c.environ(bootstrap, CATALOG_FILE=catalog, MAX_QUANTITY=100))
    svc.wait_ready()
    got_c = pipeline.read_topic(bootstrap, c.notifications, expect=n_status,
                                timeout=90, settle=0.5)
    dlq_c = pipeline.read_topic(bootstrap, c.dlq, expect=n_dlq, timeout=60, settle=0.5)

    built = streams_twin.build(pipeline.env("PIPELINE_SOURCE_DIR"),
                               pipeline.env("PIPELINE_STREAMS_TWIN_DIR"))
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_GROUP_ID": j.group,
           "ORDERS_TOPIC": j.orders, "NOTIFICATIONS_TOPIC": j.notifications,
           "CATALOG_FILE": catalog, "MAX_QUANTITY": 100, "COMMIT_INTERVAL_MS": 20}
    with streams_twin.StreamsTwin(built, env, pipeline.state_dir("logs")) as twin:
        try:
            got_j = pipeline.read_topic(bootstrap, j.notifications, expect=n_status,
                                        timeout=120, settle=0.5)
            dlq_j = pipeline.read_topic(bootstrap, j.dlq, expect=n_dlq, timeout=60, settle=0.5)
        except AssertionError:
            print(twin.stderr_tail(80))
            raise

    by_c, by_j = {r.key: r for r in got_c}, {r.key: r for r in got_j}
    assert sorted(by_c) == sorted(by_j) and len(got_j) == n_status
    for key, rc in by_c.items():
        rj = by_j[key]
        # Byte for byte, processed_at aside (each stamps its own clock).
        assert PROCESSED_AT.sub(b"", rj.value) == PROCESSED_AT.sub(b"", rc.value), key
        assert PROCESSED_AT.search(rj.value), rj.value
        # Not the partition: librdkafka hashes keys with CRC32
        # (consistent_random), the Java client with murmur2.
        assert rj.headers == rc.headers, key
    assert by_j["ok-1"].headers["traceparent"] == TRACEPARENT
    assert by_j["unknown"].json()["reason"] == "unknown_item"
    assert by_j["over"].json()["reason"] == "quantity_limit"

    dc, dj = {r.key: r for r in dlq_c}, {r.key: r for r in dlq_j}
    assert sorted(dc) == sorted(dj) and len(dlq_j) == n_dlq
    for key, rc in dc.items():
        rj = dj[key]
        assert rj.value == rc.value, key
        hc, hj = dict(rc.headers), dict(rj.headers)
        assert hj.pop("dlq.source.topic") == j.orders
        assert hc.pop("dlq.source.topic") == c.orders
        assert hj.pop("dlq.service") == "streams_reference"
        assert hc.pop("dlq.service") == "processing_service"
        if key == "bad-json":
            # jansson and Jackson place a syntax error at different bytes.
            assert hj.pop("dlq.error.message").startswith("malformed json")
            hc.pop("dlq.error.message")
        assert hj == hc, key
