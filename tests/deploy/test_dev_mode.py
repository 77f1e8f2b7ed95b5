"""Dev mode (README "Dev mode"): ./entrypoint.sh --kafka, --run SERVICE and
--watch SERVICE, each in its own terminal, as a developer runs them; but on
free ports and in scratch folders, so that neither a developer's broker on
9092, nor their service folders and .env files, nor a parallel test run is
touched.

- test_kafka_*: --kafka on DEV_KAFKA_PORT (a free port in place of 9092)
  answers metadata requests; Ctrl-C (SIGINT to its process group, as a
  terminal sends it) or SIGTERM stops it and leaves no process; a port that
  is taken stops it at once with a message naming the port.
- test_run_*: --run in a scratch copy of the tree (entrypoint.sh and the
  service folders with their .env.example), with this build tree's binaries
  (PIPELINE_BIN_DIR): a missing .env is made from .env.example and --run
  says so, an existing one is kept and applies; each service is the very
  process --run started (exec), in its folder; an order posted to one
  terminal's service gives its notification line on another's stdout, as
  JSON, while every diagnostic line on stderr, LOG_FORMAT=pretty, parses
  back into time, level, message and fields.
- test_watch_*: --watch with a stand-in build tree (a CMake project whose
  target puts stub_service.py in place, and fails while the source says
  '#error'): a touched source rebuilds and restarts the service (a new
  pid); a burst of changes is one build; a failed build keeps the previous
  service running and says so; Ctrl-C stops both.
Every process a test starts carries a marker in its environment; none may be
left when the test ends, and any that is, is killed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess

import pytest
import requests

import pipeline

SERVICES = ("order_service", "processing_service", "notification_service")
HERE = os.path.dirname(os.path.abspath(__file__))


def source(*parts):
    return os.path.join(pipeline.env("PIPELINE_SOURCE_DIR"), *parts)


# --- the pretty log line (grammar in libshared/include/shared/log_pretty.h) ---

SGR = re.compile(rb"\x1b\[[0-9;]*m")
ESCAPES = {ord("\\"): b"\\", ord('"'): b'"', ord("n"): b"\n", ord("r"): b"\r",
           ord("t"): b"\t"}


def unquote(s, i):
    """The quoted string at s[i] ('"'): (its bytes, the index after it)."""
    out = bytearray()
    i += 1
    while s[i] != ord('"'):
        c = s[i]
        assert c >= 0x20 and c != 0x7f, f"raw control byte in {s!r}"
        if c != ord("\\"):
            out.append(c)
            i += 1
        elif s[i + 1] in ESCAPES:
            out += ESCAPES[s[i + 1]]
            i += 2
        elif s[i + 1] == ord("x"):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif s[i + 1] == ord("u"):
            out += chr(int(s[i + 2:i + 6], 16)).encode()
            i += 6
        else:
            raise AssertionError(f"unknown escape in {s!r}")
    return bytes(out), i + 1


def parse_pretty(line):
    """(time, level, message, {key: value or None}) of one pretty line."""
    assert line.endswith(b"\n") and line.count(b"\n") == 1, line
    plain = SGR.sub(b"", line[:-1])
    assert b"\x1b" not in plain and b"\r" not in plain, line
    plain.decode()  # valid UTF-8
    time, rest = plain.split(b" ", 1)
    assert rest[5:6] == b" ", line
    level, rest = rest[:5].rstrip(), rest[6:]
    if rest.startswith(b'"'):
        message, i = unquote(rest, 0)
    else:
        eq = rest.find(b"=")
        i = len(rest) if eq < 0 else rest.rfind(b" ", 0, eq)
        message = rest[:i]
        assert message, line
    fields = {}
    while i < len(rest):
        assert rest[i] == ord(" "), line
        eq = rest.index(b"=", i)
        key = rest[i + 1:eq].decode()
        assert re.fullmatch(r"[A-Za-z0-9._@-]+", key), line
        if rest[eq + 1:eq + 2] == b'"':
            value, i = unquote(rest, eq + 1)
        else:
            end = rest.find(b" ", eq + 1)
            end = len(rest) if end < 0 else end
            value, i = rest[eq + 1:end] or None, end
        fields[key] = value.decode(errors="replace") if value is not None else None
    return time.decode(), level.decode(), message.decode(errors="replace"), fields


# --- processes ---------------------------------------------------------------

class Dev:
    """One entrypoint.sh command of a test, in its own session (its own
    terminal), output to a file; every process it starts inherits
    DEV_TEST_MARK, by which the test finds them all."""

    def __init__(self, entrypoint, args, env, tag):
        self.mark = pipeline.unique("dev-test")
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        self.env.update(env)
        self.env["DEV_TEST_MARK"] = self.mark
        self.out_path = os.path.join(pipeline.state_dir("logs"), pipeline.unique(tag) + ".out")
        self.stdout_path = self.out_path + ".stdout"
        self.cwd = os.path.dirname(entrypoint)
        self.args = [entrypoint] + list(args)
        self.proc = None

    def start(self, split_stdout=False):
        with open(self.out_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd,
                                         stdin=subprocess.DEVNULL,
                                         stdout=out if split_stdout else err,
                                         stderr=err, start_new_session=True)
        return self

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_output(self, text, timeout, count=1):
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.args} exited with {self.proc.returncode} "
                                     f"before '{text}':\n{self.output()}")
            return self.output().count(text) >= count
        pipeline.wait_until(seen, timeout, f"'{text}' from {self.args[1:]}", 0.1)

    def ctrl_c(self):
        """What Ctrl-C does: SIGINT to the terminal's process group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.args[1:]} still runs {timeout}s after the signal:\n"
                                 f"{self.output()}")

    def processes(self):
        return pipeline.processes_with_env("DEV_TEST_MARK", self.mark)

    def kill_all(self):
        """Kill whatever of this command is left; returns what was."""
        left = pipeline.kill_processes_with_env("DEV_TEST_MARK", self.mark)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.wait(10)
        return left


@pytest.fixture
def dev():
    """dev(entrypoint, args, env, tag) -> Dev; at the end every process of
    each is killed, and their output is printed when one was left."""
    started = []

    def make(entrypoint, args, env, tag):
        d = Dev(entrypoint, args, env, tag)
        started.append(d)
        return d

    yield make
    for d in started:
        left = d.kill_all()
        if left:
            print(f"----- {d.args[1:]}: processes killed at the end: {left}\n{d.output()}")


def alive(pid):
    """Running, not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def scratch_tree(with_sources=False):
    """A copy of what dev mode reads from the tree: entrypoint.sh and each
    service folder's .env.example (and, for --watch, a source file and
    libshared/)."""
    root = pipeline.state_dir(pipeline.unique("dev-tree"))
    shutil.copy2(source("entrypoint.sh"), root)
    for svc in SERVICES:
        os.makedirs(os.path.join(root, svc, "src"))
        shutil.copy2(source(svc, ".env.example"), os.path.join(root, svc))
        if with_sources:
            with open(os.path.join(root, svc, "src", "main.c"), "w") as f:
                f.write("int main(void) { return 0; }\n")
    os.makedirs(os.path.join(root, "libshared", "src"))
    return root


# --- --kafka ---------------------------------------------------------------

def kafka_env(run_dir, port):
    return {"LOCAL_RUN_DIR": run_dir, "DEV_KAFKA_PORT": str(port),
            "LOCAL_KAFKA_DIST_DIR": pipeline.env("PIPELINE_KAFKA_DIST_DIR")}


def answers_metadata(port):
    r = subprocess.run(["kcat", "-b", f"127.0.0.1:{port}", "-L", "-m", "5"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0 and f"127.0.0.1:{port}" in r.stdout


@pytest.mark.parametrize("stop", ["ctrl_c", "sigterm"])
def test_kafka_answers_on_its_port_until_stopped(dev, stop):
    run_dir = pipeline.state_dir(pipeline.unique("dev-kafka"))
    port = pipeline.free_port()
    kafka = dev(source("entrypoint.sh"), ["--kafka"], kafka_env(run_dir, port), "kafka").start()
    kafka.wait_output(f"Kafka is ready on 127.0.0.1:{port}", 180)
    assert answers_metadata(port), f"no metadata from 127.0.0.1:{port}"
    with open(os.path.join(run_dir, "dev-kafka", "pid")) as f:
        broker = int(f.read())
    assert alive(broker)

    if stop == "ctrl_c":
        kafka.ctrl_c()
    else:
        kafka.proc.send_signal(signal.SIGTERM)
    assert kafka.wait_exit() == 0, kafka.output()
    assert "stopping Kafka" in kafka.output()
    assert not alive(broker), "the broker outlived --kafka"
    assert not kafka.processes(), f"processes left: {kafka.processes()}"
    assert not os.path.exists(os.path.join(run_dir, "dev-kafka", "pid"))
    # its data stays for the next run
    assert os.path.exists(os.path.join(run_dir, "dev-kafka", "data", "meta.properties"))


def test_kafka_says_when_its_port_is_taken(dev):
    run_dir = pipeline.state_dir(pipeline.unique("dev-kafka"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kafka = dev(source("entrypoint.sh"), ["--kafka"], kafka_env(run_dir, port),
                    "kafka-taken").start()
        status = kafka.wait_exit(120)
    out = kafka.output()
    assert status != 0, out
    assert f"127.0.0.1:{port} is in use" in out, out
    assert "DEV_KAFKA_PORT" in out, "no hint how to use another port"
    assert not kafka.processes(), f"processes left: {kafka.processes()}"


# --- --run -----------------------------------------------------------------

def test_run_three_terminals_take_an_order_to_its_notification(dev, bootstrap):
    tree = scratch_tree()
    orders, notifications = pipeline.unique("dev-orders"), pipeline.unique("dev-notif")
    ports = {svc: pipeline.free_port() for svc in SERVICES}
    # An existing .env is kept, and applies: processing_service rejects more than 1.
    with open(os.path.join(tree, "processing_service", ".env"), "w") as f:
        f.write("MAX_QUANTITY=1\n")
    common = {"PIPELINE_BIN_DIR": pipeline.env("PIPELINE_BUILD_DIR"),
              "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ORDERS_TOPIC": orders,
              "NOTIFICATIONS_TOPIC": notifications, "TOPIC_PARTITIONS": "2",
              "LOG_LEVEL": "info", "LOG_FORMAT": "pretty"}
    run = {}
    for svc in SERVICES:
        env = dict(common, HTTP_PORT=str(ports[svc]),
                   KAFKA_GROUP_ID=pipeline.unique(svc),
                   TRANSACTIONAL_ID=pipeline.unique("dev-txn"))
        run[svc] = dev(os.path.join(tree, "entrypoint.sh"), ["--run", svc], env, svc)
        run[svc].start(split_stdout=True)
    for svc in SERVICES:
        def ready(svc=svc):
            if run[svc].proc.poll() is not None:
                raise AssertionError(f"{svc} exited:\n{run[svc].output()}")
            try:
                return requests.get(f"http://127.0.0.1:{ports[svc]}/readyz",
                                    timeout=2).status_code == 200
            except requests.RequestException:
                return False
        pipeline.wait_until(ready, 120, f"{svc} /readyz", 0.2)

    for svc in SERVICES:
        pid, out = run[svc].proc.pid, run[svc].output()
        # exec: the process --run started is the service, in its folder
        assert os.path.samefile(f"/proc/{pid}/exe", os.path.join(
            pipeline.env("PIPELINE_BUILD_DIR"), svc, svc)), f"{svc} is not exec'd"
        assert os.path.samefile(f"/proc/{pid}/cwd", os.path.join(tree, svc))
        made = f"made {svc}/.env from {svc}/.env.example"
        if svc == "processing_service":
            assert made not in out, "an existing .env was replaced"
            with open(os.path.join(tree, svc, ".env")) as f:
                assert f.read() == "MAX_QUANTITY=1\n"
        else:
            assert made in out, out
            with open(os.path.join(tree, svc, ".env")) as f, \
                    open(source(svc, ".env.example")) as g:
                assert f.read() == g.read()

    order_id = pipeline.unique("dev")
    r = requests.post(f"http://127.0.0.1:{ports['order_service']}/orders",
                      json={"order_id": order_id, "user_id": "user789", "item": "laptop",
                            "quantity": 2}, timeout=30)
    assert r.status_code == 202, r.text

    def notification():
        with open(run["notification_service"].stdout_path, "rb") as f:
            for raw in f:
                doc = json.loads(raw)  # stdout: JSON lines only, LOG_FORMAT or not
                if doc.get("order.id") == order_id:
                    return doc
        return None
    doc = pipeline.wait_until(notification, 90, f"the notification of {order_id}", 0.2)
    assert doc["order.status"] == "rejected" and doc["order.reason"] == "quantity_limit", doc

    # Ctrl-C in one terminal, SIGTERM to the others: each stops cleanly.
    run["order_service"].ctrl_c()
    for svc in ("processing_service", "notification_service"):
        run[svc].proc.send_signal(signal.SIGTERM)
    for svc in SERVICES:
        assert run[svc].wait_exit() == 0, run[svc].output()
        assert not run[svc].processes(), f"{svc}: processes left"

    # Every diagnostic line is a pretty line that parses back.
    for svc in SERVICES:
        with open(run[svc].out_path, "rb") as f:
            lines = [raw for raw in f if not raw.startswith(b"==> ")]
        assert lines, f"{svc} logged nothing"
        parsed = [parse_pretty(raw) for raw in lines]
        assert all(p[1] in ("DEBUG", "INFO", "WARN", "ERROR") for p in parsed)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p[0]) for p in parsed)
        # the fields come through: some line names the service's topic
        assert any(orders in p[3].values() or notifications in p[3].values()
                   for p in parsed), f"{svc}: no line has its topic as a field"


def test_run_refuses_an_unknown_service(dev):
    tree = scratch_tree()
    bad = dev(os.path.join(tree, "entrypoint.sh"), ["--run", "nope"], {}, "run-bad").start()
    assert bad.wait_exit() == 2
    assert "name a service" in bad.output()


# --- --watch ---------------------------------------------------------------

STUB_BUILD = """import os, shutil, sys
src, stub, dest = sys.argv[1:]
with open(src) as f:
    if "#error" in f.read():
        sys.exit(f"{src}: #error")
os.makedirs(os.path.dirname(dest), exist_ok=True)
shutil.copy(stub, dest + ".new")
os.chmod(dest + ".new", 0o755)
os.replace(dest + ".new", dest)
"""


def stub_build_tree(tree):
    """A configured CMake build tree whose target order_service puts
    stub_service.py in place as <tree>/order_service/order_service, and
    fails while order_service/src/main.c says #error."""
    project = pipeline.state_dir(pipeline.unique("stub-project"))
    with open(os.path.join(project, "build.py"), "w") as f:
        f.write(STUB_BUILD)
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write(f"""cmake_minimum_required(VERSION 3.16)
project(stub NONE)
add_custom_target(order_service COMMAND python3 {project}/build.py
  {tree}/order_service/src/main.c {HERE}/stub_service.py
  ${{CMAKE_BINARY_DIR}}/order_service/order_service)
""")
    build = os.path.join(project, "build")
    subprocess.run(["cmake", "-S", project, "-B", build], check=True,
                   capture_output=True, timeout=120)
    return build


def test_watch_rebuilds_and_restarts_on_a_change(dev):
    tree = scratch_tree(with_sources=True)
    env_dir = pipeline.state_dir(pipeline.unique("stub-env"))
    seen = os.path.join(env_dir, "order_service.json")
    main_c = os.path.join(tree, "order_service", "src", "main.c")
    watch = dev(os.path.join(tree, "entrypoint.sh"), ["--watch", "order_service"],
                {"PIPELINE_BIN_DIR": stub_build_tree(tree), "STUB_ENV_DIR": env_dir,
                 "HTTP_PORT": str(pipeline.free_port()),
                 "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}, "watch").start()

    def started(previous=None):
        """The pid of a running stand-in other than 'previous'."""
        def new_pid():
            if watch.proc.poll() is not None:
                raise AssertionError(f"--watch exited:\n{watch.output()}")
            try:
                with open(seen) as f:
                    pid = json.load(f)["pid"]
            except (OSError, ValueError):
                return None
            return pid if pid != previous and alive(pid) else None
        return pipeline.wait_until(new_pid, 120, "the service (re)started", 0.1)

    first = started()
    watch.wait_output("watching libshared/ and order_service/", 60)
    with open(seen) as f:
        assert os.path.samefile(json.load(f)["cwd"], os.path.join(tree, "order_service"))
    assert "made order_service/.env" in watch.output()

    # touch: a new build, a new process; the old one is gone
    os.utime(main_c)
    second = started(first)
    assert not alive(first), "the previous service still runs"
    assert "order_service/src/main.c changed: rebuilding order_service" in watch.output()

    # a burst of twenty changes in libshared/ (counted at the end)
    for i in range(20):
        with open(os.path.join(tree, "libshared", "src", f"f{i}.c"), "w") as f:
            f.write("/* */\n")
    started(second)

    # a failed build: the running service stays, --watch says so and waits
    with open(main_c, "w") as f:
        f.write("#error broken\n")
    watch.wait_output("keeps running its previous build; waiting for a change", 60)
    with open(seen) as f:
        running = json.load(f)["pid"]
    assert alive(running), "a failed build stopped the service"
    assert watch.output().endswith("waiting for a change\n"), watch.output()
    with open(main_c, "w") as f:
        f.write("int main(void) { return 1; }\n")
    fourth = started(running)

    # Ctrl-C: --watch and the service stop, nothing is left
    watch.ctrl_c()
    assert watch.wait_exit() == 0, watch.output()
    assert not alive(fourth), "the service outlived --watch"
    assert not watch.processes(), f"processes left: {watch.processes()}"
    # one build per change above, the burst's 40 events included: the
    # burst is one build (two, had the test been paused 0.3 s within it)
    builds = watch.output().count("changed: rebuilding")
    assert builds in (4, 5), f"{builds} builds for 4 changes:\n{watch.output()}"
