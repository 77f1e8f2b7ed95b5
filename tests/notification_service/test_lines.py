"""notification_service against the real broker: one ECS line per status on
stdout and in NOTIFICATION_LOG_FILE, hostile values never split or forge a
line, invalid records go to the DLQ without stopping the stream, SIGHUP
reopens the file, SIGTERM commits."""
import json
import os
import signal

import requests

import notification as nt
import pipeline
from pipeline import unique, wait_until

CONTRACT_FIELDS = ("@timestamp", "log.level", "message", "ecs.version", "service.name",
                   "event.dataset", "order.id", "order.status", "order.reason",
                   "user.id", "event.id")


def test_each_notification_gives_one_line_with_contract_fields(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("fields")
    records = []
    for i in range(30):
        rejected = i % 3 == 0
        headers = [("traceparent", nt.TRACEPARENT.encode())] if i % 2 == 0 else []
        records.append((f"order-{i}",
                        nt.status_value(f"order-{i}", "rejected" if rejected else "confirmed",
                                        user_id=f"user-{i}", quantity=i + 1),
                        headers))
    svc = nt.start(services, bootstrap, topic, group, log_file=path)
    svc.wait_ready()
    pipeline.produce(bootstrap, topic, records)

    lines = nt.wait_lines(path, len(records))
    wait_until(lambda: len(svc.stdout_lines()) >= len(records), 60, "stdout lines")
    assert nt.parse_lines(svc.stdout_lines()) == lines, "stdout and the file differ"
    assert len(lines) == len(records)
    by_order = {line["order.id"]: line for line in lines}
    assert len(by_order) == len(records)
    assert len({line["event.id"] for line in lines}) == len(records), "event.id not unique"
    for i in range(30):
        line = by_order[f"order-{i}"]
        for field in CONTRACT_FIELDS:
            assert field in line, f"{field} missing in {line}"
        assert line["log.level"] == "info"
        assert line["service.name"] == "notification_service"
        assert line["event.dataset"] == "notification_service.notifications"
        assert line["user.id"] == f"user-{i}"
        assert line["order.quantity"] == i + 1
        assert line["order.item"] == "laptop"
        assert line["@timestamp"] == "2026-11-23T07:00:00.123Z"
        assert line["event.id"] == (f"{topic}-{line['kafka.partition']}-"
                                    f"{line['kafka.offset']}")
        if i % 3 == 0:
            assert line["order.status"] == "rejected"
            assert line["order.reason"] == "quantity_limit"
            assert line["message"] == f"order order-{i} rejected: quantity_limit"
        else:
            assert line["order.status"] == "confirmed"
            assert line["order.reason"] is None
            assert line["message"] == f"order order-{i} confirmed"
        if i % 2 == 0:
            assert line["trace.id"] == "0af7651916cd43dd8448eb211c80319c"
        else:
            assert "trace.id" not in line
    metrics = svc.metrics()
    assert pipeline.metric_value(metrics, "notification_lines_written_total") == len(records)
    assert pipeline.metric_value(metrics, "notification_records_invalid_total") == 0


HOSTILE_ITEMS = [
    'laptop"},{"forged":true,"order.id":"x',
    '{"forged":1}',
    "line\u2028separator\u2029paragraph",
    'back\\slash "quoted"',
    "\u00e9\u4e2d\U0001F600",
]

HOSTILE_INVALID_VALUES = [
    b'{"order_id":"a","item":"new\nline"}\n{"forged":true}',
    b'\x00\x00{"forged":1}\x00',
    b"\x1b[2J\x1b[31mred\x1b[0m\r\n",
    b"\xff\xfe\xc3(\xed\xa0\x80 invalid utf-8",
    b'{"order_id":"1","user_id":"u","item":"i\x07","quantity":1,"status":"confirmed",'
    b'"reason":null,"processed_at":"2026-11-23T07:00:00.123Z"}',
    b"",
]


def test_hostile_values_never_split_or_forge_a_line(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("hostile")
    records = []
    for i, item in enumerate(HOSTILE_ITEMS):
        records.append((f"h-{i}", nt.status_value(f"h-{i}", item=item, user_id=item[:60]),
                        [("traceparent", b"00-zz\n{\"forged\":1}"),
                         ("x-bad", b"\xff\n\x00\x1b")]))
    for i, value in enumerate(HOSTILE_INVALID_VALUES):
        records.append((b"key\n\x00\xff\x1b" + str(i).encode(), value,
                        [("traceparent", "\u2028".encode()), ("x\n", b"\xc3")]))
    svc = nt.start(services, bootstrap, topic, group, log_file=path)
    pipeline.produce(bootstrap, topic, records)

    nt.wait_lines(path, len(records))
    # Nothing more than one line per record, even after everything settled.
    wait_until(lambda: pipeline.metric_value(svc.metrics(), "notification_dlq_records_total")
               == len(HOSTILE_INVALID_VALUES), 60, "DLQ acknowledgements")
    for raw in (nt.read_lines(path), svc.stdout_lines()):
        assert len(raw) == len(records)
        for line in raw:
            assert b"\x00" not in line and b"\r" not in line and b"\x1b" not in line
            assert b"\xe2\x80\xa8" not in line  # U+2028 escaped
        lines = nt.parse_lines(raw)
        assert not any("forged" in line for line in lines)
        valid = {line["order.id"]: line for line in lines if line["log.level"] == "info"}
        assert {valid[f"h-{i}"]["order.item"] for i in range(len(HOSTILE_ITEMS))} \
            == set(HOSTILE_ITEMS)
        assert all("trace.id" not in line for line in lines)
        warns = [line for line in lines if line["log.level"] == "warn"]
        assert len(warns) == len(HOSTILE_INVALID_VALUES)
        for w in warns:
            assert w["error.code"] and w["event.id"].startswith(topic + "-")
            assert w["kafka.key"].startswith("key\n\u0000")


def test_invalid_record_goes_to_dlq_and_stream_continues(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("invalid")
    bad = [(b"bad-1", b"not json", []),
           (b"bad-2", nt.status_value("bad-2", status="shipped"), [("traceparent", nt.TRACEPARENT.encode())])]
    good = [(f"ok-{i}", nt.status_value(f"ok-{i}"), []) for i in range(10)]
    # One partition, so the bad records sit between good ones.
    pipeline.create_topics(bootstrap, [topic], partitions=1)
    svc = nt.start(services, bootstrap, topic, group, log_file=path)
    pipeline.produce(bootstrap, topic, [(k, v, h) for k, v, h in good[:5]] + bad + good[5:])

    lines = nt.wait_lines(path, len(good) + len(bad))
    assert sorted(l["order.id"] for l in lines if l["log.level"] == "info") == sorted(k for k, _, _ in good)
    warns = [l for l in lines if l["log.level"] == "warn"]
    assert sorted(w["kafka.key"] for w in warns) == ["bad-1", "bad-2"]
    codes = {w["kafka.key"]: w["error.code"] for w in warns}
    assert codes == {"bad-1": "invalid_json", "bad-2": "invalid_value"}

    dlq = pipeline.read_topic(bootstrap, topic + ".dlq", expect=2)
    assert sorted(r.key for r in dlq) == ["bad-1", "bad-2"]
    for r in dlq:
        original = {k: v for k, v, _ in bad}[r.key.encode()]
        assert r.value == original
        assert r.headers["dlq.stage"] == "decode"
        assert r.headers["dlq.error.code"] == codes[r.key]
        assert r.headers["dlq.error.message"]
        assert r.headers["dlq.source.topic"] == topic
        w = next(w for w in warns if w["kafka.key"] == r.key)
        assert f"{topic}-{r.headers['dlq.source.partition']}-{r.headers['dlq.source.offset']}" \
            == w["event.id"]
    assert next(r for r in dlq if r.key == "bad-2").headers["traceparent"] == nt.TRACEPARENT
    metrics = svc.metrics()
    assert pipeline.metric_value(metrics, "notification_records_invalid_total") == 2
    wait_until(lambda: pipeline.metric_value(svc.metrics(), "notification_dlq_records_total") == 2,
               30, "DLQ metric")


def test_sighup_reopens_log_file(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("rotate")
    svc = nt.start(services, bootstrap, topic, group, log_file=path)
    pipeline.produce(bootstrap, topic, [(f"a-{i}", nt.status_value(f"a-{i}"), []) for i in range(5)])
    nt.wait_lines(path, 5)

    rotated = path + ".1"
    os.rename(path, rotated)
    svc.proc.send_signal(signal.SIGHUP)
    # The reopen happens on the consumer loop's next turn; its log says so.
    wait_until(lambda: "log file reopened" in svc.stderr_tail(200), 30, "reopen")
    pipeline.produce(bootstrap, topic, [(f"b-{i}", nt.status_value(f"b-{i}"), []) for i in range(5)])

    fresh = nt.wait_lines(path, 5)
    assert sorted(l["order.id"] for l in fresh) == [f"b-{i}" for i in range(5)]
    old = nt.parse_lines(nt.read_lines(rotated))
    assert sorted(l["order.id"] for l in old) == [f"a-{i}" for i in range(5)]
    assert svc.proc.poll() is None


def test_sigterm_commits_so_a_restart_writes_nothing_again(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("term")
    # One partition: a record written again would come before the marker.
    pipeline.create_topics(bootstrap, [topic], partitions=1)
    svc = nt.start(services, bootstrap, topic, group, log_file=path)
    pipeline.produce(bootstrap, topic, [(f"t-{i}", nt.status_value(f"t-{i}"), []) for i in range(20)])
    nt.wait_lines(path, 20)
    assert svc.stop() == 0

    again = nt.start(services, bootstrap, topic, group, log_file=path)
    again.wait_ready()
    pipeline.produce(bootstrap, topic, [("last", nt.status_value("last"), [])])
    nt.wait_lines(path, 21)
    assert again.stop() == 0
    lines = nt.parse_lines(nt.read_lines(path))
    # The marker came through, and nothing before it was written twice.
    assert [l["order.id"] for l in lines] == [f"t-{i}" for i in range(20)] + ["last"]


def test_bad_webhook_url_exits_2_naming_it():
    for url in ("ftp://127.0.0.1/x", "not a url", "http://"):
        res = pipeline.run_service("notification_service",
                                   environ={"NOTIFY_WEBHOOK_URL": url})
        assert res.returncode == 2, res.stderr
        assert "NOTIFY_WEBHOOK_URL" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1


def test_health_and_metrics_endpoints(bootstrap, services):
    topic, group = unique("notif"), unique("g")
    svc = nt.start(services, bootstrap, topic, group)
    svc.wait_ready()
    assert requests.get(svc.url + "/healthz", timeout=5).status_code == 200
    metrics = svc.metrics()
    for name in ("notification_lines_written_total", "notification_records_invalid_total",
                 "notification_webhook_attempts_total", "notification_dlq_records_total",
                 "notification_consumer_lag"):
        assert pipeline.metric_value(metrics, name) is not None, name
    assert pipeline.metric_value(metrics, "notification_webhook_results_total",
                                 {"outcome": "delivered"}) == 0
    assert pipeline.topic_exists(bootstrap, topic)
    assert pipeline.topic_exists(bootstrap, topic + ".dlq")
