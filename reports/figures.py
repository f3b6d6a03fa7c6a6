"""The report's figures (matplotlib, Agg): Table 1, pool scaling, stage profile, machine comparison.

Each function takes loaded results (xrdresults.Results), writes one PNG and returns its path. fps axes are
logarithmic: rows span 10..10000 frames/s. The paper's values come in as {row id: (median fps, MAD)}
(xrdresults.paper_values: the rows' "paper" objects, else shared/paper/table1.csv).
"""
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator  # noqa: E402

from xrdresults import REALTIME_FPS, fmt_fps, opencl_devices, row_ids, stage_names  # noqa: E402

DPI = 110
MAX_ROWS = 80  # rows drawn per figure (report.MAX_FIGURE_ROWS): the figures show the first ones, the tables all
STAGE_CAP_MS = 86.4e6
FPS_CAP = 1e9  # an axis never spans beyond this (a hostile file's 1e300 fps would make ~300 decades of ticks)
OURS = "#1f77b4"
PAPER = "#ff7f0e"
INVALID = "#9e9e9e"
REALTIME = "#d62728"
MACHINE_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
STAGE_COLOURS = {"read": "#8dd3c7", "md5": "#ffffb3", "decode": "#bebada", "integrate": "#fb8072",
                 "write": "#80b1d3", "wait": "#d9d9d9", "other": "#fdb462"}
LABEL_BOX = dict(facecolor="white", edgecolor="none", pad=0.3, alpha=0.85)  # value labels stay legible on lines
PAPER_POOL_ID = re.compile(r"pool-(\d+)-gpu-MEM")  # the paper's pool rows
PAPER_MACHINE = "paper: 2x Xeon E5-2643 v3, Titan-X"
# The paper's section 2.3 profile of the sequential pipeline (shared/paper/facts.md): 1202 frames, 43 s in all, of
# which integration 29 s, byte-offset decompression 4.9 s, MD5 4.7 s; the rest (4.4 s) is mostly reading.
PAPER_PROFILE_MS = {"read": 4.4e3 / 1202, "md5": 4.7e3 / 1202, "decode": 4.9e3 / 1202, "integrate": 29e3 / 1202}


def _fps_axis(ax, lo, hi, axis="x"):
    """Log fps axis with plain-number ticks at 1-2-5 steps between lo and hi."""
    lo = min(max(lo, 0.1), FPS_CAP / 10) if math.isfinite(lo) else 0.1
    hi = min(max(hi, lo * 2), FPS_CAP) if math.isfinite(hi) else FPS_CAP
    ticks = []
    decade = 0.1
    while decade <= hi * 10:
        ticks += [t for t in (decade, 2 * decade, 5 * decade) if lo <= t <= hi]
        decade *= 10
    set_scale, set_lim, axis_obj = (ax.set_xscale, ax.set_xlim, ax.xaxis) if axis == "x" else \
        (ax.set_yscale, ax.set_ylim, ax.yaxis)
    set_scale("log")
    set_lim(lo, hi)
    axis_obj.set_major_locator(FixedLocator(ticks))
    axis_obj.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
    axis_obj.set_minor_formatter(NullFormatter())


def _fps_range(values):
    vals = [min(v, FPS_CAP) for v in values if v and v > 0 and math.isfinite(v)]
    if not vals:
        return 1.0, 1000.0
    lo = min(vals + [REALTIME_FPS]) / 2.0
    hi = max(vals + [REALTIME_FPS]) * 3.0
    return lo, hi


def _realtime_line(ax, axis="x"):
    if axis == "x":
        ax.axvline(REALTIME_FPS, color=REALTIME, linestyle="--", linewidth=1.2, zorder=1)
    else:
        ax.axhline(REALTIME_FPS, color=REALTIME, linestyle="--", linewidth=1.2, zorder=1)
    return Line2D([], [], color=REALTIME, linestyle="--", label="detector: %g frames/s (Pilatus3 2M)" % REALTIME_FPS)


def _row_label(row):
    return row.id + (" \u2020" if row.device_is_cpu_opencl else "")


def _finish(fig, handles, ncol=2, footnote=None):
    """Legend (and a footnote) in a band under the axes, sized in inches so it never overlaps them."""
    fig_h = fig.get_figheight()
    legend_h = 0.22 * -(-len(handles) // ncol) + 0.12
    foot_h = 0.24 if footnote else 0.0
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, foot_h / fig_h), ncol=ncol, fontsize=8,
               frameon=False)
    if footnote:
        fig.text(0.01, 0.06 / fig_h, footnote, fontsize=7.5, color="#444444", va="bottom")
    fig.tight_layout(rect=(0, (legend_h + foot_h) / fig_h, 1, 1))


def _save(fig, path):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def table1(res, paper, path):
    """Every row's median fps with MAD error bars, the paper's value beside it, the 250 Hz line."""
    rows = res.rows[:MAX_ROWS]
    n = len(rows)
    fig, ax = plt.subplots(figsize=(10, 2.4 + 0.42 * n))
    h = 0.38
    values = []
    has_paper = has_invalid = has_cpu_ocl = False
    for i, r in enumerate(rows):
        y = n - 1 - i
        pv, pm = paper.get(r.id, (None, None))
        yo = y + h / 2 if pv else y  # our bar above the paper's, or centred when the paper has no such row
        if r.has_fps:
            colour = OURS if r.valid else INVALID
            ax.barh(yo, r.fps_median, height=h, color=colour, hatch=None if r.valid else "//",
                    edgecolor="white" if r.valid else "#616161", xerr=r.fps_mad,
                    error_kw=dict(ecolor="black", capsize=2, lw=1), zorder=2)
            ax.text((r.fps_median + r.fps_mad) * 1.08, yo, fmt_fps(r.fps_median) + ("" if r.valid else "  invalid"),
                    va="center", fontsize=7.5, color="black" if r.valid else "#616161", bbox=LABEL_BOX)
            values.append(r.fps_median)
        else:
            ax.text(0.01, yo, "no result", va="center", fontsize=7.5, color=INVALID,
                    transform=ax.get_yaxis_transform())
        has_invalid |= not r.valid
        has_cpu_ocl |= r.device_is_cpu_opencl
        if pv:
            has_paper = True
            ax.barh(y - h / 2, pv, height=h, color=PAPER, xerr=pm or 0,
                    error_kw=dict(ecolor="black", capsize=2, lw=1), zorder=2)
            ax.text((pv + (pm or 0)) * 1.08, y - h / 2, fmt_fps(pv), va="center", fontsize=7.5, color="#7f3f00",
                    bbox=LABEL_BOX)
            values.append(pv)
    lo, hi = _fps_range(values)
    _fps_axis(ax, lo, hi)
    ax.set_yticks(range(n))
    ax.set_yticklabels([_row_label(r) for r in reversed(rows)], fontsize=8.5)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel("frames per second (log scale): median over the runs, error bar = MAD")
    ax.grid(axis="x", which="major", alpha=0.3, zorder=0)
    ax.set_title("Table 1 on %s: %s frames, %s repeats\n(hot = MEM, cold = SSD%s)" % (
        res.label, res.dataset.get("frames", "?"), res.settings.get("repeats", "?"), _device_rows_text(rows)),
        fontsize=10.5)
    handles = [Patch(color=OURS, label="xrdbench, this run")]
    if has_invalid:
        handles.append(Patch(facecolor=INVALID, edgecolor="#616161", hatch="//", label="invalid row (see report)"))
    if has_paper:
        handles.append(Patch(color=PAPER, label="paper (Kieffer et al. 2018): 2x Xeon E5-2643 v3, Titan-X"))
    handles.append(_realtime_line(ax))
    _finish(fig, handles, footnote="\u2020 a GPU row that ran on an OpenCL CPU device (no GPU on this machine)"
            if has_cpu_ocl else None)
    return _save(fig, path)


def _device_rows_text(rows):
    """'; device rows on the GPU X' or '; device rows on the OpenCL CPU device X (no GPU)': a row that ran on a CPU
    OpenCL device is never said to be on a GPU."""
    gpus = sorted({r.device for r in rows if r.integrator == "gpu" and r.device and not r.device_is_cpu_opencl})
    cpus = sorted({r.device for r in rows if r.integrator == "gpu" and r.device and r.device_is_cpu_opencl})
    out = ""
    if gpus:
        out += "; device rows on the GPU " + ", ".join(gpus)
    if cpus:
        out += "; device rows \u2020 on the OpenCL CPU device " + ", ".join(cpus)
    return out


def _integration_text(integ, rows):
    """The pool legend's integration: 'GPU' only when every point ran on a GPU."""
    if integ != "gpu":
        return integ.upper()
    if all(r.device_is_cpu_opencl for r in rows):
        return "OpenCL CPU device (\u2020)"
    if any(r.device_is_cpu_opencl for r in rows):
        return "OpenCL device (GPU and CPU devices mixed)"
    return "GPU"


def _pool_series(res):
    """{(integrator, source): [(readers, row)]} for the rows of strategy 'pool' with a readers count."""
    out = {}
    for r in res.rows:
        if r.strategy == "pool" and isinstance(r.readers, int) and r.readers > 0 and r.has_fps:
            out.setdefault((r.integrator, r.source), []).append((r.readers, r))
    for v in out.values():
        v.sort(key=lambda t: t[0])
    return out


def pool_scaling(results, paper, path):
    """fps against the number of readers: one line per machine and pool variant, the paper's line."""
    fig, ax = plt.subplots(figsize=(9, 5.6))
    values, readers = [], set()
    handles = []
    styles = {"gpu": "-", "cpu": "--"}
    markers = {"gpu": "o", "cpu": "^"}
    for mi, res in enumerate(results):
        colour = MACHINE_COLOURS[mi % len(MACHINE_COLOURS)]
        for (integ, source), pts in sorted(_pool_series(res).items()):
            xs = [p[0] for p in pts]
            ys = [p[1].fps_median for p in pts]
            es = [p[1].fps_mad for p in pts]
            ax.errorbar(xs, ys, yerr=es, color=colour, linestyle=styles.get(integ, ":"), marker=markers.get(integ, "s"), ms=6,
                        capsize=3, lw=1.6, zorder=3)
            bad = [(x, y) for x, (_, r) in zip(xs, pts) for y in [r.fps_median] if not r.valid]
            if bad:
                ax.scatter([b[0] for b in bad], [b[1] for b in bad], s=110, facecolors="none",
                           edgecolors=INVALID, linewidths=1.5, zorder=4)
            handles.append(Line2D([], [], color=colour, linestyle=styles.get(integ, ":"), marker=markers.get(integ, "s"),
                                  label="%s: pool, %s integration, %s" % (
                                      res.label, _integration_text(integ, [p[1] for p in pts]), source)))
            values += ys
            readers.update(xs)
    paper_pts = sorted((int(m.group(1)), v) for k, v in paper.items() for m in [PAPER_POOL_ID.fullmatch(k)] if m)
    if paper_pts:
        xs = [p[0] for p in paper_pts]
        ax.errorbar(xs, [p[1][0] for p in paper_pts], yerr=[p[1][1] for p in paper_pts], color=PAPER,
                    marker="s", ms=5, capsize=3, lw=1.6, zorder=3)
        handles.append(Line2D([], [], color=PAPER, marker="s", label="paper: pool, GPU integration, MEM (Titan-X)"))
        values += [p[1][0] for p in paper_pts]
        readers.update(xs)
    if any(not r.valid for res in results for _, pts in _pool_series(res).items() for _, r in pts):
        handles.append(Line2D([], [], marker="o", ms=10, color="none", markerfacecolor="none",
                              markeredgecolor=INVALID, label="invalid point"))
    handles.append(_realtime_line(ax, axis="y"))
    if not values or len(values) == len(paper_pts):
        ax.text(0.5, 0.93, "no pool rows in these results" + (": the paper's only" if paper_pts else ""),
                ha="center", va="center", transform=ax.transAxes, color="#444444", bbox=LABEL_BOX)
    if not readers:
        readers = {1, 2, 4}
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(readers)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "%d" % v))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(min(readers) / 1.3, max(readers) * 1.3)
    lo, hi = _fps_range(values)
    _fps_axis(ax, lo, hi, axis="y")
    ax.set_xlabel("reader threads (log scale)")
    ax.set_ylabel("frames per second (log scale), median ± MAD")
    ax.set_title("Pool of readers: throughput against the number of readers")
    ax.grid(which="major", alpha=0.3)
    _finish(fig, handles)
    return _save(fig, path)


def stages(res, path):
    """Stacked per-stage time per frame for each row (left, ms) and the same as shares (right), with the paper's
    section 2.3 profile of the sequential pipeline on top. 'wait' (idle time, summed over threads: it grows with
    the number of readers) is written beside the bars rather than stacked, so the work stays readable."""
    entries = [("paper §2.3: sequential, CPU", PAPER_PROFILE_MS, 43e3 / 1202)]
    for r in res.rows:
        if r.stages_ms and len(entries) <= MAX_ROWS:
            # Values beyond STAGE_CAP_MS (a day per frame: only a broken file has them) are left out, so the sums and
            # the axis stay finite.
            st = {k: v for k, v in r.stages_ms.items() if v <= STAGE_CAP_MS}
            wall = 1000.0 / r.fps_median if r.has_fps else None
            entries.append((_row_label(r), st, wall if wall is not None and wall <= STAGE_CAP_MS else None))
    names = [k for k in stage_names(s for _, s, _ in entries) if k != "wait"]
    n = len(entries)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12.5, 1.8 + 0.38 * n), sharey=True,
                                  gridspec_kw=dict(width_ratios=[3, 2]))
    ys = list(range(n - 1, -1, -1))
    left = [0.0] * n
    left2 = [0.0] * n
    totals = [sum(v for k, v in s.items() if k != "wait") or 1.0 for _, s, _ in entries]
    for name in names:
        widths = [s.get(name, 0.0) for _, s, _ in entries]
        if not any(widths):
            continue
        colour = STAGE_COLOURS.get(name, STAGE_COLOURS["other"])
        ax.barh(ys, widths, left=left, color=colour, edgecolor="white", linewidth=0.5, label=name, height=0.7)
        shares = [100.0 * w / t for w, t in zip(widths, totals)]
        ax2.barh(ys, shares, left=left2, color=colour, edgecolor="white", linewidth=0.5, height=0.7)
        left = [a + b for a, b in zip(left, widths)]
        left2 = [a + b for a, b in zip(left2, shares)]
    walls = [(y, w) for y, (_, _, w) in zip(ys, entries) if w]
    ax.scatter([w for _, w in walls], [y for y, _ in walls], marker="D", color="black", s=18, zorder=3,
               label="wall time per frame (1000 / fps)")
    xmax = max(left + [w for _, w in walls])
    xmax = xmax if math.isfinite(xmax) and xmax > 0 else 1.0
    for y, (_, s, wall), end in zip(ys, entries, left):
        if s.get("wait", 0) > 0:
            ax.text(max(end, wall or 0) + 0.02 * xmax, y, "wait %s" % fmt_fps(s["wait"]), va="center",
                    fontsize=7.5, color="#616161")
    ax.set_yticks(ys)
    ax.set_yticklabels([e[0] for e in entries], fontsize=8.5)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel("milliseconds per frame (parallel strategies: CPU time summed over threads)")
    ax.set_title("Where the time goes, per frame, on %s" % res.label, fontsize=10.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(0, xmax * 1.15)
    ax2.set_xlim(0, 100)
    ax2.set_xlabel("share of the working stages' total (%)")
    ax2.set_title("Shares of each stage", fontsize=10.5)
    ax2.grid(axis="x", alpha=0.3)
    _finish(fig, ax.get_legend_handles_labels()[0], ncol=7)
    return _save(fig, path)


def machines(results, paper, path):
    """Grouped bars per row id, one colour per machine (and the paper's), log fps, the real-time line."""
    ids = row_ids(results)[:MAX_ROWS]
    paper = {k: v for k, v in paper.items() if k in set(ids)}
    series = [(res.label, MACHINE_COLOURS[k % len(MACHINE_COLOURS)], res) for k, res in enumerate(results)]
    groups = len(series) + (1 if paper else 0)
    h = 0.8 / groups
    n = len(ids)
    fig, ax = plt.subplots(figsize=(10, 2.2 + 0.16 * n * groups + 0.08 * n))
    values = []
    has_invalid = False
    for gi, (label, colour, res) in enumerate(series):
        for i, rid in enumerate(ids):
            r = res.row(rid)
            if r is None or not r.has_fps:
                continue
            y = n - 1 - i + 0.4 - h * (gi + 0.5)
            ax.barh(y, r.fps_median, height=h, color=colour if r.valid else INVALID,
                    hatch=None if r.valid else "//", edgecolor="white" if r.valid else colour, xerr=r.fps_mad,
                    error_kw=dict(ecolor="black", capsize=1.5, lw=0.8), zorder=2)
            has_invalid |= not r.valid
            values.append(r.fps_median)
    if paper:
        gi = len(series)
        for i, rid in enumerate(ids):
            if rid in paper:
                y = n - 1 - i + 0.4 - h * (gi + 0.5)
                ax.barh(y, paper[rid][0], height=h, color=PAPER, xerr=paper[rid][1],
                        error_kw=dict(ecolor="black", capsize=1.5, lw=0.8), zorder=2)
                values.append(paper[rid][0])
    lo, hi = _fps_range(values)
    _fps_axis(ax, lo, hi)
    ax.set_yticks(range(n))
    ax.set_yticklabels(list(reversed(ids)), fontsize=8.5)
    for y in range(n - 1):
        ax.axhline(y + 0.5, color="#dddddd", lw=0.6, zorder=0)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_xlabel("frames per second (log scale), median ± MAD")
    ax.set_title("The same rows on %d machines" % len(results), fontsize=10.5)
    ax.grid(axis="x", which="major", alpha=0.3, zorder=0)
    handles = [Patch(color=c, label="%s (%s)" % (lbl, _machine_short(res))) for lbl, c, res in series]
    if paper:
        handles.append(Patch(color=PAPER, label=PAPER_MACHINE))
    if has_invalid:
        handles.append(Patch(facecolor=INVALID, hatch="//", edgecolor="#616161", label="invalid row"))
    handles.append(_realtime_line(ax))
    _finish(fig, handles)
    return _save(fig, path)


def _machine_short(res):
    m = res.machine
    gpus = [d for d in opencl_devices(m) if str(d.get("type", "")).upper() == "GPU"]
    return "%s cores %s, %s" % (m.get("cores", "?"), m.get("cpu_model", "?"),
                                "GPU " + str(gpus[0].get("device", "?")) if gpus else "no GPU")
