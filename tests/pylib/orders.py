"""Helpers for the order_service tests: raw HTTP requests that no client
library normalises, and orders."""
import http.client
import json
import re
import uuid

import pipeline

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_MS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Response:
    def __init__(self, resp):
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self.body = resp.read()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:200]!r})"


def order(**fields):
    """A valid order body (a dict) with a unique order_id unless given."""
    body = {"order_id": "o-" + uuid.uuid4().hex[:12], "user_id": "user789",
            "item": "laptop", "quantity": 2}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def request(port, method, path, body=b"", headers=None, length=True,
            chunks=None, timeout=30):
    """Send one request exactly as given and read the first response.

    headers: list of (name, value), sent as they are. length: add a
    Content-Length for 'body' (False: none). chunks: a list of byte strings
    sent with Transfer-Encoding: chunked instead of 'body'."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{port}")
        for name, value in headers or []:
            conn.putheader(name, value)
        if chunks is not None:
            conn.putheader("Transfer-Encoding", "chunked")
            body = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
        elif length and (body or method in ("POST", "PUT")):
            conn.putheader("Content-Length", str(len(body)))
        try:
            conn.endheaders(body if body else None)
        except (BrokenPipeError, ConnectionResetError):
            # A server may answer (413) and close before it has read all
            # of an oversized body; its answer is still there to read.
            pass
        return Response(conn.getresponse())
    finally:
        conn.close()


JSON = [("Content-Type", "application/json")]


def post(port, body, headers=None, content_type="application/json", **kw):
    """POST /orders with a JSON body (a dict, str or bytes)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return request(port, "POST", "/orders", body,
                   [("Content-Type", content_type)] + list(headers or []), **kw)


def ready_service(prefix, partitions):
    """An order_service on a topic of its own with 'partitions', started and
    ready; yields it (s.topic is the topic) and asserts a clean exit. For
    module-scoped pytest fixtures."""
    topic = pipeline.unique(prefix)
    s = pipeline.Service("order_service", {
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka_bootstrap(),
        "ORDERS_TOPIC": topic, "TOPIC_PARTITIONS": partitions})
    s.topic = topic
    s.start()
    s.wait_ready(90)
    yield s
    assert s.stop() == 0
