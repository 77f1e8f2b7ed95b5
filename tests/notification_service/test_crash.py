"""kill -9 in the middle of a backlog, then a restart: every record has a
line, and a line written twice is the same line under the same event.id."""
import json
import time

import notification as nt
import pipeline
from pipeline import unique, wait_until

RECORDS = 5000


def test_kill_9_mid_stream_then_restart_loses_no_line(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("crash")
    pipeline.create_topics(bootstrap, [topic], partitions=3)
    pipeline.produce(bootstrap, topic,
                     [(f"c-{i}", nt.status_value(f"c-{i}", quantity=i % 100 + 1), [])
                      for i in range(RECORDS)])

    # The killed member stays in the group until its session times out:
    # keep that short (the broker's minimum) so the restart is assigned soon.
    quick = {"KAFKA_SESSION_TIMEOUT_MS": 6000}
    t0 = time.monotonic()
    svc = nt.start(services, bootstrap, topic, group, log_file=path, extra=quick)
    wait_until(lambda: len(nt.read_lines(path)) >= 300, 120, "the first lines", interval=0.005)
    svc.kill()
    at_kill = len(nt.read_lines(path))
    assert at_kill < RECORDS, "the backlog was done before the kill: nothing was tested"

    again = nt.start(services, bootstrap, topic, group, log_file=path, extra=quick)
    wanted = {f"c-{i}" for i in range(RECORDS)}
    wait_until(lambda: wanted <= {json.loads(l)["order.id"] for l in nt.read_lines(path)},
               240, "a line for every record", interval=0.5)
    print(f"restart done in {time.monotonic() - t0:.1f}s")
    assert again.stop() == 0

    raw = nt.read_lines(path)
    lines = nt.parse_lines(raw)  # a kill never leaves a torn line
    by_event = {}
    for text, line in zip(raw, lines):
        by_event.setdefault(line["event.id"], set()).add(text)
    # Written again after the crash: byte for byte the same line.
    assert all(len(texts) == 1 for texts in by_event.values()), \
        [t for t in by_event.values() if len(t) > 1][:2]
    order_to_event = {}
    for line in lines:
        order_to_event.setdefault(line["order.id"], set()).add(line["event.id"])
    assert set(order_to_event) == wanted
    assert all(len(ids) == 1 for ids in order_to_event.values())
    print(f"{at_kill} lines before the kill, {len(lines) - RECORDS} written twice")


def test_rebalance_to_a_second_instance_loses_no_line(bootstrap, services):
    topic, group, path = unique("notif"), unique("g"), nt.log_path("rebalance")
    quick = {"KAFKA_SESSION_TIMEOUT_MS": 6000}
    pipeline.create_topics(bootstrap, [topic], partitions=6)
    first = [(f"r-{i}", nt.status_value(f"r-{i}"), []) for i in range(3000)]
    second = [(f"r-{i}", nt.status_value(f"r-{i}"), []) for i in range(3000, 5000)]
    pipeline.produce(bootstrap, topic, first)

    a = nt.start(services, bootstrap, topic, group, log_file=path, extra=quick)
    wait_until(lambda: len(nt.read_lines(path)) >= 300, 120, "the first lines", interval=0.005)
    b = nt.start(services, bootstrap, topic, group, log_file=path, extra=quick)
    # Both members of the group: the partitions are split between them.
    wait_until(lambda: a.stderr_tail(400).count("partitions assigned") >= 2, 60,
               "the rebalance", interval=0.2)
    pipeline.produce(bootstrap, topic, second)

    wanted = {f"r-{i}" for i in range(5000)}
    wait_until(lambda: wanted <= {json.loads(l)["order.id"] for l in nt.read_lines(path)},
               240, "a line for every record", interval=0.5)
    assert a.stop() == 0 and b.stop() == 0
    assert a.stdout_lines() and b.stdout_lines(), "one instance did all the work"
    lines = nt.parse_lines(nt.read_lines(path))
    order_to_event = {}
    for line in lines:
        order_to_event.setdefault(line["order.id"], set()).add(line["event.id"])
    assert set(order_to_event) == wanted
    assert all(len(ids) == 1 for ids in order_to_event.values())
