"""The MPI scaling view of `xrdbench report`: frames/s against the number of ranks (rows run by `mpirun -n R`, whose
results carry an "mpi" object; a row without one is 1 rank), one line per machine, row and threads per rank, each
with its ideal line (the fewest-ranks point times the ratio of ranks). section() returns the report blocks and writes
scaling.png; it returns nothing when no results file has an MPI row."""
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

from figures import DPI, INVALID, MACHINE_COLOURS  # noqa: E402
from xrdresults import fmt_fps, machine_label  # noqa: E402

MPI_SUFFIX = re.compile(r"-mpi\d+$")
LINE_STYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "^", "s", "D", "v", "P"]


def ranks_of(row):
    mpi = row.raw.get("mpi")
    return int(mpi["ranks"]) if isinstance(mpi, dict) and isinstance(mpi.get("ranks"), int) else 1


THREADS_SUFFIX = re.compile(r"-t(\d+)$")


def threads_of(res, row):
    """Worker threads of each rank: the row id's -t<T> (scripts/device_mpi.sh names rows so), the ranks' own figure
    for MPI rows, else the machine's threads_used."""
    m = THREADS_SUFFIX.search(MPI_SUFFIX.sub("", row.id))
    if m:
        return int(m.group(1))
    mpi = row.raw.get("mpi")
    if isinstance(mpi, dict) and mpi.get("per_rank"):
        t = mpi["per_rank"][0].get("threads")
        if isinstance(t, int) and t > 0:
            return t
    t = res.machine.get("threads_used")
    return t if isinstance(t, int) and t > 0 else None


def series(results):
    """{(machine, base row id, threads per rank): [(ranks, row)]} sorted by ranks, over rows with fps. Results files
    of the same machine (host name) join: one file per rank count is the usual way to measure."""
    out = {}
    for res in results:
        for r in res.rows:
            if not r.has_fps:
                continue
            key = (machine_label(res.machine), MPI_SUFFIX.sub("", r.id), threads_of(res, r))
            out.setdefault(key, []).append((ranks_of(r), r))
    for pts in out.values():
        pts.sort(key=lambda p: p[0])
    return out


def has_mpi(results):
    return any(ranks_of(r) > 1 for res in results for r in res.rows)


def _label(key):
    machine, base, threads = key
    t = "" if threads is None else ", %d thread%s/rank" % (threads, "" if threads == 1 else "s")
    return "%s: %s%s" % (machine, base, t)


def figure(results, path):
    """scaling.png: fps (log) against ranks (log2); solid measured, dotted ideal, grey rings on invalid points."""
    fig, ax = plt.subplots(figsize=(9.5, 5.8))
    handles, ranks, values = [], set(), []
    machines = sorted({k[0] for k in series(results)})
    shown = {k: v for k, v in sorted(series(results).items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0))
             if any(p[0] > 1 for p in v)}
    for i, (key, pts) in enumerate(shown.items()):
        colour = MACHINE_COLOURS[i % len(MACHINE_COLOURS)]
        style, marker = LINE_STYLES[machines.index(key[0]) % len(LINE_STYLES)], MARKERS[i % len(MARKERS)]
        xs = [p[0] for p in pts]
        ys = [p[1].fps_median for p in pts]
        ax.errorbar(xs, ys, yerr=[p[1].fps_mad for p in pts], color=colour, linestyle=style, marker=marker, ms=6,
                    capsize=3, lw=1.6, zorder=3)
        x0, y0 = xs[0], ys[0]
        ideal = [y0 * x / x0 for x in xs]
        ax.plot(xs, ideal, color=colour, linestyle=":", lw=1.2, zorder=2)
        bad = [(x, y) for x, y, (_, r) in zip(xs, ys, pts) if not r.valid]
        if bad:
            ax.scatter([b[0] for b in bad], [b[1] for b in bad], s=120, facecolors="none", edgecolors=INVALID,
                       linewidths=1.5, zorder=4)
        handles.append(Line2D([], [], color=colour, linestyle=style, marker=marker, label=_label(key)))
        ranks.update(xs)
        values += ys + ideal
    handles.append(Line2D([], [], color="#444444", linestyle=":", label="ideal: fewest-ranks point x ranks"))
    if not ranks:
        ranks = {1, 2}
        ax.text(0.5, 0.5, "no MPI rows in these results", ha="center", va="center", transform=ax.transAxes)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(ranks)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "%d" % v))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(min(ranks) / 1.3, max(ranks) * 1.3)
    if values:
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 1.4, max(values) * 1.4)
    ax.set_xlabel("MPI ranks (log scale)")
    ax.set_ylabel("aggregate frames per second (log scale), median ± MAD")
    ax.set_title("MPI ranks: aggregate throughput against the number of ranks")
    ax.grid(which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def table(results):
    """Every point: machine, row, ranks, threads per rank, fps, the ideal and the efficiency (fps / ideal)."""
    header = ["machine", "row", "ranks", "threads/rank", "fps (MAD)", "ideal fps", "efficiency", "valid"]
    body = []
    for key, pts in sorted(series(results).items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        if not any(p[0] > 1 for p in pts):
            continue
        x0, y0 = pts[0][0], pts[0][1].fps_median
        for ranks, r in pts:
            ideal = y0 * ranks / x0
            body.append([key[0], key[1], str(ranks), "" if key[2] is None else str(key[2]),
                         fmt_fps(r.fps_median, r.fps_mad), fmt_fps(ideal), "%.0f%%" % (100 * r.fps_median / ideal),
                         "valid" if r.valid else r.validity_text(60)])
    return ("table", header, body, {2, 3, 4, 5, 6})


def section(results, out_dir):
    """The report's blocks for MPI scaling (and scaling.png in out_dir); [] when no row ran on more than one rank."""
    if not has_mpi(results):
        return []
    import os
    figure(results, os.path.join(out_dir, "scaling.png"))
    return [("h", 2, "MPI ranks: scaling"),
            ("p", "Rows run by `mpirun -n R xrdbench ...`: each rank reduces a contiguous block of the frames; the "
                  "aggregate is every frame over the time from the start barrier to the end of the slowest rank (to "
                  "the end of rank 0's writing when patterns are written). The ideal line multiplies the "
                  "fewest-ranks point of the same row and threads per rank by the ratio of ranks."),
            table(results),
            ("img", "scaling.png", "aggregate fps against MPI ranks, with the ideal line")]
