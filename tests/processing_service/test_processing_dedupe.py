"""Exactly one status per order_id within DEDUPE_RETENTION (CONTRACT.md):
the same order posted again gets no second status, across kill -9 and
restart, and while two instances rebalance; an order_id reused for another
order goes to <orders>.dlq with dlq.error.code duplicate_order_id. The
store lives in memory, so every start restores it from the changelog
topic: the restart tests are the "local store lost" case."""
import signal

import pipeline
import processing


def duplicates(svc, result="ignored"):
    return pipeline.metric_value(svc.metrics(), "processing_duplicates_total",
                                 {"result": result}) or 0


def test_same_order_three_times_gives_one_status(bootstrap, services):
    t = processing.Topics("dd3")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    svc = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=2))
    ids = [f"d3-{i}" for i in range(20)]
    # Three posts of each order: in one transaction, and in later ones.
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in ids * 2])
    processing.wait_processed(svc, 2 * len(ids), 120)
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in ids])
    processing.wait_processed(svc, 3 * len(ids), 120)
    processing.assert_exactly_once(bootstrap, t.notifications, ids)
    assert duplicates(svc) == 2 * len(ids)
    assert pipeline.read_topic(bootstrap, t.dlq, timeout=3) == []


def test_reused_order_id_goes_to_the_dlq_without_a_status(bootstrap, services):
    t = processing.Topics("ddc")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    svc = services("processing_service", t.environ(bootstrap))
    pipeline.produce(bootstrap, t.orders, [processing.order_record("c-1", quantity=1)])
    processing.wait_processed(svc, 1, 120)
    reuse = processing.order_record("c-1", quantity=2)
    pipeline.produce(bootstrap, t.orders, [reuse])
    processing.wait_processed(svc, 2, 120)

    [status] = processing.assert_exactly_once(bootstrap, t.notifications, ["c-1"])
    assert status.json()["quantity"] == 1
    [dead] = pipeline.read_topic(bootstrap, t.dlq, expect=1, timeout=60, settle=0.5)
    assert dead.key == "c-1" and dead.value == reuse[1]
    assert dead.headers["dlq.error.code"] == "duplicate_order_id"
    assert dead.headers["dlq.error.field"] == "order_id"
    assert dead.headers["dlq.stage"] == "dedupe"
    assert dead.headers["dlq.service"] == "processing_service"
    assert dead.headers["dlq.source.topic"] == t.orders
    assert duplicates(svc, "dead_lettered") == 1
    assert duplicates(svc) == 0


def test_kill9_after_commit_then_the_same_orders_again_one_status(bootstrap, services):
    t = processing.Topics("ddk")
    pipeline.create_topics(bootstrap, [t.orders], partitions=3)
    environ = t.environ(bootstrap, pipeline.unique("txn-ddk"))
    first = services("processing_service", environ)
    ids = [f"k-{i:04d}" for i in range(300)]
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in ids])
    processing.wait_processed(first, len(ids), 120)  # committed
    assert first.kill() == -signal.SIGKILL

    # A new instance: its store is empty until restored from the changelog.
    second = services("processing_service", environ)
    pipeline.produce(bootstrap, t.orders, [processing.order_record(i) for i in ids])
    processing.wait_processed(second, len(ids), 120)
    processing.assert_exactly_once(bootstrap, t.notifications, ids)
    assert duplicates(second) == len(ids)
    assert pipeline.metric_value(second.metrics(),
                                 "processing_dedupe_restored_total") == len(ids)


def test_two_instances_rebalancing_while_duplicates_flow_one_status_each(bootstrap,
                                                                         services):
    t = processing.Topics("ddr")
    pipeline.create_topics(bootstrap, [t.orders], partitions=6)
    ids = [f"r-{i:05d}" for i in range(3_000)]
    # Every order twice: the second copy 300 orders later, often in another
    # transaction, sometimes on the other side of a rebalance.
    posts = [ids[i // 2 - (150 if i % 2 else 0)] for i in range(300, 2 * len(ids))]
    posts = ids[:150] + posts + ids[-150:]
    a = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=100))
    processing.wait_assigned(a)
    stream = processing.Stream(bootstrap, t.orders, posts, chunk=150, pause=0.1).start()
    processing.wait_processed(a, 1000, 120)

    b = services("processing_service", t.environ(bootstrap, TXN_MAX_RECORDS=100))
    processing.wait_processed(b, 1, 120, "the second instance to take over partitions")
    assert a.stop(signal.SIGTERM) == 0
    stream.join()
    processing.assert_exactly_once(bootstrap, t.notifications, ids, timeout=240)
    assert pipeline.read_topic(bootstrap, t.dlq, timeout=3) == []
