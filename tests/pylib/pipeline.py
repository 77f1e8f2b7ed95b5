"""Test harness for the order pipeline: the broker the CTest fixture started,
the service executables, and Kafka helpers (confluent-kafka).

Every wait here polls a condition against a deadline; nothing sleeps blindly.
Every process started here is stopped when the test ends (use the context
managers, or the pytest fixtures in conftest.py).
"""
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid

import requests
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run this test through ctest")
    return value


def state_dir(*parts):
    path = os.path.join(env("PIPELINE_TEST_STATE_DIR"), *parts)
    os.makedirs(path, exist_ok=True)
    return path


def kafka_bootstrap(state=None):
    """host:port of the fixture's broker (or of the broker of 'state')."""
    state = state or env("PIPELINE_KAFKA_STATE_DIR")
    with open(os.path.join(state, "bootstrap")) as f:
        return f.read().strip()


def unique(prefix):
    """A name no other test uses: tests isolate themselves by topic and group."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with_env(name, value):
    """The pids of every live process whose environment has name=value: a
    marker a test gives a command, which all its descendants inherit."""
    marker = f"{name}={value}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def kill_processes_with_env(name, value):
    """SIGKILL every process processes_with_env() finds; returns their pids,
    so a test can fail when something was left."""
    left = processes_with_env(name, value)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


def wait_until(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- the broker -------------------------------------------------------------

class Broker:
    """A broker of our own (for tests that stop, kill or restart it), run by
    tests/kafka/broker.sh in its own state directory."""

    def __init__(self, name=None):
        self.state = state_dir("brokers", name or unique("broker"))
        self.bootstrap = None

    def _run(self, *args, timeout=150):
        return subprocess.run([env("PIPELINE_BROKER_SH"), *args], check=True,
                              capture_output=True, text=True, timeout=timeout)

    def start(self):
        out = self._run("start", self.state, env("PIPELINE_KAFKA_DIST_DIR"))
        self.bootstrap = out.stdout.strip().splitlines()[-1]
        return self.bootstrap

    def stop(self):
        self._run("stop", self.state)

    def kill(self):
        self._run("kill", self.state)

    def clean(self):
        self._run("clean", self.state)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.clean()


# --- Kafka clients ----------------------------------------------------------

def create_topics(bootstrap, topics, partitions=3):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics],
        operation_timeout=30)
    for topic, future in futures.items():
        try:
            future.result(timeout=60)
        except KafkaException as e:
            if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS
                raise


def topic_exists(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(timeout=10)
    return topic in md.topics and md.topics[topic].error is None


def produce(bootstrap, topic, records):
    """records: iterable of (key, value, headers). Waits for every ack."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "linger.ms": 5})
    errors = []

    def on_delivery(err, msg):
        if err:
            errors.append(err)

    for key, value, headers in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value, headers=headers,
                                 on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    assert remaining == 0 and not errors, f"produce failed: {errors[:3]} ({remaining} unflushed)"


class Record:
    __slots__ = ("topic", "partition", "offset", "key", "value", "headers")

    def __init__(self, msg):
        self.topic = msg.topic()
        self.partition = msg.partition()
        self.offset = msg.offset()
        self.key = msg.key().decode() if msg.key() is not None else None
        self.value = msg.value()
        self.headers = {k: (v.decode() if v is not None else None)
                        for k, v in (msg.headers() or [])}

    def json(self):
        return json.loads(self.value)

    def __repr__(self):
        return f"Record({self.topic}[{self.partition}]@{self.offset} key={self.key!r})"


def read_topic(bootstrap, topic, isolation="read_committed", timeout=60,
               expect=None, settle=0.0):
    """Every record of 'topic' from the beginning, without a consumer group.

    Reads until each partition's end (the last stable offset for
    read_committed) is reached; with 'expect', first waits until at least
    that many records are there (bounded by timeout). 'settle' seconds of
    extra reading after that catch records that should NOT be there."""
    consumer = Consumer({"bootstrap.servers": bootstrap,
                         "group.id": unique("reader"),
                         "enable.auto.commit": False,
                         "isolation.level": isolation,
                         "auto.offset.reset": "earliest"})
    try:
        md = consumer.list_topics(topic, timeout=10)
        if topic not in md.topics or md.topics[topic].error is not None:
            return []
        parts = [TopicPartition(topic, p, 0) for p in md.topics[topic].partitions]
        consumer.assign(parts)
        records = []
        deadline = time.monotonic() + timeout
        settle_until = None
        while True:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                records.append(Record(msg))
                continue
            now = time.monotonic()
            done = expect is None or len(records) >= expect
            if done and at_end(consumer, parts):
                if settle_until is None:
                    settle_until = now + settle
                if now >= settle_until:
                    return records
            if now >= deadline:
                if expect is not None and len(records) < expect:
                    raise AssertionError(
                        f"{topic}: {len(records)} records after {timeout}s, expected {expect}")
                return records
    finally:
        consumer.close()


def at_end(consumer, parts):
    positions = consumer.position(parts)
    for tp in positions:
        low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                   timeout=5, cached=False)
        if tp.offset < 0:
            if high > low:
                return False
        elif tp.offset < high:
            # read_committed stops at the last stable offset, which may be
            # below high while a transaction is open or after an abort marker:
            # callers that need exact ends poll with 'expect' and 'settle'.
            return False
    return True


# --- the services -----------------------------------------------------------

SERVICES = {
    "order_service": "PIPELINE_ORDER_SERVICE",
    "processing_service": "PIPELINE_PROCESSING_SERVICE",
    "notification_service": "PIPELINE_NOTIFICATION_SERVICE",
}


class Service:
    """One service process. Its stdout and stderr go to files under
    test-state/logs; they are printed when the test fails (conftest.py)."""

    def __init__(self, name, environ=None, port=None, cwd=None, tls_ca=None):
        self.name = name
        self.binary = env(SERVICES[name])
        self.port = port or free_port()
        self.environ = dict(os.environ)
        # Tests give every setting explicitly; a developer's .env must not leak in.
        self.cwd = cwd or state_dir("cwd")
        self.environ.update({"HTTP_PORT": str(self.port), "LOG_LEVEL": "info",
                             "LOG_FORMAT": "json"})
        self.environ.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        self.environ.update({k: str(v) for k, v in (environ or {}).items()})
        self.proc = None
        # HTTPS when a certificate is given: requests trust 'tls_ca'.
        self.tls_ca = tls_ca
        logs = state_dir("logs")
        tag = unique(name)
        self.stdout_path = os.path.join(logs, tag + ".stdout")
        self.stderr_path = os.path.join(logs, tag + ".stderr")

    @property
    def url(self):
        scheme = "https" if self.environ.get("HTTP_TLS_CERT_FILE") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def get(self, path, **kw):
        """GET url+path (over HTTPS trusting tls_ca when it serves HTTPS)."""
        kw.setdefault("timeout", 5)
        if self.tls_ca:
            kw.setdefault("verify", self.tls_ca)
        return requests.get(self.url + path, **kw)

    def start(self, wait_healthy=True, timeout=60):
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.binary], env=self.environ, cwd=self.cwd,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        if wait_healthy:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout=60):
        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} "
                                     f"during start:\n{self.stderr_tail()}")
            try:
                return self.get("/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_until(healthy, timeout, f"{self.name} /healthz")

    def wait_ready(self, timeout=60):
        def ready():
            try:
                return self.get("/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_until(ready, timeout, f"{self.name} /readyz")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Send 'sig' and wait for the exit; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"{self.name} did not exit within {timeout}s of {sig!r}")
        self._out.close()
        self._err.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL, timeout=10)

    def stdout_lines(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().splitlines()

    def stderr_tail(self, n=40):
        return file_tail(self.stderr_path, n)

    def metrics(self):
        return self.get("/metrics").text

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        else:
            with contextlib.suppress(Exception):
                self._out.close()
                self._err.close()


def file_tail(path, n=40):
    """The last n lines of a log file, as text ("" when unreadable)."""
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


def run_service(name, args=(), environ=None, timeout=30):
    """Run a service to completion (for --help, bad configuration...)."""
    e = dict(os.environ)
    e.update({k: str(v) for k, v in (environ or {}).items()})
    return subprocess.run([env(SERVICES[name]), *args], env=e, cwd=state_dir("cwd"),
                          capture_output=True, text=True, timeout=timeout)


def metric_value(text, name, labels=None):
    """The value of series 'name'{labels} in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series == name and not labels:
            return float(value)
        if series.startswith(name + "{") and labels and all(
                f'{k}="{v}"' in series for k, v in labels.items()):
            return float(value)
    return None
