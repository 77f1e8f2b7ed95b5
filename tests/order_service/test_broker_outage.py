"""A private broker that is not up when the service starts, then goes away
and comes back: the service keeps running (healthz 200, readyz 503, POST 503
with Retry-After), creates its topic once the broker is there, publishes
none of what it refused, and takes orders again without being restarted."""
import requests
from confluent_kafka.admin import AdminClient

import orders
import pipeline


def readyz(svc):
    try:
        r = requests.get(svc.url + "/readyz", timeout=5)
        return r.status_code, r.json()
    except requests.RequestException:
        return None, None


def test_broker_outage_gives_503_then_recovers_by_itself(services):
    topic = pipeline.unique("orders-outage")
    with pipeline.Broker() as broker:
        broker.stop()  # started once only to learn its address
        svc = services("order_service", {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "ORDERS_TOPIC": topic,
            "TOPIC_PARTITIONS": 2, "DELIVERY_TIMEOUT_MS": 5000})
        assert requests.get(svc.url + "/healthz", timeout=5).status_code == 200
        status, body = readyz(svc)
        assert status == 503 and body["status"] == "not_ready", body
        resp = orders.post(svc.port, orders.order())
        assert resp.status == 503 and "retry-after" in resp.headers, resp
        # Bad input is still a 400, never a 5xx.
        assert orders.post(svc.port, "{").status == 400

        broker.start()
        svc.wait_ready(120)
        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic, timeout=10)
        assert len(md.topics[topic].partitions) == 2
        accepted, refused = [], []
        first = orders.order()
        resp = orders.post(svc.port, first)
        assert resp.status == 202, resp
        accepted.append(first["order_id"])

        broker.stop()
        pipeline.wait_until(lambda: readyz(svc)[0] == 503, 60, "/readyz 503")
        assert readyz(svc)[1] == {"status": "not_ready", "reason": "broker_unreachable"}
        for _ in range(5):
            o = orders.order()
            resp = orders.post(svc.port, o)
            assert resp.status == 503, resp
            assert int(resp.headers["retry-after"]) >= 1
            assert resp.json()["error"]["code"] == "broker_unreachable"
            refused.append(o["order_id"])
        assert requests.get(svc.url + "/healthz", timeout=5).status_code == 200

        broker.start()
        pipeline.wait_until(lambda: readyz(svc)[0] == 200, 120, "/readyz 200 again")

        def accepted_again():
            o = orders.order()
            resp = orders.post(svc.port, o)
            if resp.status == 202:
                accepted.append(o["order_id"])
                return True
            # Until the producer has reconnected: refused, or unknown.
            assert resp.status in (503, 504), resp
            if resp.status == 503:
                refused.append(o["order_id"])
            return False
        pipeline.wait_until(accepted_again, 120, "a 202 after the restart", interval=0.5)
        for _ in range(5):
            o = orders.order()
            resp = orders.post(svc.port, o)
            assert resp.status == 202, resp
            accepted.append(o["order_id"])

        records = pipeline.read_topic(broker.bootstrap, topic, expect=len(accepted),
                                      settle=2.0)
        keys = [r.key for r in records]
        assert set(accepted) <= set(keys)
        assert not set(refused) & set(keys)
        assert svc.stop() == 0
