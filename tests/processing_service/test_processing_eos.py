"""Exactly once, as a read_committed reader of notifications sees it: one
status per order, none missing, none twice, across kill -9 and restart,
rebalances between instances, SIGTERM, and an instance fenced by another
with the same transactional.id."""
import signal

import pipeline
import processing


def test_kill9_mid_stream_then_restart_exactly_once(bootstrap, services):
    t = processing.Topics("kill")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    ids = [f"k-{i:05d}" for i in range(10_000)]
    # The restart reuses the transactional.id: its init_transactions fences
    # the dead instance and aborts the transaction it left open.
    environ = t.environ(bootstrap, pipeline.unique("txn-kill"), TXN_MAX_RECORDS=200)
    first = services("processing_service", environ)
    processing.wait_assigned(first)
    stream = processing.Stream(bootstrap, t.orders, ids, chunk=200, pause=0.1).start()
    processing.wait_processed(first, 1500, 120)
    assert stream.sent < len(ids), "the stream ended before the kill: not mid-stream"
    assert first.kill() == -signal.SIGKILL

    services("processing_service", environ)
    stream.join()
    processing.assert_exactly_once(bootstrap, t.notifications, ids, timeout=240)

    # A read_uncommitted reader may also see what the killed instance had
    # written in its aborted transaction: never less than one per order.
    seen = pipeline.read_topic(bootstrap, t.notifications, "read_uncommitted",
                               expect=len(ids), timeout=60)
    assert len(seen) >= len(ids)
    print(f"read_uncommitted saw {len(seen)} records for {len(ids)} orders")


def test_rebalance_between_two_instances_mid_stream_exactly_once(bootstrap, services):
    t = processing.Topics("rebal")
    pipeline.create_topics(bootstrap, [t.orders], partitions=6)
    ids = [f"r-{i:05d}" for i in range(6_000)]
    a = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=200))
    processing.wait_assigned(a)
    stream = processing.Stream(bootstrap, t.orders, ids, chunk=150, pause=0.1).start()
    processing.wait_processed(a, 1000, 120)

    # A second instance joins: the group rebalances mid-stream.
    b = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=200))
    processing.wait_processed(b, 1, 120, "the second instance to take over partitions")
    # The first leaves (SIGTERM): another rebalance, and it exits cleanly.
    assert a.stop(signal.SIGTERM) == 0
    stream.join()
    processing.assert_exactly_once(bootstrap, t.notifications, ids, timeout=240)
    assert pipeline.metric_value(b.metrics(), "processing_rebalances_total") >= 2


def test_sigterm_commits_the_open_transaction_and_exits_0(bootstrap, services):
    t = processing.Topics("term")
    # A transaction that would stay open for minutes (TXN_MIN_MS: not
    # committed when the records are drained either): only SIGTERM ends it.
    svc = services("processing_service",
                   t.environ(bootstrap, TXN_MAX_MS=120_000, TXN_MIN_MS=120_000,
                             TXN_MAX_RECORDS=100_000))
    processing.wait_assigned(svc)
    ids = [f"t-{i}" for i in range(50)]
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in ids])

    def open_records():
        return pipeline.metric_value(svc.metrics(), "processing_transaction_open_records")
    pipeline.wait_until(lambda: open_records() == len(ids), 60,
                        "the 50 orders to be in the open transaction")
    # Not visible yet to read_committed readers: the transaction is open.
    assert pipeline.read_topic(bootstrap, t.notifications, timeout=3) == []

    assert svc.stop(signal.SIGTERM) == 0
    processing.assert_exactly_once(bootstrap, t.notifications, ids, timeout=60)


def test_fenced_instance_leaves_and_the_other_goes_on_exactly_once(bootstrap, services):
    t = processing.Topics("fence")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    same_id = pipeline.unique("txn-shared")
    first_ids = [f"f-{i:05d}" for i in range(3_000)]
    more_ids = [f"g-{i:05d}" for i in range(600)]
    a = services("processing_service", t.environ(bootstrap, same_id, TXN_MAX_RECORDS=100))
    processing.wait_assigned(a)
    stream = processing.Stream(bootstrap, t.orders, first_ids, chunk=100, pause=0.1).start()
    processing.wait_processed(a, 300, 120)

    # A misconfigured second instance with the same transactional.id: its
    # init_transactions fences the first, which must stop writing, leave
    # the group and exit (status 1), not fight back.
    b = services("processing_service", t.environ(bootstrap, same_id, TXN_MAX_RECORDS=100))
    processing.wait_assigned(b)
    stream.join()
    # Records on every partition, so the first meets its fencing for sure.
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in more_ids])
    pipeline.wait_until(lambda: a.proc.poll() is not None, 120, "the fenced instance to exit")
    assert a.proc.returncode == 1
    assert "fenced" in a.stderr_tail(200)
    processing.assert_exactly_once(bootstrap, t.notifications, first_ids + more_ids,
                                   timeout=240)
    assert b.proc.poll() is None
