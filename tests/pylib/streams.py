"""Clients of order_service's live status streams: Server-Sent Events over
a raw socket (so a test sees every byte and can drop the connection when it
likes) and the WebSocket at /ws."""
import base64
import json
import os
import socket
import time


class SSE:
    """GET 'path' as an event stream; events() yields dicts with id, event,
    data (parsed JSON); comments (heartbeats) are counted."""

    def __init__(self, port, path, last_event_id=None, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        if last_event_id:
            head += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        self.heartbeats = 0
        status_line, self.headers = self._read_head()
        self.status = int(status_line.split()[1])

    def _read_more(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("stream closed")
        self.buf += data

    def _read_head(self, timeout=30):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._read_more(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return lines[0], headers

    def body(self, timeout=10):
        """The rest of a non-stream reply (an error)."""
        deadline = time.monotonic() + timeout
        n = int(self.headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._read_more(deadline)
        return json.loads(self.buf[:n])

    def next_event(self, timeout=30):
        """The next event (dict), or None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" in self.buf:
                block, self.buf = self.buf.split(b"\n\n", 1)
                event = {}
                for line in block.decode().split("\n"):
                    if line.startswith(":"):
                        continue
                    k, _, v = line.partition(": ")
                    event[k] = v
                if not event:
                    self.heartbeats += 1
                    continue
                event["data"] = json.loads(event["data"])
                return event
            if time.monotonic() >= deadline:
                return None
            try:
                self._read_more(deadline)
            except socket.timeout:
                return None

    def close(self):
        self.sock.close()


def ws_connect(port, timeout=30):
    """A WebSocket client connection to /ws (websocket-client)."""
    import websocket
    return websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=timeout)


def sse_open(port, order_id, path=None):
    """A raw SSE request for one order (the reply is left to read)."""
    s = socket.create_connection(("127.0.0.1", port))
    path = path or f"/orders/{order_id}/events"
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return s


def ws_open(port, order_id, by="order_id"):
    """A raw WebSocket, upgraded and subscribed to one order (or user)."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("WebSocket refused")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise OSError(head.split(b"\r\n")[0].decode())
    payload = json.dumps({"subscribe": {by: order_id}}).encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + \
        bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(frame)
    return s


def long_poll_open(port, i):
    """A raw GET /orders/lp-<i>?wait=30, left pending."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /orders/lp-{i}?wait=30 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return s
