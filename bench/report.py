"""REPORT.md and the plots from results.json (pipeline_bench.py writes it).

    python bench/report.py bench/results      # redraw from results.json
"""
import json
import os
import re
import sys


def _f(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def _rate(p):
    return "saturation" if p["target_rate"] == 0 else f"{p['target_rate']:,}/s"


def _errors(p):
    parts = [f"{s}: {n}" for s, n in sorted(p["status"].items()) if s != "202"]
    parts += [f"{k}: {n}" for k, n in p["errors"].items() if n]
    if p.get("unsent"):
        parts.append(f"unsent: {p['unsent']}")
    if p.get("e2e_missing"):
        parts.append(f"no line: {p['e2e_missing']}")
    return ", ".join(parts) or "none"


def _table(points, front):
    rows = [
        f"| offered | accepted/s | HTTP p50 / p99 / p99.9 ms | end-to-end p50 / p99 ms "
        f"| CPU cores: {front} / processing / notification / broker / loadgen "
        f"| broker share | other load on the host, cores "
        f"| peak RSS MiB: {front} / processing / notification | not 202 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        c, r, h, e = p["cpu_cores"], p["peak_rss_mib"], p["http_ms"], p["e2e_ms"] or {}
        rows.append(
            f"| {_rate(p)} | {p['accepted_rate']:,.0f} "
            f"| {_f(h['p50'], 2)} / {_f(h['p99'], 2)} / {_f(h['p99_9'], 2)} "
            f"| {_f(e.get('p50'), 2)} / {_f(e.get('p99'), 2)} "
            f"| {_f(c.get(front), 2)} / {_f(c.get('processing_service'), 2)} / "
            f"{_f(c.get('notification_service'), 2)} / {_f(c.get('broker'), 2)} / "
            f"{_f(c.get('loadgen'), 2)} "
            f"| {100 * p['broker_cpu_share']:.0f}% | {_f(p.get('other_cpu_cores'), 2)} "
            f"| {_f(r.get(front))} / {_f(r.get('processing_service'))} / "
            f"{_f(r.get('notification_service'))} | {_errors(p)} |")
    return "\n".join(rows)


def _comparison(c_points, ref_points):
    by_rate = {p["target_rate"]: p for p in ref_points}
    rows = ["| offered | accepted/s C / Python | HTTP p99 ms C / Python | "
            "end-to-end p99 ms C / Python | front CPU ms per 1k orders C / Python "
            "| front peak RSS MiB C / Python |",
            "|---|---|---|---|---|---|"]
    for c in c_points:
        r = by_rate.get(c["target_rate"])
        if not r:
            continue
        ce, re_ = c["e2e_ms"] or {}, r["e2e_ms"] or {}
        rows.append(
            f"| {_rate(c)} | {c['accepted_rate']:,.0f} / {r['accepted_rate']:,.0f} "
            f"(×{c['accepted_rate'] / max(r['accepted_rate'], 1e-9):.2f}) "
            f"| {_f(c['http_ms']['p99'], 2)} / {_f(r['http_ms']['p99'], 2)} "
            f"| {_f(ce.get('p99'), 2)} / {_f(re_.get('p99'), 2)} "
            f"| {_f(c['cpu_ms_per_1k']['order_service'])} / "
            f"{_f(r['cpu_ms_per_1k']['reference'])} "
            f"| {_f(c['peak_rss_mib']['order_service'])} / "
            f"{_f(r['peak_rss_mib']['reference'])} |")
    return "\n".join(rows)


def _stage_rows(p):
    """(label, mean, p50, p99) of each link of the chain (bench/stages.py),
    the derived ones with p50/p99 None; then the sum against the e2e mean."""
    s, e = p.get("stages_ms") or {}, p.get("e2e_ms") or {}
    if not all(k in s for k in ("accept", "wait", "open", "commit", "fetch", "write")):
        return []
    get = lambda k: (s[k]["mean"], s[k]["p50"], s[k]["p99"])  # noqa: E731
    a = p["http_ms"]["mean"] - s["accept"]["mean"]
    e_mean = s["fetch"]["mean"] - s["open"]["mean"] - s["commit"]["mean"]
    rows = [("A intended send → record timestamp (HTTP mean − produce→ack)", a, None, None),
            ("B record timestamp → polled by processing", *get("wait")),
            ("C polled → its commit starts (open transaction)", *get("open")),
            ("D commit_transaction", *get("commit")),
            ("E commit done → fetched by notification (status ts→fetched − C − D)",
             e_mean, None, None),
            ("F fetched → line written", *get("write")),
            ("(status timestamp → fetched, = C + D + E, measured)", *get("fetch")),
            ("(produce → broker ack in order_service, inside A's HTTP answer)", *get("accept"))]
    total = a + s["wait"]["mean"] + s["fetch"]["mean"] + s["write"]["mean"]
    rows.append(("**A+B+C+D+E+F** against the end-to-end mean / p50 / p99",
                 total, None, None))
    rows.append(("end to end (loadgen intended send → line seen by the tailer)",
                 e.get("mean"), e.get("p50"), e.get("p99")))
    return rows


def _stages(points):
    """One table per load point that has the stage histograms."""
    out = []
    for p in points:
        rows = _stage_rows(p)
        if not rows:
            continue
        out += [f"**{p['label']}** ({_rate(p)}, load average {_f(p.get('loadavg_1m'))})", "",
                "| stage | mean ms | p50 ms | p99 ms |", "|---|---|---|---|"]
        out += [f"| {n} | {_f(m, 2)} | {_f(a, 2)} | {_f(b, 2)} |" for n, m, a, b in rows]
        out.append("")
    return "\n".join(out)


def _compare(doc):
    """Variants of the settings, end to end, with their stage means."""
    rows = [f"Measured {doc['started']} – {doc['finished']}; the variants interleaved "
            f"({doc['settings'].get('repeat', 1)} round(s)), processing_service and "
            "notification_service restarted for each. Stage means in ms (bench/stages.py: "
            "A intended send → record timestamp, B record ts → polled, C open transaction, "
            "D commit, E commit → fetched, F fetched → line; Σ against the e2e mean).", "",
            "| variant | settings | offered | e2e p50 / p99 / mean ms | A | B | C | D | E | F "
            "| Σ A..F "
            "| CPU cores processing / notification / broker | peak RSS MiB processing / "
            "notification (anonymous at the end) | load avg |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    cmp = doc["compare"]
    for p in cmp["e2e"]:
        e, s = p.get("e2e_ms") or {}, p.get("stages_ms") or {}
        m = {k: v["mean"] for k, v in s.items()}
        full = all(k in m for k in ("accept", "wait", "fetch", "open", "commit", "write"))
        d_a = p["http_ms"].get("mean", 0) - m["accept"] if full else None
        d_e = m["fetch"] - m["open"] - m["commit"] if full else None
        total = d_a + m["wait"] + m["fetch"] + m["write"] if full else None
        c, r, a = p["cpu_cores"], p["peak_rss_mib"], p.get("rss_anon_mib") or {}
        rows.append(
            f"| {p['variant']} | `{p['variant_env']}` | {_rate(p)} "
            f"| {_f(e.get('p50'), 1)} / {_f(e.get('p99'), 1)} / {_f(e.get('mean'), 1)} "
            f"| {_f(d_a, 1)} | {_f(m.get('wait'), 1)} | {_f(m.get('open'), 1)} "
            f"| {_f(m.get('commit'), 1)} | {_f(d_e, 1)} | {_f(m.get('write'), 1)} | {_f(total, 1)} "
            f"| {_f(c.get('processor'), 2)} / {_f(c.get('notification_service'), 2)} / "
            f"{_f(c.get('broker'), 2)} | {_f(r.get('processor'))} / "
            f"{_f(r.get('notification_service'))} "
            f"({_f(a.get('processor'))} / {_f(a.get('notification_service'))}) "
            f"| {_f(p.get('loadavg_1m'))} |")
    if cmp.get("catch_up"):
        rows += ["", f"Catch-up of {cmp['orders']:,} preloaded orders by processing_service:", "",
                 "| variant | settings | records/s from the first commit | CPU s per 100k "
                 "(cores) | broker CPU s per 100k (cores) | peak RSS MiB | load avg |",
                 "|---|---|---|---|---|---|---|"]
        for p in cmp["catch_up"]:
            rows.append(f"| {p['variant']} | `{p['variant_env']}` | {p['records_per_s']:,.0f} "
                        f"| {_f(p['cpu_s_per_100k'], 2)} ({_f(p.get('cpu_cores'), 2)}) "
                        f"| {_f(p.get('broker_cpu_s_per_100k'), 2)} "
                        f"({_f(p.get('broker_cpu_cores'), 2)}) | {_f(p['peak_rss_mib'])} "
                        f"| {_f(p['loadavg_1m'])} |")
    return "\n".join(rows)


def _streams(s):
    """processing_service against its Kafka Streams twin (streams.json)."""
    names = {"c": "processing_service (C)", "streams": "Kafka Streams 3.9"}
    rows = [f"Measured {s['started']} – {s.get('finished', '?')}; "
            f"{s['orders']:,} orders preloaded for the catch-up; the contenders "
            "interleaved at each commit cadence. Load average (1 min) of the shared "
            "host with each figure.", "",
            "### Catch-up", "",
            "| commit ms | contender | records/s from the first commit | records/s with "
            "the start | CPU s per 100k records (cores) | broker CPU s per 100k (cores) "
            "| peak RSS MiB | load avg |",
            "|---|---|---|---|---|---|---|---|"]
    for p in s["catch_up"]:
        rows.append(f"| {p['commit_ms']} | {names[p['contender']]} "
                    f"| {p['records_per_s']:,.0f} | {p['records_per_s_with_start']:,.0f} "
                    f"| {_f(p['cpu_s_per_100k'], 2)} ({_f(p.get('cpu_cores'), 2)}) "
                    f"| {_f(p.get('broker_cpu_s_per_100k'), 2)} "
                    f"({_f(p.get('broker_cpu_cores'), 2)}) | {_f(p['peak_rss_mib'])} "
                    f"| {_f(p['loadavg_1m'])} |")
    rows += ["", "### End to end (POST → order_service → contender → notification line)", "",
             "| commit ms | offered | contender | accepted/s | end-to-end p50 / p99 / max ms "
             "| contender CPU cores | contender peak RSS MiB | not 202 / no line | load avg |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in s["e2e"]:
        e = p["e2e_ms"] or {}
        rows.append(f"| {p['commit_ms']} | {_rate(p)} | {names[p['contender']]} "
                    f"| {p['accepted_rate']:,.0f} "
                    f"| {_f(e.get('p50'), 1)} / {_f(e.get('p99'), 1)} / {_f(e.get('max'), 1)} "
                    f"| {_f(p['cpu_cores'].get('processor'), 2)} "
                    f"| {_f(p['peak_rss_mib'].get('processor'))} | {_errors(p)} "
                    f"| {_f(p['loadavg_1m'])} |")
    stage_tables = _stages([p for p in s["e2e"] if p["contender"] == "c"])
    if stage_tables:
        rows += ["", "### Where processing_service's end-to-end time goes", "", stage_tables]
    return "\n".join(rows)


def plot(results, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Latency against the offered rate (open-loop points); saturation
    # throughput in the title. Beyond what a front can take, open-loop
    # latency grows with the backlog: that is the knee the plot shows.
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sat = []
    for key, name, style in (("c", "C order_service", "-"),
                             ("reference", "Python reference", "--")):
        pts = [p for p in results.get(key, []) if p["target_rate"] > 0]
        sat += [f"{name} {p['accepted_rate']:,.0f}/s" for p in results.get(key, [])
                if p["target_rate"] == 0]
        if not pts:
            continue
        x = [p["target_rate"] for p in pts]
        ax.plot(x, [p["http_ms"]["p50"] for p in pts], "o" + style, color="C0",
                label=f"{name}: HTTP p50")
        ax.plot(x, [p["http_ms"]["p99"] for p in pts], "s" + style, color="C1",
                label=f"{name}: HTTP p99")
        if all(p["e2e_ms"] for p in pts):
            ax.plot(x, [p["e2e_ms"]["p50"] for p in pts], "v" + style, color="C2",
                    label=f"{name}: end-to-end p50")
            ax.plot(x, [p["e2e_ms"]["p99"] for p in pts], "^" + style, color="C3",
                    label=f"{name}: end-to-end p99")
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("offered orders/s (open loop)")
    ax.set_ylabel("latency, ms (log)")
    ax.set_yscale("log")
    title = "Latency against offered load (2 cores shared with the broker)"
    if sat:
        title += "\nsaturation: " + ", ".join(sat)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency.png"), dpi=110)
    plt.close(fig)

    pts = results.get("c", [])
    if pts:
        names = ["order_service", "processing_service", "notification_service",
                 "broker", "loadgen"]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        bottom = [0.0] * len(pts)
        labels = [_rate(p) for p in pts]
        for n in names:
            vals = [p["cpu_cores"].get(n, 0) for p in pts]
            ax.bar(labels, vals, bottom=bottom, label=n)
            bottom = [b + v for b, v in zip(bottom, vals)]
        vals = [p.get("other_cpu_cores", 0) for p in pts]
        ax.bar(labels, vals, bottom=bottom, label="other processes on the host",
               color="lightgrey", hatch="//")
        ax.set_ylabel("CPU cores (average over the point)")
        ax.set_xlabel("offered load")
        ax.set_title("Where the CPU goes (2 cores in all)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "cpu.png"), dpi=110)
        plt.close(fig)


def write(results, out):
    lines = [
        "# Pipeline benchmark",
        "",
        f"Measured {results['started']} – {results.get('finished', '?')} on "
        f"{results['host']['cpus']} CPUs (Linux {results['host']['kernel']}), the broker, the "
        f"services and the load generator on the same host. Settings: "
        f"{json.dumps(results['settings'])}. Produced by `bench/run.sh`; "
        "see docs/bench.md for what each figure means.",
        "",
    ]
    if results.get("c"):
        lines += ["## C services", "", _table(results["c"], "order_service"), ""]
    if results.get("c") and _stages(results["c"]):
        lines += ["## Where the end-to-end time goes (C services, stage histograms)", "",
                  "Means add up; percentiles are interpolated within the histograms' "
                  "buckets and do not. See bench/stages.py.", "",
                  _stages(results["c"]), ""]
    if results.get("reference"):
        lines += ["## Python reference in front (same processing and notification services)",
                  "", _table(results["reference"], "reference"), ""]
    if results.get("c") and results.get("reference"):
        lines += ["## C order_service against the Python reference", "",
                  _comparison(results["c"], results["reference"]), ""]
    streams = os.path.join(out, "streams.json")
    if os.path.exists(streams):
        with open(streams) as f:
            doc = json.load(f)
        doc = dict(doc.pop("streams", {}), **doc)
        lines += ["## processing_service against Kafka Streams (`bench/run.sh "
                  "--streams-reference`)", "", _streams(doc), ""]
    compares = sorted(f for f in os.listdir(out) if re.fullmatch(r"compare\d*\.json", f))
    if compares:
        lines += ["## Changes measured one at a time (`bench/run.sh --compare`)", ""]
    for name in compares:
        with open(os.path.join(out, name)) as f:
            lines += [f"### {name}", "", _compare(json.load(f)), ""]
    lines += ["![latency against throughput](latency.png)", ""]
    if results.get("c"):
        lines += ["![CPU by process](cpu.png)", ""]
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write("\n".join(lines))
    plot(results, out)


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
    with open(os.path.join(d, "results.json")) as f:
        write(json.load(f), d)
