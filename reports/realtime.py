"""The real-time part of `xrdbench report`: results.json's "realtime" block (xrdbench-realtime/1, docs/realtime.md).

For every paced run: one figure with the latency distribution (release -> pattern, p50/p99 and --max-latency
marked), the backlog over time (the buffer's size marked) and the verdict in its title; a table of the runs; the
procurement matrix (detector x strategy -> max sustainable rate, keeps up at the nominal rate), side by side for
every machine, with its figure. blocks() returns report.py's blocks; it writes the figures into out_dir.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCHEMA = "xrdbench-realtime/1"


def _block(res):
    rt = res.raw.get("realtime")
    return rt if isinstance(rt, dict) and rt.get("schema") == SCHEMA else None


def _num(v, fmt="%.1f", none="-"):
    return fmt % v if isinstance(v, (int, float)) and not isinstance(v, bool) else none


def _verdict(run):
    v = run.get("verdict") or {}
    if v.get("keeps_up"):
        return "keeps up (headroom %s ms)" % _num(v.get("headroom_ms"))
    reasons = "; ".join(v.get("reasons") or []) or "no reason given"
    extra = ""
    if isinstance(v.get("first_drop_s"), (int, float)):
        extra = ", buffer full after %.2f s" % v["first_drop_s"]
    elif isinstance(v.get("time_to_full_s"), (int, float)):
        extra = ", buffer full in %.0f s" % v["time_to_full_s"]
    return "FALLS BEHIND: %s%s" % (reasons, extra)


def _title(run):
    det = (" on " + run["detector"]) if run.get("detector") else ""
    return "%s%s at %s Hz" % (run.get("row", run.get("strategy", "?")), det, _num(run.get("rate_hz"), "%g"))


def run_figure(run, path):
    """Latency histogram and backlog over time of one paced run."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    lat = [x for x in (run.get("latencies_ms") or []) if isinstance(x, (int, float))]
    lm = run.get("latency_ms") or {}
    if lat:
        a.hist(lat, bins=min(60, max(10, len(lat) // 5)), color="#4878a8")
    for key, style in (("p50", "--"), ("p99", ":")):
        if isinstance(lm.get(key), (int, float)):
            a.axvline(lm[key], color="k", linestyle=style, label="%s %.1f ms" % (key, lm[key]))
    if isinstance(run.get("max_latency_ms"), (int, float)) and lat and run["max_latency_ms"] < 3 * max(lat):
        a.axvline(run["max_latency_ms"], color="#c03030", label="--max-latency")
    a.set_xlabel("latency release -> pattern (ms)")
    a.set_ylabel("frames")
    a.legend(fontsize=8)
    series = (run.get("backlog") or {}).get("series") or []
    if series:
        b.step([p[0] for p in series], [p[1] for p in series], where="post", color="#4878a8")
    buf = run.get("buffer_frames")
    top = max([p[1] for p in series] + [1])
    if isinstance(buf, int) and buf <= 2 * top:
        b.axhline(buf, color="#c03030", label="buffer (%d frames)" % buf)
        b.legend(fontsize=8)
    b.set_xlabel("time since the first release (s)")
    b.set_ylabel("backlog (frames released, not done)")
    fig.suptitle("%s: %s" % (_title(run), _verdict(run)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def matrix_figure(entries, path):
    """Max sustainable rate per detector and strategy (one bar per machine), the nominal rate as a mark."""
    keys = []
    for e in entries:
        k = (e["detector"], e["strategy"])
        if k not in keys:
            keys.append(k)
    machines = []
    for e in entries:
        if e["machine"] not in machines:
            machines.append(e["machine"])
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(keys) * max(1, len(machines))), 4))
    width = 0.8 / max(1, len(machines))
    for mi, m in enumerate(machines):
        xs, ys, cs = [], [], []
        for ki, k in enumerate(keys):
            e = next((x for x in entries if x["machine"] == m and (x["detector"], x["strategy"]) == k), None)
            if e is None:
                continue
            v = e.get("max_rate_hz")
            if not isinstance(v, (int, float)):
                v = e.get("rate_hz") if e.get("keeps_up_at_nominal") else 0
            xs.append(ki + (mi - (len(machines) - 1) / 2) * width)
            ys.append(v or 0)
            cs.append("#3a923a" if e.get("keeps_up_at_nominal") else "#c03030")
        ax.bar(xs, ys, width=width * 0.95, color=cs, edgecolor="k", linewidth=0.4, label=m)
    for ki, k in enumerate(keys):
        e = next(x for x in entries if (x["detector"], x["strategy"]) == k)
        ax.plot([ki - 0.45, ki + 0.45], [e["nominal_hz"]] * 2, color="k", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(["%s\n%s" % k for k in keys], fontsize=8)
    ax.set_ylabel("max sustainable rate (frames/s)")
    ax.set_title("Procurement matrix: green keeps up at the nominal rate (dashed), red does not\n"
                 "(a run without --find-max shows the nominal rate it kept up with: a lower bound)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def blocks(results, out_dir):
    """report.py blocks for every results file with a realtime block (none when there is none)."""
    with_rt = [(res, _block(res)) for res in results if _block(res)]
    if not with_rt:
        return []
    out = [("h", 2, "Real time: paced detector streams"),
           ("p", "`xrdbench realtime` releases frame i at t0 + i / rate into a bounded buffer; a frame released "
                 "into a full buffer is dropped. Latency runs from a frame's release to its pattern in the sink. A "
                 "run keeps up when nothing was dropped, the backlog did not grow and the p99 latency stayed under "
                 "--max-latency; the max sustainable rate comes from --find-max (bisection on fixed-length runs).")]
    n = 0
    matrix = []
    for res, rt in with_rt:
        rows, images = [], []
        for run in rt.get("runs") or []:
            if "error" in run:
                rows.append([run.get("row", "?"), run.get("detector") or "-", "-", "-", "-", "-", "-", "-",
                             "FAILED: " + str(run["error"]), "-"])
                continue
            lm = run.get("latency_ms") or {}
            fm = run.get("find_max") or {}
            rows.append([run.get("row", "?"), run.get("detector") or "-", _num(run.get("rate_hz"), "%g"),
                         "%s / %s" % (run.get("reduced", "?"), run.get("dropped", "?")),
                         "%s / %s / %s" % (_num(lm.get("p50")), _num(lm.get("p99")), _num(lm.get("max"))),
                         "%s (%s/s)" % ((run.get("backlog") or {}).get("max", "?"),
                                        _num((run.get("backlog") or {}).get("growth_fps"), "%+.1f")),
                         _num(fm.get("max_rate_hz")),
                         _num(fm.get("ratio_to_batch"), "%.2f"),
                         _verdict(run) if run.get("validated") else "INVALID: " +
                         "; ".join(run.get("invalid_reasons") or ["not validated"]),
                         _num(fm.get("batch_fps"))])
            n += 1
            name = "realtime_%d.png" % n
            run_figure(run, os.path.join(out_dir, name))
            images.append(("img", name, "latency and backlog of " + _title(run)))
        out += [("h", 3, "Paced runs on %s" % res.label),
                ("table", ["run", "detector", "rate Hz", "reduced / dropped", "latency p50 / p99 / max ms",
                           "backlog max (growth)", "max rate Hz", "max / batch", "verdict", "batch fps"],
                 rows, {2, 6, 7, 9})] + images
        for e in rt.get("matrix") or []:
            matrix.append(dict(e, machine=res.label))
    if matrix:
        body = [[e["machine"], e["detector"], _num(e.get("nominal_hz"), "%g"), e["strategy"],
                 {True: "yes", False: "NO"}.get(e.get("keeps_up_at_nominal"), "-"), _num(e.get("max_rate_hz")),
                 _num(e.get("batch_fps"))] for e in matrix]
        matrix_figure(matrix, os.path.join(out_dir, "realtime_matrix.png"))
        out += [("h", 3, "Procurement matrix: can this machine keep up with this detector?"),
                ("table", ["machine", "detector", "nominal Hz", "strategy", "keeps up at nominal", "max rate Hz",
                           "batch fps"], body, {2, 5, 6}),
                ("img", "realtime_matrix.png", "max sustainable rate per detector and strategy")]
    return out
