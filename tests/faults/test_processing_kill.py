"""kill -9 of processing_service under load: after its restart every accepted
order has exactly one committed status and a notification line."""
import accounting
from faultlib import Pipeline


def test_processing_kill9_under_load_exactly_one_status_each(bootstrap, services):
    p = Pipeline(bootstrap, services)
    with p.start_load():
        p.wait_flowing(0, "before the kill")
        p.svc["processing_service"].kill()
        p.start("processing_service")
        p.wait_flowing(accounting.now_ns(), "after the restart")
        acc = p.finish()
    assert acc.ok, acc.report()
