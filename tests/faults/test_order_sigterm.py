"""SIGTERM of order_service under load: it exits cleanly, every request it
took is answered (a connection is refused before a request is sent on it,
never reset after), every order it accepted is processed once, none it
refused (or could not take, while down) is, and a new instance on the same
port takes over."""
import accounting
from faultlib import Pipeline


def test_order_sigterm_under_load_answers_all_accepted_processed_refused_not(bootstrap, services):
    p = Pipeline(bootstrap, services)
    with p.start_load():
        p.wait_flowing(0, "before the stop")
        order = p.svc["order_service"]
        assert order.stop() == 0, order.stderr_tail()
        p.start("order_service", port=order.port)
        p.wait_flowing(accounting.now_ns(), "after the new start")
        acc = p.finish()
    refused_by_connect = acc.outcomes.detail.get("connect", 0)
    print(f"refused while down (connection refused): {refused_by_connect}")
    assert acc.ok, acc.report()
    # A request sent and then left without an answer (loadgen's "reset",
    # "timeout", "protocol"): SIGTERM must answer all it took.
    no_answer = {k: acc.outcomes.detail.get(k, 0) for k in ("reset", "timeout", "protocol")}
    assert not any(no_answer.values()), f"requests without an answer: {no_answer}; " + acc.report()
