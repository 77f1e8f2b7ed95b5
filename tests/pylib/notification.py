"""Helpers for the notification_service tests: status records, the lines
the service writes, and a local webhook receiver on 127.0.0.1."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pipeline

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def status_value(order_id, status="confirmed", reason=None, user_id="user789",
                 item="laptop", quantity=2,
                 processed_at="2026-11-23T07:00:00.123Z"):
    """A notifications record value, as processing_service writes it."""
    if status == "rejected" and reason is None:
        reason = "quantity_limit"
    return json.dumps({"order_id": order_id, "user_id": user_id, "item": item,
                       "quantity": quantity, "status": status, "reason": reason,
                       "processed_at": processed_at}).encode()


def start(services, bootstrap, topic, group, log_file=None, extra=None):
    """Start notification_service on 'topic' with group 'group'."""
    environ = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
               "NOTIFICATIONS_TOPIC": topic,
               "KAFKA_GROUP_ID": group,
               "TOPIC_PARTITIONS": 3,
               "NOTIFY_COMMIT_INTERVAL_MS": 200}
    if log_file:
        environ["NOTIFICATION_LOG_FILE"] = log_file
    environ.update(extra or {})
    return services("notification_service", environ)


def log_path(name):
    return os.path.join(pipeline.state_dir("notification"), pipeline.unique(name) + ".log")


def read_lines(path):
    """The raw lines of 'path' (bytes, without the newline); [] if absent.
    A last line without its newline (being written) is left out."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if not data:
        return []
    lines = data.split(b"\n")
    return lines[:-1]  # after the last '\n': empty, or a partial line


def parse_lines(raw):
    """Every line must be one JSON object: parse them all."""
    out = []
    for line in raw:
        obj = json.loads(line)  # raises on a split or forged line
        assert isinstance(obj, dict), line
        out.append(obj)
    return out


def wait_lines(path, count, timeout=120):
    """Wait until 'path' has at least 'count' lines; return them parsed."""
    pipeline.wait_until(lambda: len(read_lines(path)) >= count, timeout,
                        f"{count} lines in {path}")
    return parse_lines(read_lines(path))


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 in a thread. 'respond(event_id, n)' gives
    the status for the n-th request (1-based) carrying that Idempotency-Key.
    Every request is recorded as (headers, body, status, phase)."""

    def __init__(self, respond, gate=None):
        self.respond = respond
        self.gate = gate  # a threading.Event requests wait for, if set
        self.phase = 1    # stamped on each request when it arrives
        self.lock = threading.Lock()
        self.requests = []
        self.counts = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key")
                phase = receiver.phase
                with receiver.lock:
                    n = receiver.counts.get(key, 0) + 1
                    receiver.counts[key] = n
                if receiver.gate is not None:
                    receiver.gate.wait(60)
                status = receiver.respond(key, n)
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body, status, phase))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self, phase=None):
        """Idempotency-Key -> body of the requests answered with a 2xx
        (that arrived during 'phase', when given)."""
        with self.lock:
            return {h.get("Idempotency-Key"): b for h, b, s, p in self.requests
                    if 200 <= s < 300 and phase in (None, p)}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()
