"""order_service over HTTPS with API keys: POST /orders needs a Bearer key
(401 with WWW-Authenticate and the JSON error otherwise), the key's name is
counted in /metrics and no key shows anywhere; /healthz, /readyz and
/metrics stay open; the certificate and key are two PEM files made here."""
import json
import os
import subprocess

import pytest
import requests

import orders
import pipeline
from pipeline import unique

ALICE = "alice-" + os.urandom(12).hex()
BOB = "bob-" + os.urandom(12).hex()


def make_tls(directory):
    """A CA and a server certificate for 127.0.0.1; returns (ca, cert, key)."""
    ca, ca_key = f"{directory}/ca.pem", f"{directory}/ca.key"
    cert, key, csr = f"{directory}/server.pem", f"{directory}/server.key", f"{directory}/server.csr"
    ext = f"{directory}/san.ext"
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", ca_key, "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-days", "2", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-extfile", ext, "-out", cert)
    return ca, cert, key


@pytest.fixture(scope="module")
def svc():
    directory = pipeline.state_dir("tls", unique("order"))
    ca, cert, key = make_tls(directory)
    keys = os.path.join(directory, "api_keys")
    with open(keys, "w") as f:
        f.write(f"# name:key\nalice:{ALICE}\nbob:{BOB}\n")
    s = pipeline.Service("order_service", {
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka_bootstrap(),
        "ORDERS_TOPIC": unique("orders-auth"), "TOPIC_PARTITIONS": 1,
        "ORDER_API_KEYS_FILE": keys, "HTTP_TLS_CERT_FILE": cert, "HTTP_TLS_KEY_FILE": key,
        "LOG_LEVEL": "debug"}, tls_ca=ca)
    s.start()
    s.wait_ready(90)
    yield s
    assert s.stop() == 0


def post(svc, key=None, header=None, body=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if header:
        headers["Authorization"] = header
    return requests.post(svc.url + "/orders", data=json.dumps(body or orders.order()),
                         headers=headers, verify=svc.tls_ca, timeout=30)


def check_401(resp, invalid):
    assert resp.status_code == 401, resp.text
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    assert ('error="invalid_token"' in challenge) == invalid
    assert resp.json()["error"]["code"] == "unauthorized"


def test_health_readiness_metrics_need_no_key(svc):
    assert svc.url.startswith("https://")
    for path in ("/healthz", "/readyz", "/metrics"):
        assert svc.get(path).status_code == 200, path


def test_no_or_wrong_key_is_401(svc):
    check_401(post(svc), invalid=False)
    check_401(post(svc, key=BOB + "x"), invalid=True)
    check_401(post(svc, key=BOB[:-1]), invalid=True)
    check_401(post(svc, key="alice"), invalid=True)         # a name is no key
    check_401(post(svc, header=f"Basic {ALICE}"), invalid=True)


def test_a_valid_key_places_the_order_and_is_counted_by_name(svc):
    before = pipeline.metric_value(svc.metrics(), "order_api_key_requests_total",
                                   {"key": "alice"})
    for _ in range(3):
        resp = post(svc, key=ALICE)
        assert resp.status_code == 202, resp.text
    assert post(svc, key=BOB).status_code == 202
    metrics = svc.metrics()
    assert pipeline.metric_value(metrics, "order_api_key_requests_total",
                                 {"key": "alice"}) == before + 3
    assert pipeline.metric_value(metrics, "order_api_unauthorized_total",
                                 {"reason": "invalid"}) >= 1
    assert ALICE not in metrics and BOB not in metrics


def test_plain_http_gets_no_answer(svc):
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{svc.port}/healthz", timeout=5)


def test_zz_no_key_in_any_log_line(svc):
    with open(svc.stderr_path, "rb") as f:
        err = f.read()
    with open(svc.stdout_path, "rb") as f:
        out = f.read()
    assert b'"api_key.name":"alice"' in err, "the key's name is logged"
    for key in (ALICE, BOB):
        assert key.encode() not in err + out


def test_bad_tls_or_key_settings_are_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "keys"
    bad.write_text(f"alice:{ALICE}\nalice:{BOB}\n")
    for environ, words in (
            ({"ORDER_API_KEYS_FILE": str(bad)}, "ORDER_API_KEYS: entry 2: the name 'alice' is used twice"),
            ({"ORDER_API_KEYS_FILE": str(tmp_path / "none")}, "ORDER_API_KEYS_FILE: cannot open"),
            ({"HTTP_TLS_CERT_FILE": str(bad)}, "HTTP_TLS_KEY_FILE: not set"),
            ({"HTTP_TLS_CERT_FILE": str(bad), "HTTP_TLS_KEY_FILE": str(tmp_path / "none")},
             "HTTP_TLS_KEY_FILE: cannot read")):
        r = pipeline.run_service("order_service", environ=dict(
            environ, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1"))
        assert r.returncode == 2, r.stderr
        assert words in r.stderr, r.stderr
        assert ALICE not in r.stderr and BOB not in r.stderr
