"""A broker restart under load loses no accepted order and duplicates none."""
import accounting
import pipeline
from faultlib import Pipeline


def test_broker_restart_under_load_loses_and_duplicates_nothing(services):
    with pipeline.Broker() as broker:
        p = Pipeline(broker.bootstrap, services)
        try:
            p.start_load()
            p.wait_flowing(0, "before the restart")
            broker.stop()
            broker.start()
            p.wait_flowing(accounting.now_ns(), "after the restart")
            acc = p.finish()
        finally:
            if p.load:
                p.load.__exit__()
            p.stop_all()  # while the broker is still there
    assert acc.ok, acc.report()
