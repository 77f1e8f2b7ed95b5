#!/usr/bin/env python3
"""A stand-in for a service, for the mechanics test of entrypoint.sh --local:
GET /healthz answers 200; GET /readyz answers 200 only while a TCP connection
to KAFKA_BOOTSTRAP_SERVERS succeeds; SIGTERM exits 0; with STUB_EXIT=<its
name> it exits at once with status 3 (a service that cannot start). It records its
environment in STUB_ENV_DIR/<name>.json so the test can check what
entrypoint.sh gave it."""
import http.server
import json
import os
import signal
import socket
import sys

name = os.path.basename(sys.argv[0])
port = int(os.environ["HTTP_PORT"])
host, _, kport = os.environ["KAFKA_BOOTSTRAP_SERVERS"].rpartition(":")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 404
        if self.path == "/healthz":
            code = 200
        elif self.path == "/readyz":
            try:
                socket.create_connection((host, int(kport)), timeout=1).close()
                code = 200
            except OSError:
                code = 503
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    if os.environ.get("STUB_EXIT") == name:
        print(f"{name} stub: exiting at start on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
    env_dir = os.environ.get("STUB_ENV_DIR")
    if env_dir:
        with open(os.path.join(env_dir, name + ".json"), "w") as f:
            json.dump({"env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid(),
                       "sid": os.getsid(0)}, f)
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{name} stub on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
