"""POST /orders against the real broker: what a 202 promises is on the topic,
and the service's other endpoints."""
import datetime
import json

import pytest
import requests
from confluent_kafka.admin import AdminClient

import orders
import pipeline


@pytest.fixture(scope="module")
def svc():
    yield from orders.ready_service("orders-api", 3)


def record_at(topic, partition, offset, expect):
    records = pipeline.read_topic(pipeline.kafka_bootstrap(), topic, expect=expect)
    found = [r for r in records if r.partition == partition and r.offset == offset]
    assert len(found) == 1, (partition, offset, records)
    return found[0]


def test_service_creates_its_topic_with_the_configured_partitions(svc):
    admin = AdminClient({"bootstrap.servers": pipeline.kafka_bootstrap()})
    md = admin.list_topics(svc.topic, timeout=10)
    assert len(md.topics[svc.topic].partitions) == 3


def test_valid_order_lands_where_the_202_says_with_key_value_and_headers(svc):
    sent = orders.order(order_id="order-1:a.b_c", item="café ☕", quantity=1000000)
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = orders.post(svc.port, sent, [("traceparent", orders.TRACEPARENT)])
    after = datetime.datetime.now(datetime.timezone.utc)
    assert resp.status == 202, resp
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["location"] == "/orders/order-1:a.b_c"
    body = resp.json()
    assert set(body) == {"order_id", "status", "topic", "partition", "offset"}
    assert body["order_id"] == sent["order_id"]
    assert body["status"] == "accepted"
    assert body["topic"] == svc.topic
    assert 0 <= body["partition"] < 3 and body["offset"] >= 0

    rec = record_at(svc.topic, body["partition"], body["offset"], expect=1)
    assert rec.key == sent["order_id"]
    value = rec.json()
    created_at = value.pop("created_at")
    assert value == sent
    assert orders.RFC3339_MS_UTC.match(created_at), created_at
    stamp = datetime.datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    assert before - datetime.timedelta(seconds=1) <= stamp <= after + datetime.timedelta(seconds=1)
    assert rec.headers == {"content-type": "application/json",
                           "traceparent": orders.TRACEPARENT}


def test_absent_order_id_gets_a_uuid_and_a_bad_traceparent_is_dropped(svc):
    resp = orders.post(svc.port, {"user_id": "u1", "item": "pen", "quantity": 3},
                       [("traceparent", "00-not-a-trace-01")],
                       content_type="application/json; charset=utf-8")
    assert resp.status == 202, resp
    body = resp.json()
    assert orders.UUID4.match(body["order_id"]), body
    assert resp.headers["location"] == "/orders/" + body["order_id"]
    rec = record_at(svc.topic, body["partition"], body["offset"], expect=2)
    assert rec.key == body["order_id"]
    assert rec.json()["order_id"] == body["order_id"]
    assert rec.headers == {"content-type": "application/json"}


def test_chunked_order_and_keep_alive_connection(svc):
    """A chunked body within the limit is accepted; a keep-alive session
    carries several orders, and each lands with its own offset."""
    seen = set()
    with requests.Session() as s:
        for i in range(5):
            data = json.dumps(orders.order(quantity=i + 1)).encode()
            r = s.post(svc.url + "/orders", data=iter([data[:10], data[10:]]),
                       headers={"Content-Type": "application/json"}, timeout=30)
            assert r.status_code == 202, r.text
            seen.add((r.json()["partition"], r.json()["offset"]))
    assert len(seen) == 5


def test_health_readiness_and_openapi(svc):
    r = requests.get(svc.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = requests.get(svc.url + "/readyz", timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "ready"
    r = requests.get(svc.url + "/openapi.json", timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/orders", "/healthz", "/readyz", "/metrics", "/openapi.json",
                                 "/orders/{order_id}", "/orders/{order_id}/events",
                                 "/events", "/ws", "/"}
    codes = set(doc["paths"]["/orders"]["post"]["responses"])
    assert {"202", "400", "405", "411", "413", "415", "503", "504"} <= codes
    # It is the file of the repository, byte for byte.
    with open(pipeline.env("PIPELINE_SOURCE_DIR") + "/order_service/openapi.json", "rb") as f:
        assert r.content == f.read()
    r = requests.post(svc.url + "/openapi.json", timeout=5)
    assert r.status_code == 405 and r.headers["allow"] == "GET"


def test_metrics_show_requests_by_route_and_status(svc):
    before = pipeline.metric_value(svc.metrics(), "http_requests_total",
                                   {"route": "/orders", "code": "202"}) or 0
    assert orders.post(svc.port, orders.order()).status == 202
    assert orders.post(svc.port, "{").status == 400
    assert requests.get(svc.url + "/nowhere", timeout=5).status_code == 404
    text = svc.metrics()
    assert pipeline.metric_value(text, "http_requests_total",
                                 {"route": "/orders", "code": "202"}) == before + 1
    assert pipeline.metric_value(text, "http_requests_total",
                                 {"route": "/orders", "code": "400"}) >= 1
    assert pipeline.metric_value(text, "http_requests_total",
                                 {"route": "other", "code": "404"}) >= 1
    assert pipeline.metric_value(text, "http_requests_total",
                                 {"route": "/healthz", "code": "200"}) >= 1
    assert pipeline.metric_value(text, "order_publish_duration_seconds_count") >= before + 1
    assert pipeline.metric_value(text, "http_requests_in_flight", {"route": "/orders"}) == 0
    assert pipeline.metric_value(text, "kafka_producer_queue_depth") is not None


@pytest.mark.parametrize("environ,variable", [
    ({"HTTP_THREADS": "many"}, "HTTP_THREADS"),
    ({"HTTP_THREADS": "2"}, "HTTP_THREADS"),
    ({"DELIVERY_TIMEOUT_MS": "5"}, "DELIVERY_TIMEOUT_MS"),
    ({"KAFKA_LINGER_MS": "20000", "DELIVERY_TIMEOUT_MS": "10000"}, "KAFKA_LINGER_MS"),
    # The contract's delivery guarantee cannot be weakened through KAFKA_*.
    ({"KAFKA_ACKS": "1"}, "KAFKA_ACKS"),
    ({"KAFKA_ENABLE_IDEMPOTENCE": "false"}, "KAFKA_ENABLE_IDEMPOTENCE"),
])
def test_bad_setting_stops_the_start_with_one_line_and_status_2(environ, variable):
    res = pipeline.run_service("order_service", environ=environ)
    assert res.returncode == 2, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], res.stderr
