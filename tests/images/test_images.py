"""The three images of docker/Dockerfile, as built by images.build, run for
real with Podman against the fixture's broker:

- each container runs as a non-root uid and `podman healthcheck run` passes;
- an order POSTed to the order container comes out as a line, with the
  status the rules give, in the NOTIFICATION_LOG_FILE that the notification
  container writes on a mounted volume: one confirmed, one over
  MAX_QUANTITY rejected;
- `podman stop` (SIGTERM) ends each container with exit 0 within 10 s;
- each runtime image's size is printed.

Host networking: the containers reach the broker on 127.0.0.1 and listen on
free ports of the host. Containers have names unique to the run and are
removed at the end, whatever happened.
"""
import os
import subprocess
import time

import pytest
import requests

import notification
import pipeline

SERVICES = ("order_service", "processing_service", "notification_service")
UID = 10001  # the Dockerfile's user "pipeline"
MAX_QUANTITY = 10
STOP_S = 10


def podman(*args, timeout=60, check=True):
    """podman with tests/images/containers.conf (podman.sh); returns stdout."""
    out = subprocess.run([pipeline.env("PIPELINE_PODMAN"), *args], capture_output=True,
                         text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and out.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {out.returncode}: {out.stderr}")
    return out.stdout.strip()


def image(svc):
    return f"localhost/order-pipeline/{svc}:{pipeline.env('PIPELINE_IMAGE_TAG')}"


@pytest.fixture
def containers(request):
    """run(svc, environ, volumes): a detached container of svc's image on the
    host network; every one is removed at the end, its logs printed first
    when the test failed."""
    started = []

    def run(svc, environ, volumes=()):
        name = pipeline.unique(f"pipeline-test-{svc.replace('_', '-')}")
        args = ["run", "-d", "--name", name, "--network", "host"]
        for key, value in environ.items():
            args += ["-e", f"{key}={value}"]
        for volume in volumes:
            args += ["-v", volume]
        started.append(name)
        podman(*args, image(svc), timeout=120)
        return name

    yield run
    for name in reversed(started):
        if getattr(request.node, "failed_call", False):
            print(f"----- {name} -----")
            # The services log on stderr, which podman logs keeps apart.
            print(subprocess.run([pipeline.env("PIPELINE_PODMAN"), "logs", "--tail", "60", name],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 timeout=30, stdin=subprocess.DEVNULL).stdout)
        podman("rm", "-f", "-t", "0", name, check=False, timeout=60)


def state(name, field):
    return podman("inspect", "--format", "{{" + field + "}}", name)


def process_uid(name):
    """The real uid of the container's main process, as the host sees it."""
    pid = state(name, ".State.Pid")
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError(f"no Uid in /proc/{pid}/status")


def wait_healthy(name, timeout=90):
    """Polls `podman healthcheck run` (the image's HEALTHCHECK, curl /healthz
    inside the container) until it passes; fails early if the container exits."""
    def healthy():
        if state(name, ".State.Status") != "running":
            raise AssertionError(f"{name} is {state(name, '.State.Status')}, "
                                 f"exit {state(name, '.State.ExitCode')}")
        # Exit 0 when the check passed (Podman 4.3 prints nothing, later ones "healthy").
        return subprocess.run([pipeline.env("PIPELINE_PODMAN"), "healthcheck", "run", name],
                              capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL).returncode == 0
    pipeline.wait_until(healthy, timeout, f"{name} healthy", interval=0.5)


def ready(port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def post_order(port, order):
    r = requests.post(f"http://127.0.0.1:{port}/orders", json=order, timeout=15)
    assert r.status_code == 202, r.text
    return r.json()["order_id"]


def report(capsys, text):
    """A figure for the ctest log (LastTest.log, ctest -V), even on success."""
    with capsys.disabled():
        print(text, flush=True)


def test_images_carry_orders_and_stop_cleanly(containers, bootstrap, tmp_path_factory, capsys):
    for svc in SERVICES:
        size = int(podman("image", "inspect", "--format", "{{.Size}}", image(svc)))
        report(capsys, f"image {image(svc)}: {size / 1e6:.1f} MB")

    topics = {"ORDERS_TOPIC": pipeline.unique("img-orders"),
              "NOTIFICATIONS_TOPIC": pipeline.unique("img-notifications")}
    common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "TOPIC_PARTITIONS": 3,
              "LOG_LEVEL": "info", **topics}
    ports = {svc: pipeline.free_port() for svc in SERVICES}
    # The volume is written by uid 10001 inside the container.
    logs = str(tmp_path_factory.mktemp("notification-logs"))
    os.chmod(logs, 0o777)
    line_file = os.path.join(logs, "notifications.ndjson")

    names = {
        "notification_service": containers("notification_service", {
            **common, "HTTP_PORT": ports["notification_service"],
            "KAFKA_GROUP_ID": pipeline.unique("img-notify"),
            "NOTIFICATION_LOG_FILE": "/var/log/pipeline/notifications.ndjson"},
            volumes=[f"{logs}:/var/log/pipeline"]),
        "processing_service": containers("processing_service", {
            **common, "HTTP_PORT": ports["processing_service"],
            "KAFKA_GROUP_ID": pipeline.unique("img-process"),
            "TRANSACTIONAL_ID": pipeline.unique("img-process"),
            "MAX_QUANTITY": MAX_QUANTITY}),
        "order_service": containers("order_service", {
            **common, "HTTP_PORT": ports["order_service"]}),
    }
    for svc, name in names.items():
        wait_healthy(name)
        uid = process_uid(name)
        assert uid == UID, f"{svc} runs as uid {uid}, not the image's non-root {UID}"
    for svc in SERVICES:  # healthy is alive; ready is the broker and topics there
        pipeline.wait_until(lambda: ready(ports[svc]), 90, f"{svc} /readyz", interval=0.2)

    confirmed = post_order(ports["order_service"], {
        "order_id": pipeline.unique("img-ok"), "user_id": "u1", "item": "laptop",
        "quantity": MAX_QUANTITY})
    rejected = post_order(ports["order_service"], {
        "order_id": pipeline.unique("img-big"), "user_id": "u2", "item": "laptop",
        "quantity": MAX_QUANTITY + 1})
    lines = notification.wait_lines(line_file, 2, timeout=120)
    by_id = {line.get("order.id"): line for line in lines}
    assert by_id[confirmed]["order.status"] == "confirmed", lines
    assert by_id[rejected]["order.status"] == "rejected", lines
    assert by_id[rejected]["order.reason"] == "quantity_limit", lines

    for svc in SERVICES:  # upstream first, as a rolling stop would
        started = time.monotonic()
        podman("stop", "-t", str(STOP_S), names[svc], timeout=STOP_S + 30)
        took = time.monotonic() - started
        code = int(state(names[svc], ".State.ExitCode"))
        report(capsys, f"{svc}: podman stop took {took:.1f}s, exit {code}")
        assert code == 0, f"{svc} exited {code} on SIGTERM"
        assert took < STOP_S, f"{svc} took {took:.1f}s to stop"
