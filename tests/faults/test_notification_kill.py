"""kill -9 of notification_service under load: after its restart every
accepted order has its line, and a line written again carries the same
event.id."""
import accounting
from faultlib import Pipeline


def test_notification_kill9_under_load_every_order_gets_its_line(bootstrap, services):
    p = Pipeline(bootstrap, services)
    with p.start_load():
        p.wait_flowing(0, "before the kill")
        p.svc["notification_service"].kill()
        p.start("notification_service")
        p.wait_flowing(accounting.now_ns(), "after the restart")
        acc = p.finish()
    assert acc.ok, acc.report()
