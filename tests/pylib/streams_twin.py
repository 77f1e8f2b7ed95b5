"""The Kafka Streams twin of processing_service (bench/streams_reference),
as a process: start it with the same environment processing_service takes
(KAFKA_BOOTSTRAP_SERVERS, KAFKA_GROUP_ID, ORDERS_TOPIC, NOTIFICATIONS_TOPIC,
MAX_QUANTITY, CATALOG_FILE; COMMIT_INTERVAL_MS for its commit cadence),
wait until its stream thread runs, stop it with SIGTERM.

Used by tests/processing_service/test_streams_twin.py and by the bench."""
import os
import signal
import subprocess

import pipeline

MAIN_CLASS = "pipeline.bench.StreamsReference"


def build(source_dir, out_dir):
    """Build the twin into out_dir (cached); returns out_dir."""
    subprocess.run([os.path.join(source_dir, "bench", "streams_reference", "build.sh"),
                    out_dir], check=True, timeout=900)
    return out_dir


class StreamsTwin:
    """One JVM running the twin; stdout/stderr go to files under 'logs'."""

    def __init__(self, built_dir, environ, logs, name="streams_twin"):
        self.name = name
        self.cmd = ["java", "-cp", f"{built_dir}/classes:{built_dir}/libs/*", MAIN_CLASS]
        self.environ = dict(os.environ)
        self.environ.update({k: str(v) for k, v in environ.items()})
        tag = pipeline.unique(name)
        self.environ.setdefault("STATE_DIR", os.path.join(logs, tag + ".state"))
        self.stdout_path = os.path.join(logs, tag + ".stdout")
        self.stderr_path = os.path.join(logs, tag + ".stderr")
        self.proc = None

    def start(self):
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.cmd, env=self.environ, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        return self

    def is_running(self):
        """True once the stream thread has its partitions (it says so on stdout)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                 f"{self.stderr_tail()}")
        with open(self.stdout_path, "rb") as f:
            return b"streams-reference: running" in f.read()

    def wait_running(self, timeout=120):
        pipeline.wait_until(self.is_running, timeout, f"{self.name} to run", interval=0.1)
        return self

    def stop(self, timeout=60):
        """SIGTERM (Kafka Streams closes, committing), then wait; returns the status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        self._err.close()
        return self.proc.returncode

    def stderr_tail(self, n=40):
        return pipeline.file_tail(self.stderr_path, n)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
