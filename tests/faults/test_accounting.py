"""The accounting itself: it passes a clean run and names each kind of loss
or duplicate (so a green fault test means something)."""
import json

import accounting
from accounting import Accounting, Lines, Outcomes


def outcomes(tmp_path, rows):
    path = tmp_path / "load.csv"
    path.write_text("order_id,intended_ns,status,latency_ns,error\n" +
                    "".join(f"{oid},1,{status},1,{err}\n" for oid, status, err in rows))
    return Outcomes.from_loadgen_csv(str(path))


def lines(tmp_path, pairs, nested=False):
    path = tmp_path / "notifications.jsonl"
    with open(path, "w") as f:
        for oid, eid in pairs:
            doc = ({"order": {"id": oid}, "event": {"id": eid}} if nested
                   else {"order.id": oid, "event.id": eid, "message": "x"})
            f.write(json.dumps(doc) + "\n")
    return Lines(str(path))


ROWS = [("a", 202, ""), ("b", 400, ""), ("c", 503, ""), ("d", 0, "connect"),
        ("e", 504, ""), ("f", 0, "reset"), ("g", 202, "")]


def test_classify_follows_the_contract():
    assert accounting.classify(202, "") == accounting.ACCEPTED
    for status in (400, 404, 413, 415, 503):
        assert accounting.classify(status, "") == accounting.REFUSED
    assert accounting.classify(0, "connect") == accounting.REFUSED
    for status, err in ((504, ""), (0, "reset"), (0, "timeout"), (0, "protocol"), (500, "")):
        assert accounting.classify(status, err) == accounting.UNKNOWN


def test_clean_run_passes_including_a_processed_unknown_and_a_rewritten_line(tmp_path):
    o = outcomes(tmp_path, ROWS)
    st = {"a": [("n-0-0", "confirmed")], "g": [("n-1-0", "confirmed")],
          "e": [("n-0-1", "rejected")]}
    ln = lines(tmp_path, [("a", "n-0-0"), ("g", "n-1-0"), ("e", "n-0-1"), ("a", "n-0-0")],
               nested=True)
    acc = Accounting(o, st, ln)
    assert acc.ok, acc.report()
    assert "sent 7 (posted twice or more: 0), accepted 2, refused 3, outcome unknown 2" \
        in acc.summary()


def test_an_order_posted_again_counts_once_by_its_best_answer(tmp_path):
    o = outcomes(tmp_path, [("a", 504, ""), ("a", 202, ""), ("b", 503, ""),
                            ("b", 0, "timeout"), ("c", 202, ""), ("c", 0, "connect"),
                            ("d", 400, "")])
    assert o.kind == {"a": accounting.ACCEPTED, "b": accounting.UNKNOWN,
                      "c": accounting.ACCEPTED, "d": accounting.REFUSED}
    assert o.retried() == 3
    ln = lines(tmp_path, [("a", "n-0-0"), ("c", "n-0-1"), ("c", "n-0-2")])
    twice = Accounting(o, {"a": [("n-0-0", "confirmed")],
                           "c": [("n-0-1", "confirmed"), ("n-0-2", "confirmed")]}, ln)
    assert twice.problems == [
        "accepted c: 2 committed statuses",
        "accepted c: lines for ['n-0-1', 'n-0-2'], committed ['n-0-1', 'n-0-2']"]
    assert "sent 4 (posted twice or more: 3)" in twice.summary()


def test_every_kind_of_loss_and_duplicate_is_named(tmp_path):
    o = outcomes(tmp_path, ROWS)
    st = {"a": [("n-0-0", "confirmed"), ("n-0-5", "confirmed")],  # duplicate
          # "g" accepted but no status: lost
          "c": [("n-0-2", "confirmed")],                          # refused, processed
          "e": [("n-0-1", "x"), ("n-1-1", "x")],                   # unknown, twice
          "zz": [("n-2-0", "confirmed")]}                          # never sent
    ln = lines(tmp_path, [("a", "n-0-0"), ("c", "n-0-2"), ("e", "n-0-1")])
    problems = "\n".join(Accounting(o, st, ln).problems)
    assert "accepted a: 2 committed statuses" in problems
    assert "accepted g: 0 committed statuses" in problems
    assert "refused c: 1 committed statuses" in problems
    assert "unknown e: 2 committed statuses" in problems
    assert "status for zz, which the client never sent" in problems
    assert "zz: a status but no notification line" not in problems


def test_a_line_from_another_record_or_a_missing_line_is_named(tmp_path):
    o = outcomes(tmp_path, [("a", 202, ""), ("g", 202, "")])
    st = {"a": [("n-0-0", "confirmed")], "g": [("n-1-0", "confirmed")]}
    # "a" has a line for an aborted record's offset; "g" has none.
    ln = lines(tmp_path, [("a", "n-0-0"), ("a", "n-0-9")])
    problems = "\n".join(Accounting(o, st, ln).problems)
    assert "accepted a: lines for ['n-0-0', 'n-0-9']" in problems
    assert "accepted g: a status but no notification line" in problems
