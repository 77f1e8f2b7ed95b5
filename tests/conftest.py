"""Fixtures shared by the pytest files under tests/."""
import pytest

import pipeline


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def bootstrap():
    """The fixture broker's address."""
    return pipeline.kafka_bootstrap()


@pytest.fixture
def services(request):
    """Start services with start(name, environ); all are stopped at the end,
    and their stderr is printed when the test failed."""
    started = []

    def start(name, environ=None, wait_healthy=True, **kw):
        svc = pipeline.Service(name, environ, **kw)
        started.append(svc)
        return svc.start(wait_healthy=wait_healthy)

    yield start
    for svc in reversed(started):
        if svc.proc is not None and svc.proc.poll() is None:
            try:
                svc.stop()
            except AssertionError as e:
                print(e)
        if getattr(request.node, "failed_call", False):
            print(f"----- {svc.name} stderr ({svc.stderr_path}) -----")
            print(svc.stderr_tail(80))
