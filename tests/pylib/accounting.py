"""Accounting: did the pipeline lose or duplicate anything?

Three sources are reconciled per order_id:
- what the client was told (bench/loadgen's per-request CSV; a client that
  retries posts an order_id more than once, and the order counts as
  accepted when any of its posts was, as unknown when none was but one was
  unknown),
- the committed statuses on the notifications topic (a read_committed read),
- the notification lines (NOTIFICATION_LOG_FILE).

Rules (docs/CONTRACT.md):
- accepted (202): exactly one committed status however often it was posted
  (CONTRACT.md: exactly one status per order_id), and lines that all carry
  that status's event.id (topic-partition-offset; a line may be written
  again after a crash, but always for the same record);
- refused (4xx, 503, connection refused: nothing was published): no status,
  no line;
- unknown (504, a reset or timed-out connection, any other answer): at most
  one status, and lines only for it.
A status for an order_id the client never sent is an error too.
"""
import collections
import csv
import json
import os
import signal
import subprocess
import time

import pipeline

ACCEPTED, REFUSED, UNKNOWN = "accepted", "refused", "unknown"


def classify(status, error):
    """The client's view of one request: ACCEPTED, REFUSED or UNKNOWN."""
    if status == 202:
        return ACCEPTED
    if 400 <= status < 500 or status == 503:
        return REFUSED
    if status == 0 and error == "connect":
        return REFUSED
    return UNKNOWN


# Of several posts of one order, the outcome that says the most.
_RANK = {REFUSED: 0, UNKNOWN: 1, ACCEPTED: 2}


class Outcomes:
    """What the client was told, per order_id (from a loadgen --out CSV)."""

    def __init__(self):
        self.kind = {}
        self.posts = collections.Counter()
        self.detail = collections.Counter()

    @classmethod
    def from_loadgen_csv(cls, path):
        self = cls()
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                status, oid = int(row["status"]), row["order_id"]
                kind = classify(status, row["error"])
                if _RANK[kind] >= _RANK.get(self.kind.get(oid), -1):
                    self.kind[oid] = kind
                self.posts[oid] += 1
                self.detail[str(status) if status else row["error"]] += 1
        return self

    def retried(self):
        """How many orders were posted more than once."""
        return sum(1 for n in self.posts.values() if n > 1)

    def ids(self, kind):
        return {i for i, k in self.kind.items() if k == kind}

    def __len__(self):
        return len(self.kind)


def committed_statuses(bootstrap, topic, expect, timeout=180, settle=3.0):
    """order_id -> [(event_id, status)] of every committed record on 'topic',
    read until at least 'expect' records are there (bounded by 'timeout'),
    then 'settle' seconds more for records that should not be there."""
    try:
        records = pipeline.read_topic(bootstrap, topic, isolation="read_committed",
                                      timeout=timeout, expect=expect, settle=settle)
    except AssertionError:
        # Fewer than expected: reconcile() names the orders without one.
        records = pipeline.read_topic(bootstrap, topic, isolation="read_committed",
                                      timeout=60, settle=settle)
    statuses = collections.defaultdict(list)
    for r in records:
        try:
            status = r.json().get("status")
        except ValueError:
            status = None
        statuses[r.key].append((f"{r.topic}-{r.partition}-{r.offset}", status))
    return statuses


def _line_field(doc, dotted):
    """An ECS field, written dotted ("order.id") or nested."""
    if dotted in doc:
        return doc[dotted]
    node = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class Lines:
    """The notification lines of a file: order_id -> event.ids, in order."""

    def __init__(self, path):
        self.path = path
        self.by_order = collections.defaultdict(list)
        self.total = 0
        self.unreadable = 0
        self._offset = 0
        self._partial = b""
        self.refresh()

    def refresh(self):
        """Read what was appended since the last call."""
        if not os.path.exists(self.path):
            return self
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            self.total += 1
            try:
                doc = json.loads(line)
            except ValueError:
                self.unreadable += 1
                continue
            oid, eid = _line_field(doc, "order.id"), _line_field(doc, "event.id")
            if oid is None or eid is None:
                self.unreadable += 1
                continue
            self.by_order[oid].append(eid)
        return self

    def wait_for(self, ids, timeout=180):
        """Poll until every order in 'ids' has a line (bounded)."""
        missing = lambda: [i for i in ids if i not in self.refresh().by_order]  # noqa: E731
        try:
            pipeline.wait_until(lambda: not missing(), timeout,
                                f"notification lines for {len(ids)} orders", interval=0.5)
        except AssertionError:
            pass  # reconcile() names what is missing
        return self


class Accounting:
    """The reconciliation of outcomes, statuses and lines."""

    def __init__(self, outcomes, statuses, lines):
        self.outcomes, self.statuses, self.lines = outcomes, statuses, lines
        self.problems = []
        p = self.problems
        for oid, kind in outcomes.kind.items():
            st = statuses.get(oid, [])
            eids = set(lines.by_order.get(oid, []))
            if kind == ACCEPTED and len(st) != 1:
                p.append(f"accepted {oid}: {len(st)} committed statuses")
            elif kind == REFUSED and st:
                p.append(f"refused {oid}: {len(st)} committed statuses")
            elif kind == UNKNOWN and len(st) > 1:
                p.append(f"unknown {oid}: {len(st)} committed statuses")
            if st and not eids:
                p.append(f"{kind} {oid}: a status but no notification line")
            if eids and (len(st) != 1 or eids != {st[0][0]}):
                p.append(f"{kind} {oid}: lines for {sorted(eids)}, committed "
                         f"{[e for e, _ in st]}")
        for oid in statuses:
            if oid not in outcomes.kind:
                p.append(f"status for {oid}, which the client never sent")

    @property
    def ok(self):
        return not self.problems

    def summary(self):
        o = self.outcomes
        n_status = sum(len(v) for v in self.statuses.values())
        n_unknown_with = sum(1 for i in o.ids(UNKNOWN) if i in self.statuses)
        return (f"sent {len(o)} (posted twice or more: {o.retried()}), "
                f"accepted {len(o.ids(ACCEPTED))}, "
                f"refused {len(o.ids(REFUSED))}, outcome unknown {len(o.ids(UNKNOWN))} "
                f"({n_unknown_with} of them processed); by answer "
                f"{dict(sorted(o.detail.items()))}; committed statuses {n_status} "
                f"for {len(self.statuses)} orders; notification lines {self.lines.total} "
                f"for {len(self.lines.by_order)} orders ({self.lines.unreadable} unreadable); "
                f"problems {len(self.problems)}")

    def report(self, limit=20):
        text = "accounting: " + self.summary()
        for line in self.problems[:limit]:
            text += "\n  " + line
        if len(self.problems) > limit:
            text += f"\n  ... and {len(self.problems) - limit} more"
        return text


def reconcile(outcomes, bootstrap, topic, lines_path, timeout=180):
    """Wait for the pipeline to finish what it accepted, then reconcile."""
    accepted = outcomes.ids(ACCEPTED)
    statuses = committed_statuses(bootstrap, topic, expect=len(accepted), timeout=timeout)
    lines = Lines(lines_path).wait_for(accepted | set(statuses), timeout=timeout)
    return Accounting(outcomes, statuses, lines)


class Load:
    """bench/loadgen in the background: POST /orders at 'rate' per second
    to 127.0.0.1:'port' for at most 'duration' seconds, each outcome in a CSV.
    stop() ends it early (SIGINT: no new request, the ones in flight are
    answered or time out)."""

    def __init__(self, port, rate=200, duration=120, connections=8, timeout_ms=15000,
                 prefix=None, retry_every=0):
        self.prefix = prefix or pipeline.unique("load")
        logs = pipeline.state_dir("logs")
        self.csv = os.path.join(logs, self.prefix + ".csv")
        self.log = os.path.join(logs, self.prefix + ".out")
        self.cmd = [pipeline.env("PIPELINE_LOADGEN"), "--port", str(port),
                    "--rate", str(rate), "--duration", str(duration),
                    "--connections", str(connections), "--timeout-ms", str(timeout_ms),
                    "--prefix", self.prefix, "--out", self.csv,
                    "--retry-every", str(retry_every)]
        self.proc = None

    def start(self):
        """Start loadgen (once: a second call is a no-op)."""
        if self.proc is not None:
            return self
        self._out = open(self.log, "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=subprocess.STDOUT)
        return self

    def answered_since(self, since_ns, status="202"):
        """The order_ids of requests intended at or after 'since_ns' (epoch
        ns) answered with 'status' so far (the CSV grows as answers come)."""
        try:
            with open(self.csv, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []  # loadgen has not started yet
        ids = []
        for line in data.split(b"\n")[1:-1]:
            parts = line.split(b",")
            if len(parts) == 5 and parts[2] == status.encode() and \
                    int(parts[1]) >= since_ns:
                ids.append(parts[0].decode())
        return ids

    def stop(self, timeout=60):
        """End the load and wait for it; returns its Outcomes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"loadgen did not stop within {timeout}s")
        self._out.close()
        assert self.proc.returncode == 0, f"loadgen failed: {self.summary()}"
        return Outcomes.from_loadgen_csv(self.csv)

    def summary(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            self._out.close()


def now_ns():
    return time.time_ns()
