"""A broker restart under notification_service (its own private broker):
the consumer and the idempotent DLQ producer come back, no line and no
DLQ record is lost."""
import time

import notification as nt
import pipeline
from pipeline import unique, wait_until


def batch(prefix, n):
    """n records, every fifth one not a status (so the DLQ is used)."""
    return [(f"{prefix}-{i}",
             b"not a status" if i % 5 == 0 else nt.status_value(f"{prefix}-{i}"), [])
            for i in range(n)]


def test_broker_restart_loses_no_line_and_no_dlq_record(services):
    with pipeline.Broker() as broker:
        topic, group, path = unique("notif"), unique("g"), nt.log_path("restart")
        svc = nt.start(services, broker.bootstrap, topic, group, log_file=path)
        before, after = batch("a", 50), batch("b", 50)
        pipeline.produce(broker.bootstrap, topic, before)
        nt.wait_lines(path, len(before))

        broker.stop()
        broker.start()  # same state, same port
        pipeline.produce(broker.bootstrap, topic, after)

        keys = {k for k, _, _ in before + after}
        wait_until(lambda: keys <= {l.get("order.id") or l.get("kafka.key")
                                    for l in nt.parse_lines(nt.read_lines(path))},
                   180, "a line for every record", interval=0.5)
        dlq = pipeline.read_topic(broker.bootstrap, topic + ".dlq", expect=20, timeout=180)
        assert {r.key for r in dlq} == {k for k, v, _ in before + after if v == b"not a status"}
        assert svc.stop() == 0


def test_sigterm_with_the_broker_gone_exits_in_bounded_time(services):
    with pipeline.Broker() as broker:
        topic, group, path = unique("notif"), unique("g"), nt.log_path("gone")
        # Without its coordinator, librdkafka's consumer ends only once its
        # session times out: keep that short here (45 s by default).
        svc = nt.start(services, broker.bootstrap, topic, group, log_file=path,
                       extra={"KAFKA_SESSION_TIMEOUT_MS": 6000})
        pipeline.produce(broker.bootstrap, topic, batch("g", 10))
        nt.wait_lines(path, 10)
        broker.kill()
        start = time.monotonic()
        # Nothing can be committed or left: it says so and exits anyway
        # (librdkafka's consumer close alone would wait for the broker).
        assert svc.stop(timeout=30) == 0
        assert "broker unreachable" in svc.stderr_tail(50)
        print(f"exited {time.monotonic() - start:.1f}s after SIGTERM")
