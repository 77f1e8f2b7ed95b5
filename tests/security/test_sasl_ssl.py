"""The three services end to end over a broker that asks for TLS and
SCRAM-SHA-512 (the kafka_sasl fixture), configured only through KAFKA_*
variables, the user and password read from files (KAFKA_SASL_USERNAME_FILE,
KAFKA_SASL_PASSWORD_FILE, as the Kubernetes manifests mount them). The
password never shows in a log line, in librdkafka's configuration dump or in
/metrics; a wrong one is readiness false and one error line."""
import json
import os

import requests

import notification as nt
import orders
import pipeline
from pipeline import unique, wait_until


def sasl_state():
    return pipeline.env("PIPELINE_KAFKA_SASL_STATE_DIR")


def read(*parts):
    with open(os.path.join(sasl_state(), *parts)) as f:
        return f.read().strip()


def secret_file(name, value):
    """A file as a secrets volume holds it: the value and a newline."""
    path = os.path.join(pipeline.state_dir("secrets"), unique(name))
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def kafka_env(password):
    """Everything a service needs to reach the SASL_SSL listener. Debug
    logs, librdkafka's configuration dump included, so that a leak would
    show."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": read("bootstrap_sasl"),
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME_FILE": secret_file("user", read("sasl", "username")),
        "KAFKA_SASL_PASSWORD_FILE": secret_file("password", password),
        "KAFKA_SSL_CA_LOCATION": os.path.join(sasl_state(), "tls", "ca.pem"),
        "KAFKA_DEBUG": "conf,security",
        "TOPIC_PARTITIONS": 3,
        "LOG_LEVEL": "debug",
    }


def all_output(svc):
    with open(svc.stdout_path, "rb") as f:
        out = f.read()
    with open(svc.stderr_path, "rb") as f:
        return out + f.read()


def test_pipeline_end_to_end_over_sasl_ssl(services):
    password = read("sasl", "password")
    orders_topic, notif_topic = unique("sasl-orders"), unique("sasl-notif")
    log_file = nt.log_path("sasl")
    common = dict(kafka_env(password), ORDERS_TOPIC=orders_topic,
                  NOTIFICATIONS_TOPIC=notif_topic)
    started = [
        services("order_service", common),
        services("processing_service", dict(common, KAFKA_GROUP_ID=unique("g"))),
        services("notification_service", dict(
            common, KAFKA_GROUP_ID=unique("g"), NOTIFICATION_LOG_FILE=log_file,
            NOTIFY_COMMIT_INTERVAL_MS=200)),
    ]
    for svc in started:
        svc.wait_ready(120)

    ids = []
    for _ in range(5):
        body = orders.order()
        resp = orders.post(started[0].port, body)
        assert resp.status == 202, resp
        ids.append(body["order_id"])
    lines = nt.wait_lines(log_file, len(ids))
    assert sorted(line["order.id"] for line in lines) == sorted(ids)
    assert all(line["order.status"] == "confirmed" for line in lines)

    for svc in started:
        text = svc.metrics()
        assert password not in text, f"{svc.name} /metrics shows the password"
    for svc in started:
        assert svc.stop() == 0
        out = all_output(svc)
        assert password.encode() not in out, f"{svc.name} logged the password"
    # The debug run did dump the configuration, with the password redacted.
    assert b"sasl.password" in all_output(started[0])


def test_wrong_password_is_not_ready_and_one_error_line(services):
    password = read("sasl", "password")
    wrong = "not-" + password
    svc = services("order_service", dict(kafka_env(wrong),
                                         ORDERS_TOPIC=unique("sasl-wrong")))

    def auth_lines(level):
        return [json.loads(line) for line in all_output(svc).splitlines()
                if line.startswith(b"{") and f'"log.level":"{level}"'.encode() in line
                and b"authentication" in line.lower()]
    wait_until(lambda: auth_lines("error"), 60, "the authentication error line")
    # librdkafka retries with a backoff of up to 10 s, every client on its
    # own: wait until the repeats have come (at debug), and still one line.
    wait_until(lambda: len(auth_lines("debug")) >= 3, 90, "repeated authentication failures")
    assert requests.get(svc.url + "/readyz", timeout=5).status_code == 503
    assert requests.get(svc.url + "/healthz", timeout=5).status_code == 200
    assert svc.proc.poll() is None, "the service exited"
    errors = auth_lines("error")
    assert len(errors) == 1, errors
    assert "KAFKA_SASL_PASSWORD" in errors[0]["message"]
    assert "invalid credentials" in errors[0]["error.message"]
    assert orders.post(svc.port, orders.order()).status == 503
    assert svc.stop() == 0
    out = all_output(svc)
    assert wrong.encode() not in out and password.encode() not in out
