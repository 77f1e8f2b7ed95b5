"""Every bad request gets the right 4xx JSON error (status, code, field), over
raw sockets so that nothing normalises it, and none of them reaches the
topic."""
import http.client
import json

import pytest

import orders
import pipeline

V = '"user_id":"u","item":"i","quantity":1'  # the valid rest of a body
LONG_DEPTH = b"[" * 10000 + b"]" * 10000


def body(s):
    return s.encode() if isinstance(s, str) else s


# (name, body bytes, status, code, field) for POST /orders with JSON headers.
BODIES = [
    # broken and truncated JSON
    ("broken", '{"user_id":', 400, "invalid_json", None),
    ("truncated", '{' + V, 400, "invalid_json", None),
    ("truncated_string", '{"user_id":"u', 400, "invalid_json", None),
    ("empty", "", 400, "invalid_json", None),
    ("blank", "   \n", 400, "invalid_json", None),
    ("single_quotes", "{'user_id':'u','item':'i','quantity':1}", 400, "invalid_json", None),
    ("trailing_data", "{" + V + "} x", 400, "invalid_json", None),
    ("two_documents", "{" + V + "}{" + V + "}", 400, "invalid_json", None),
    ("byte_order_mark", b"\xef\xbb\xbf{" + V.encode() + b"}", 400, "invalid_json", None),
    ("invalid_utf8_in_key", b'{"us\xffer":"u","item":"i","quantity":1}', 400, "invalid_json", None),
    # not an object
    ("null", "null", 400, "invalid_type", None),
    ("array", "[{" + V + "}]", 400, "invalid_type", None),
    ("string", '"order"', 400, "invalid_type", None),
    ("number", "42", 400, "invalid_type", None),
    # deep nesting
    ("deep_nesting_in_field", '{"user_id":' + "[" * 100 + "]" * 100 + ',"item":"i","quantity":1}',
     400, "invalid_json", None),
    ("very_deep_nesting", LONG_DEPTH, 400, "invalid_json", None),
    # wrong types, floats, exponents, huge numbers
    ("quantity_string", '{"user_id":"u","item":"i","quantity":"2"}', 400, "invalid_type", "quantity"),
    ("quantity_bool", '{"user_id":"u","item":"i","quantity":true}', 400, "invalid_type", "quantity"),
    ("quantity_null", '{"user_id":"u","item":"i","quantity":null}', 400, "invalid_type", "quantity"),
    ("quantity_array", '{"user_id":"u","item":"i","quantity":[1]}', 400, "invalid_type", "quantity"),
    ("quantity_float", '{"user_id":"u","item":"i","quantity":2.5}', 400, "invalid_type", "quantity"),
    ("quantity_integral_float", '{"user_id":"u","item":"i","quantity":2.0}', 400, "invalid_type", "quantity"),
    ("quantity_exponent", '{"user_id":"u","item":"i","quantity":1e2}', 400, "invalid_type", "quantity"),
    ("quantity_upper_exponent", '{"user_id":"u","item":"i","quantity":1E2}', 400, "invalid_type", "quantity"),
    ("quantity_huge", '{"user_id":"u","item":"i","quantity":99999999999999999999999}', 400, "invalid_value", "quantity"),
    ("quantity_over_max", '{"user_id":"u","item":"i","quantity":1000001}', 400, "invalid_value", "quantity"),
    ("quantity_zero", '{"user_id":"u","item":"i","quantity":0}', 400, "invalid_value", "quantity"),
    ("quantity_negative", '{"user_id":"u","item":"i","quantity":-1}', 400, "invalid_value", "quantity"),
    ("user_id_number", '{"user_id":123,"item":"i","quantity":1}', 400, "invalid_type", "user_id"),
    ("user_id_object", '{"user_id":{"a":1},"item":"i","quantity":1}', 400, "invalid_type", "user_id"),
    ("item_array", '{"user_id":"u","item":["i"],"quantity":1}', 400, "invalid_type", "item"),
    ("order_id_number", '{"order_id":5,' + V + "}", 400, "invalid_type", "order_id"),
    # overlong and empty strings
    ("user_id_empty", '{"user_id":"","item":"i","quantity":1}', 400, "invalid_value", "user_id"),
    ("user_id_overlong", '{"user_id":"' + "u" * 65 + '","item":"i","quantity":1}', 400, "invalid_value", "user_id"),
    ("item_empty", '{"user_id":"u","item":"","quantity":1}', 400, "invalid_value", "item"),
    ("item_overlong", '{"user_id":"u","item":"' + "é" * 129 + '","quantity":1}', 400, "invalid_value", "item"),
    ("order_id_empty", '{"order_id":"",' + V + "}", 400, "invalid_value", "order_id"),
    ("order_id_overlong", '{"order_id":"' + "a" * 65 + '",' + V + "}", 400, "invalid_value", "order_id"),
    ("order_id_bad_chars", '{"order_id":"a b/c",' + V + "}", 400, "invalid_value", "order_id"),
    # control characters and invalid UTF-8
    ("item_raw_control", b'{"user_id":"u","item":"a\x01b","quantity":1}', 400, "invalid_value", "item"),
    ("item_escaped_nul", '{"user_id":"u","item":"a\\u0000b","quantity":1}', 400, "invalid_value", "item"),
    ("item_c1_control", '{"user_id":"u","item":"a\\u0085b","quantity":1}', 400, "invalid_value", "item"),
    ("user_id_newline", '{"user_id":"u\\nv","item":"i","quantity":1}', 400, "invalid_value", "user_id"),
    ("item_invalid_utf8", b'{"user_id":"u","item":"a\xffb","quantity":1}', 400, "invalid_value", "item"),
    ("item_overlong_utf8", b'{"user_id":"u","item":"a\xc0\xafb","quantity":1}', 400, "invalid_value", "item"),
    ("item_lone_surrogate", '{"user_id":"u","item":"a\\ud800b","quantity":1}', 400, "invalid_value", "item"),
    # missing, unknown and duplicate fields
    ("blank_user_id", '{"user_id":"  ","item":"i","quantity":1}', 400, "invalid_value", "user_id"),
    ("blank_item", '{"user_id":"u","item":" \\u00a0 ","quantity":1}', 400, "invalid_value", "item"),
    ("missing_user_id", '{"item":"i","quantity":1}', 400, "missing_field", "user_id"),
    ("missing_quantity", '{"user_id":"u","item":"i"}', 400, "missing_field", "quantity"),
    ("empty_object", "{}", 400, "missing_field", "user_id"),
    ("unknown_field", "{" + V + ',"colour":"red"}', 400, "unknown_field", "colour"),
    ("field_wrong_case", '{"user_id":"u","item":"i","Quantity":1}', 400, "unknown_field", "Quantity"),
    ("created_at_from_client", "{" + V + ',"created_at":"2026-01-01T00:00:00.000Z"}', 400, "unknown_field", "created_at"),
    ("duplicate_quantity", "{" + V + ',"quantity":2}', 400, "duplicate_field", "quantity"),
    ("duplicate_user_id", '{"user_id":"u","user_id":"v","item":"i","quantity":1}', 400, "duplicate_field", "user_id"),
]

GOOD = json.dumps(orders.order()).encode()
BIG = b'{"user_id":"u","item":"i","quantity":1,"pad":"' + b"x" * 70000 + b'"}'

# (name, request kwargs for orders.request, status, code, Allow header)
REQUESTS = [
    ("get", dict(method="GET", path="/orders"), 405, "method_not_allowed", "POST"),
    ("put", dict(method="PUT", path="/orders", body=GOOD, headers=orders.JSON), 405, "method_not_allowed", "POST"),
    ("delete", dict(method="DELETE", path="/orders"), 405, "method_not_allowed", "POST"),
    ("patch", dict(method="PATCH", path="/orders", body=GOOD, headers=orders.JSON), 405, "method_not_allowed", "POST"),
    ("options_preflight", dict(method="OPTIONS", path="/orders",
                               headers=[("Origin", "http://elsewhere.example"),
                                        ("Access-Control-Request-Method", "POST")]),
     405, "method_not_allowed", "POST"),
    ("post_healthz", dict(method="POST", path="/healthz", body=GOOD, headers=orders.JSON), 405, "method_not_allowed", "GET"),
    ("post_sub_path", dict(method="POST", path="/orders/123", body=GOOD, headers=orders.JSON), 405, "method_not_allowed", "GET"),
    ("post_other_path", dict(method="POST", path="/order", body=GOOD, headers=orders.JSON), 404, "not_found", None),
    ("no_content_type", dict(method="POST", path="/orders", body=GOOD), 415, "unsupported_media_type", None),
    ("text_plain", dict(method="POST", path="/orders", body=GOOD, headers=[("Content-Type", "text/plain")]),
     415, "unsupported_media_type", None),
    ("form", dict(method="POST", path="/orders", body=GOOD,
                  headers=[("Content-Type", "application/x-www-form-urlencoded")]), 415, "unsupported_media_type", None),
    ("json_latin1", dict(method="POST", path="/orders", body=GOOD,
                         headers=[("Content-Type", "application/json; charset=iso-8859-1")]),
     415, "unsupported_media_type", None),
    ("json_lookalike", dict(method="POST", path="/orders", body=GOOD,
                            headers=[("Content-Type", "application/jsonp")]), 415, "unsupported_media_type", None),
    ("missing_length", dict(method="POST", path="/orders", body=GOOD, headers=orders.JSON, length=False),
     411, "length_required", None),
    ("oversized", dict(method="POST", path="/orders", body=BIG, headers=orders.JSON), 413, "payload_too_large", None),
    ("oversized_length_only", dict(method="POST", path="/orders",
                                   headers=orders.JSON + [("Content-Length", str(10**12))], length=False),
     413, "payload_too_large", None),
    ("oversized_chunked", dict(method="POST", path="/orders", headers=orders.JSON, chunks=[BIG]),
     413, "payload_too_large", None),
    ("oversized_chunked_small_chunks", dict(method="POST", path="/orders", headers=orders.JSON,
                                            chunks=[b" " * 1000] * 70 + [GOOD]),
     413, "payload_too_large", None),
    ("length_and_chunked", dict(method="POST", path="/orders",
                                headers=orders.JSON + [("Content-Length", str(len(GOOD)) )],
                                length=False, chunks=[GOOD]),
     400, "invalid_framing", None),
    ("chunked_bad_json", dict(method="POST", path="/orders", headers=orders.JSON, chunks=[b'{"user_id":', b'"u"']),
     400, "invalid_json", None),
]


@pytest.fixture(scope="module")
def svc():
    yield from orders.ready_service("orders-bad", 2)


def check_error(resp, status, code, field=None):
    assert resp.status == status, resp
    assert resp.headers.get("content-type") == "application/json", resp.headers
    err = resp.json()["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    if field is None:
        assert "field" not in err, err
    else:
        assert err["field"] == field, err


def test_413_readable_by_a_client_still_sending_its_body(svc):
    """Python's http.client sends the whole body before it reads: the 413
    must wait for it (read and dropped) rather than reset the connection."""
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
    try:
        conn.request("POST", "/orders", body=b" " * (1 << 20),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 413
        assert json.loads(resp.read())["error"]["code"] == "payload_too_large"
    finally:
        conn.close()


@pytest.mark.parametrize("name,raw,status,code,field", BODIES, ids=[c[0] for c in BODIES])
def test_bad_body_gets_400_naming_the_field(svc, name, raw, status, code, field):
    check_error(orders.post(svc.port, body(raw)), status, code, field)


@pytest.mark.parametrize("name,kw,status,code,allow", REQUESTS, ids=[c[0] for c in REQUESTS])
def test_bad_request_gets_the_right_4xx(svc, name, kw, status, code, allow):
    kw = dict(kw)
    resp = orders.request(svc.port, kw.pop("method"), kw.pop("path"), **kw)
    check_error(resp, status, code)
    if allow:
        assert resp.headers.get("allow") == allow
    # No wildcard CORS, not even on a preflight.
    assert "access-control-allow-origin" not in resp.headers


def test_zz_nothing_refused_reached_the_topic(svc):
    """Runs after the others in this file (pytest keeps file order)."""
    assert len(BODIES) + len(REQUESTS) >= 40
    records = pipeline.read_topic(pipeline.kafka_bootstrap(), svc.topic, settle=3.0)
    assert records == [], records
    # ...and the service is still fine: a good order goes through.
    resp = orders.post(svc.port, orders.order())
    assert resp.status == 202, resp
    metrics = svc.metrics()
    assert pipeline.metric_value(metrics, "http_requests_total",
                                 {"route": "/orders", "code": "400"}) >= len(BODIES)
