"""The optional webhook against a local receiver on 127.0.0.1: retried until
delivered, dead-lettered when it keeps failing (while lines keep flowing),
not retried on a 4xx, and never lost on SIGTERM."""
import json
import threading

import notification as nt
import pipeline
from pipeline import unique, wait_until

FAST_RETRIES = {"NOTIFY_RETRY_BASE_MS": 20, "NOTIFY_RETRY_MAX_MS": 200,
                "NOTIFY_TIMEOUT_MS": 5000, "NOTIFY_CONNECT_TIMEOUT_MS": 2000}


def records(prefix, n):
    return [(f"{prefix}-{i}", nt.status_value(f"{prefix}-{i}"),
             [("traceparent", nt.TRACEPARENT.encode())]) for i in range(n)]


def outcome(svc, name):
    return pipeline.metric_value(svc.metrics(), "notification_webhook_results_total",
                                 {"outcome": name})


def test_webhook_retries_until_every_notification_is_delivered(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("wh-ok")
    sent = records("w", 20)
    with nt.WebhookReceiver(lambda key, n: 503 if n <= 2 else 200) as hook:
        svc = nt.start(services, bootstrap, topic, group, log_file=path,
                       extra={"NOTIFY_WEBHOOK_URL": hook.url, "NOTIFY_RETRY_LIMIT": 5,
                              **FAST_RETRIES})
        pipeline.produce(bootstrap, topic, sent)
        lines = nt.wait_lines(path, len(sent))
        event_ids = {l["event.id"]: l["order.id"] for l in lines}
        wait_until(lambda: set(hook.delivered()) == set(event_ids), 120, "every webhook")

        bodies = {k: v for k, v, _ in sent}
        for key, body in hook.delivered().items():
            assert body == bodies[event_ids[key]]  # the record's value, as is
        with hook.lock:
            for headers, _, _, _ in hook.requests:
                assert headers["Content-Type"] == "application/json"
                assert headers["traceparent"] == nt.TRACEPARENT
            assert all(n >= 3 for n in hook.counts.values())
        wait_until(lambda: outcome(svc, "delivered") == len(sent), 30, "metrics")
        metrics = svc.metrics()
        assert pipeline.metric_value(metrics, "notification_webhook_attempts_total") >= 3 * len(sent)
        assert outcome(svc, "retries_exhausted") == 0
    assert pipeline.read_topic(bootstrap, topic + ".dlq", timeout=10) == []


def test_failing_webhook_goes_to_dlq_while_lines_keep_flowing(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("wh-dlq")
    sent = records("f", 20)
    gate = threading.Event()
    with nt.WebhookReceiver(lambda key, n: 503, gate=gate) as hook:
        svc = nt.start(services, bootstrap, topic, group, log_file=path,
                       extra={"NOTIFY_WEBHOOK_URL": hook.url, "NOTIFY_RETRY_LIMIT": 2,
                              "NOTIFY_WORKERS": 2, **FAST_RETRIES,
                              "NOTIFY_TIMEOUT_MS": 60000})
        pipeline.produce(bootstrap, topic, sent)
        # The receiver answers nothing yet: every line is written anyway.
        lines = nt.wait_lines(path, len(sent))
        assert len(lines) == len(sent)
        assert outcome(svc, "retries_exhausted") == 0
        gate.set()

        dlq = pipeline.read_topic(bootstrap, topic + ".dlq", expect=len(sent), timeout=120)
        assert len(dlq) == len(sent)
        by_event = {l["event.id"]: l for l in lines}
        values = {k: v for k, v, _ in sent}
        for r in dlq:
            h = r.headers
            assert h["dlq.stage"] == "webhook"
            assert h["dlq.error.code"] == "webhook_retries_exhausted"
            assert h["dlq.error.message"] == "HTTP 503"
            assert h["dlq.attempts"] == "3"
            assert h["dlq.http.status"] == "503"
            assert h["dlq.source.topic"] == topic
            event_id = f"{topic}-{h['dlq.source.partition']}-{h['dlq.source.offset']}"
            assert h["dlq.event.id"] == event_id
            assert by_event[event_id]["order.id"] == r.key
            assert r.value == values[r.key]
            assert h["traceparent"] == nt.TRACEPARENT
        with hook.lock:
            assert all(n == 3 for n in hook.counts.values())
        wait_until(lambda: pipeline.metric_value(svc.metrics(), "notification_dlq_records_total")
                   == len(sent), 30, "DLQ metric")
        assert outcome(svc, "retries_exhausted") == len(sent)


def test_webhook_4xx_is_not_retried(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("wh-4xx")
    sent = records("r", 5)
    with nt.WebhookReceiver(lambda key, n: 422) as hook:
        svc = nt.start(services, bootstrap, topic, group, log_file=path,
                       extra={"NOTIFY_WEBHOOK_URL": hook.url, **FAST_RETRIES})
        pipeline.produce(bootstrap, topic, sent)
        dlq = pipeline.read_topic(bootstrap, topic + ".dlq", expect=len(sent), timeout=120)
        assert {r.headers["dlq.error.code"] for r in dlq} == {"webhook_rejected"}
        assert {r.headers["dlq.attempts"] for r in dlq} == {"1"}
        with hook.lock:
            assert sorted(hook.counts.values()) == [1] * len(sent)
        wait_until(lambda: outcome(svc, "rejected") == len(sent), 30, "metrics")


def test_sigterm_leaves_unfinished_webhooks_for_redelivery(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("wh-term")
    sent = records("s", 5)
    gate = threading.Event()
    with nt.WebhookReceiver(lambda key, n: 200, gate=gate) as hook:
        env = {"NOTIFY_WEBHOOK_URL": hook.url, **FAST_RETRIES, "NOTIFY_TIMEOUT_MS": 1000}
        svc = nt.start(services, bootstrap, topic, group, log_file=path, extra=env)
        pipeline.produce(bootstrap, topic, sent)
        nt.wait_lines(path, len(sent))
        wait_until(lambda: len(hook.counts) > 0, 30, "a webhook in flight")
        # Webhooks hang: SIGTERM still ends within the attempt timeout.
        assert svc.stop(timeout=30) == 0
        assert hook.delivered() == {}
        # The hung requests are answered now, to a client that gave up.
        gate.set()
        hook.phase = 2

        # Their offsets were not committed: the next run delivers them.
        svc2 = nt.start(services, bootstrap, topic, group, log_file=path, extra=env)
        event_ids = {l["event.id"] for l in nt.parse_lines(nt.read_lines(path))}
        assert len(event_ids) == len(sent)
        wait_until(lambda: set(hook.delivered(phase=2)) == event_ids, 120, "redelivery")
        assert svc2.stop() == 0


def test_full_webhook_queue_holds_back_reading_then_resumes_without_loss(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("wh-full")
    sent = records("q", 30)
    gate = threading.Event()
    with nt.WebhookReceiver(lambda key, n: 200, gate=gate) as hook:
        svc = nt.start(services, bootstrap, topic, group, log_file=path,
                       extra={"NOTIFY_WEBHOOK_URL": hook.url, **FAST_RETRIES,
                              "NOTIFY_TIMEOUT_MS": 60000, "NOTIFY_WORKERS": 1,
                              "NOTIFY_QUEUE_SIZE": 2})
        pipeline.produce(bootstrap, topic, sent)
        # One webhook hangs in the worker, two wait in the queue: the
        # consumer pauses instead of reading (and buffering) more.
        wait_until(lambda: len(hook.counts) == 1, 60, "the first webhook")
        wait_until(lambda: len(nt.read_lines(path)) >= 3, 60, "the queued lines")
        assert len(nt.read_lines(path)) < len(sent)
        assert pipeline.metric_value(svc.metrics(), "notification_lines_written_total") \
            == len(nt.read_lines(path))  # still answering while held back
        gate.set()

        lines = nt.wait_lines(path, len(sent))
        wait_until(lambda: len(hook.delivered()) == len(sent), 120, "every webhook")
        assert set(hook.delivered()) == {l["event.id"] for l in lines}
        assert len(lines) == len(sent)

