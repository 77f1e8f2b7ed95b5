"""notification_service's ECS lines in a real Elasticsearch 8, with the index
template of elk/: the contract's fields get their types, a line sent twice is
one document (its id comes from event.id, as Filebeat's fingerprint of it
does in the stack), and an order is found by order.id.

Elasticsearch is its integration-test distribution from Maven Central, of
the version the stack runs (ELASTIC_VERSION in docker/compose.env), cached
in the build tree, run on 127.0.0.1 with Java from Debian, security off."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile

import pytest
import requests

import pipeline

SRC = pipeline.env("PIPELINE_SOURCE_DIR")


def elastic_version():
    with open(os.path.join(SRC, "docker", "compose.env")) as f:
        return re.search(r"^ELASTIC_VERSION=(\S+)$", f.read(), re.M).group(1)


def fetch(version):
    """The unpacked distribution, fetched and unpacked once per build tree."""
    dist = os.path.join(pipeline.env("PIPELINE_BUILD_DIR"), "es-dist")
    home = os.path.join(dist, f"elasticsearch-{version}")
    if os.path.exists(os.path.join(home, ".complete")):
        return home
    shutil.rmtree(dist, ignore_errors=True)
    os.makedirs(dist)
    subprocess.run(["mvn", "-q", "-B", "dependency:copy",
                    f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip",
                    f"-DoutputDirectory={dist}"], check=True, timeout=600,
                   stdin=subprocess.DEVNULL, capture_output=True)
    archive = os.path.join(dist, f"elasticsearch-{version}.zip")
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            path = z.extract(info, dist)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(path, mode & 0o7777)
    os.remove(archive)
    open(os.path.join(home, ".complete"), "w").close()
    return home


def java_home():
    java = shutil.which("java")
    assert java, "java not found: run scripts/install-deps.sh"
    return os.path.dirname(os.path.dirname(os.path.realpath(java)))


@pytest.fixture(scope="module")
def es():
    home = fetch(elastic_version())
    state = pipeline.state_dir(pipeline.unique("elasticsearch"))
    conf = os.path.join(state, "config")
    shutil.copytree(os.path.join(home, "config"), conf)
    for d in ("data", "logs", "tmp"):
        os.makedirs(os.path.join(state, d))
    # jvm.options names logs/ and data/ relative to the distribution, which
    # this test does not write to: point them into the state directory.
    with open(os.path.join(conf, "jvm.options")) as f:
        options = f.read()
    options = (options.replace("file=logs/", f"file={state}/logs/")
               .replace("ErrorFile=logs/", f"ErrorFile={state}/logs/")
               .replace("HeapDumpPath=data", f"HeapDumpPath={state}/data"))
    with open(os.path.join(conf, "jvm.options"), "w") as f:
        f.write(options)
    port, tport = pipeline.free_port(), pipeline.free_port()
    env = dict(os.environ, ES_JAVA_HOME=java_home(), ES_PATH_CONF=conf,
               ES_TMPDIR=os.path.join(state, "tmp"), ES_JAVA_OPTS="-Xms512m -Xmx512m")
    cmd = [os.path.join(home, "bin", "elasticsearch"),
           "-E", "discovery.type=single-node", "-E", "network.host=127.0.0.1",
           "-E", f"http.port={port}", "-E", f"transport.port={tport}",
           "-E", "xpack.security.enabled=false",
           "-E", f"path.data={state}/data", "-E", f"path.logs={state}/logs",
           "-E", "cluster.routing.allocation.disk.threshold_enabled=false"]
    if os.geteuid() == 0:
        # Elasticsearch refuses to run as root: run it as nobody, on state
        # that nobody owns (the distribution is world-readable).
        subprocess.run(["chown", "-R", "nobody:nogroup", state], check=True)
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + cmd
    log = open(os.path.join(state, "stdout.log"), "wb")
    # cwd: jvm.options writes logs/gc.log relative to it.
    proc = subprocess.Popen(cmd, env=env, cwd=state, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        if proc.poll() is not None:
            raise AssertionError(f"elasticsearch exited with {proc.returncode}; see {state}")
        try:
            r = requests.get(url + "/_cluster/health", timeout=2)
            return r.status_code == 200 and r.json()["status"] in ("green", "yellow")
        except requests.RequestException:
            return False

    try:
        pipeline.wait_until(healthy, 240, "elasticsearch to answer", 0.5)
        yield url
    finally:
        # Its launcher and the server JVM: the whole session.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(os.path.join(state, "data"), ignore_errors=True)


def notification_line(order_id, status, reason, partition, offset, quantity=2):
    """A line as notification_service writes it (docs/CONTRACT.md): one JSON
    object, ECS field names as flat dotted keys."""
    return json.dumps({
        "@timestamp": "2026-11-24T05:00:00.123Z", "log.level": "info",
        "message": f"order {order_id} {status}", "ecs.version": "8.11.0",
        "service.name": "notification_service", "event.dataset": "notification_service.notifications",
        "event.id": f"notifications-{partition}-{offset}",
        "event.created": "2026-11-24T05:00:00.123Z", "event.kind": "event",
        "event.outcome": "success" if status == "confirmed" else "failure",
        "order.id": order_id, "order.status": status, "order.reason": reason,
        "order.item": "laptop", "order.quantity": quantity,
        "order.processed_at": "2026-11-24T05:00:00.120Z", "user.id": "user789",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "kafka.topic": "notifications", "kafka.partition": partition, "kafka.offset": offset})


def bulk_create(url, lines):
    """Index as Filebeat does: create into the data stream, the id derived
    from event.id."""
    body = ""
    for line in lines:
        doc_id = hashlib.sha256(json.loads(line)["event.id"].encode()).hexdigest()
        body += json.dumps({"create": {"_index": "order-notifications", "_id": doc_id}}) + "\n"
        body += line + "\n"
    r = requests.post(url + "/_bulk?refresh=true", data=body,
                      headers={"Content-Type": "application/x-ndjson"}, timeout=60)
    r.raise_for_status()
    return [item["create"]["status"] for item in r.json()["items"]]


def test_notifications_indexed_and_found_by_order_id(es):
    with open(os.path.join(SRC, "elk", "index-template.json"), "rb") as f:
        r = requests.put(es + "/_index_template/order-notifications", data=f.read(),
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.json()["acknowledged"], r.text

    lines = [notification_line("12345", "confirmed", None, 0, 41),
             notification_line("12346", "rejected", "quantity_limit", 1, 7, quantity=500),
             notification_line("12347", "rejected", "unknown_item", 2, 3),
             notification_line("order.with:odd-chars_1", "confirmed", None, 3, 0)]
    assert bulk_create(es, lines) == [201] * 4
    # The same line again (Filebeat resending, or a record re-read after a
    # restart) is refused as a duplicate, not indexed twice.
    assert bulk_create(es, lines[:1]) == [409]

    mapping = requests.get(es + "/order-notifications/_mapping/field/"
                           "@timestamp,order.*,kafka.*,user.id,event.id", timeout=30).json()
    fields = next(iter(mapping.values()))["mappings"]
    types = {name: next(iter(f["mapping"].values()))["type"] for name, f in fields.items()}
    assert types["@timestamp"] == types["order.processed_at"] == "date"
    assert types["order.quantity"] == types["kafka.offset"] == types["kafka.partition"] == "long"
    for name in ("order.id", "order.status", "order.reason", "user.id", "event.id"):
        assert types[name] == "keyword", (name, types[name])

    def find(order_id):
        r = requests.post(es + "/order-notifications/_search", timeout=30,
                          json={"query": {"term": {"order.id": order_id}}})
        r.raise_for_status()
        return [h["_source"] for h in r.json()["hits"]["hits"]]

    hits = find("12345")
    assert len(hits) == 1 and hits[0]["order.status"] == "confirmed"
    assert len(find("order.with:odd-chars_1")) == 1
    assert find("1234") == [], "order.id must match exactly (keyword), not by prefix or token"

    r = requests.post(es + "/order-notifications/_search", timeout=30, json={
        "size": 0, "query": {"term": {"order.status": "rejected"}},
        "aggs": {"reasons": {"terms": {"field": "order.reason"}}}})
    reasons = {b["key"]: b["doc_count"] for b in r.json()["aggregations"]["reasons"]["buckets"]}
    assert reasons == {"quantity_limit": 1, "unknown_item": 1}
    r = requests.post(es + "/order-notifications/_search", timeout=30,
                      json={"query": {"range": {"order.quantity": {"gt": 100}}}})
    assert [h["_source"]["order.id"] for h in r.json()["hits"]["hits"]] == ["12346"]
