#!/usr/bin/python3
"""xrdbench report RESULTS.json... --out DIR: figures, report.md and a self-contained report.html.

Writes table1.png (the first file's rows; table1_2.png, ... for the others), pool_scaling.png, stages.png
(stages_2.png, ...), machines.png when several files are given, report.md and report.html (figures embedded).
Reads results files only; runs nothing.
"""
import sys

if sys.version_info < (3, 7):
    sys.exit("xrdbench report: needs Python 3.7 or later")
try:
    import matplotlib  # noqa: F401  (checked first, for a clear message)
except ImportError:
    print("xrdbench report: error: matplotlib is missing for %s: install it (Debian: apt-get install "
          "python3-matplotlib), or run bash scripts/setup.sh" % sys.executable, file=sys.stderr)
    sys.exit(2)

import argparse  # noqa: E402
import base64  # noqa: E402
import datetime  # noqa: E402
import html  # noqa: E402
import os  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figures  # noqa: E402
import realtime  # noqa: E402
import scaling  # noqa: E402
import xrdresults  # noqa: E402
from xrdresults import REALTIME_FPS, fmt_fps  # noqa: E402


# A report is a list of blocks rendered twice, to Markdown and to HTML:
# ("h", level, text) ("p", text) ("list", [text]) ("table", header, rows, right_aligned_columns) ("img", file, alt)


def _md_cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks):
    out = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            out.append("#" * b[1] + " " + b[2])
        elif kind == "p":
            out.append(b[1])
        elif kind == "list":
            out.append("\n".join("- " + x for x in b[1]))
        elif kind == "table":
            _, header, rows, right = b
            lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
                     "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "img":
            out.append("![%s](%s)" % (b[2], b[1]))
    return "\n\n".join(out) + "\n"


HTML_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.invalid td { background: #fff1f0; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
code { background: #f5f5f5; padding: 0 0.2em; }
"""


def _inline_html(text):
    """Escapes text and turns `code` spans into <code> and **bold** into <strong>."""
    parts = html.escape(str(text), quote=False).split("`")
    out = []
    for i, p in enumerate(parts):
        if i % 2:
            out.append("<code>%s</code>" % p)
        else:
            bold = p.split("**")
            if len(bold) % 2 == 0:  # an odd number of ** marks: leave them as they are
                bold = [p]
            out.append("".join(("<strong>%s</strong>" % b) if j % 2 else b for j, b in enumerate(bold)))
    return "".join(out)


def to_html(blocks, title, out_dir):
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<title>%s</title><style>%s</style></head><body>" % (html.escape(title), HTML_STYLE)]
    for b in blocks:
        kind = b[0]
        if kind == "h":
            out.append("<h%d>%s</h%d>" % (b[1], _inline_html(b[2]), b[1]))
        elif kind == "p":
            out.append("<p>%s</p>" % _inline_html(b[1]))
        elif kind == "list":
            out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % _inline_html(x) for x in b[1]))
        elif kind == "table":
            _, header, rows, right = b
            out.append("<table><thead><tr>%s</tr></thead><tbody>" % "".join(
                "<th>%s</th>" % _inline_html(h) for h in header))
            for row in rows:
                cls = " class=\"invalid\"" if any(str(c).startswith("INVALID") for c in row) else ""
                out.append("<tr%s>%s</tr>" % (cls, "".join(
                    "<td%s>%s</td>" % (" class=\"r\"" if i in right else "", _inline_html(c))
                    for i, c in enumerate(row))))
            out.append("</tbody></table>")
        elif kind == "img":
            with open(os.path.join(out_dir, b[1]), "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            out.append("<figure><img alt=\"%s\" src=\"data:image/png;base64,%s\"></figure>" % (
                html.escape(b[2]), data))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _gb(n):
    return "%.1f GB" % (n / 1e9) if isinstance(n, (int, float)) else "?"


def machine_table(results):
    """Properties as rows, machines as columns."""
    def opencl(m):
        devs = xrdresults.opencl_devices(m)
        return "; ".join("%s (%s, %s, driver %s)" % (d.get("device", "?"), d.get("type", "?"),
                                                     d.get("platform", "?"), d.get("driver", "?"))
                         for d in devs) or "none"

    def cal(m, k, unit):
        c = m.get("calibration")
        v = c.get(k) if isinstance(c, dict) else None
        return "%.4g %s" % (v, unit) if isinstance(v, (int, float)) else "not measured"

    props = [
        ("CPU", lambda r: r.machine.get("cpu_model", "?")),
        ("cores (threads used)", lambda r: "%s (%s)" % (r.machine.get("cores", "?"),
                                                         r.machine.get("threads_used", "?"))),
        ("memory", lambda r: _gb(r.machine.get("memory_bytes"))),
        ("OpenCL devices", lambda r: opencl(r.machine)),
        ("OS, kernel", lambda r: "%s, %s" % (r.machine.get("os", "?"), r.machine.get("kernel", "?"))),
        ("compiler, build", lambda r: "%s, %s" % (r.machine.get("compiler", "?"), r.machine.get("build_type", "?"))),
        ("xrdbench, commit, SIMD", lambda r: "%s, %s%s, %s" % (
            r.machine.get("xrdbench_version", "?"), r.machine.get("commit", "?"),
            " (uncommitted changes)" if r.machine.get("commit_dirty") else "", r.machine.get("simd", "?"))),
        ("calibration: memcpy", lambda r: cal(r.machine, "memcpy_GBps", "GB/s")),
        ("calibration: scalar decode", lambda r: cal(r.machine, "scalar_decode_ms", "ms/frame")),
        ("dataset", lambda r: "%s frames, %s, %sx%s, `%s`" % (
            r.dataset.get("frames", "?"), _gb(r.dataset.get("bytes")), r.dataset.get("width", "?"),
            r.dataset.get("height", "?"), r.dataset.get("path", "?"))),
        ("settings", lambda r: "%s repeats (+%s warm-up), %s bins of %s, %s split, MD5 %s, write %s, device %s" % (
            r.settings.get("repeats", "?"), r.settings.get("warmup", "?"), r.settings.get("bins", "?"),
            r.settings.get("unit", "?"), r.settings.get("split", "?"),
            "checked" if r.settings.get("verify_md5") else "not checked",
            "on" if r.settings.get("write") else "off", r.settings.get("device", "?"))),
        ("measured", lambda r: r.created or "?"),
        ("results file", lambda r: "`%s`%s" % (r.path, " (interrupted: partial)" if r.interrupted else "")),
        ("command", lambda r: "`%s`" % r.command if r.command else "?"),
    ]
    header = [""] + [r.label for r in results]
    return ("table", header, [[name] + [fn(r) for r in results] for name, fn in props], set())


DETECTORS = {(1475, 1679): "Pilatus3 2M", (2463, 2527): "Pilatus 6M", (1030, 1065): "Eiger 1M",
             (2070, 2167): "Eiger 4M", (3110, 3269): "Eiger 9M", (4150, 4371): "Eiger 16M"}
# More rows than this in one figure would make it taller than any screen (and slow to draw): the figures then show
# the first rows and say so; the tables always hold every row.
MAX_FIGURE_ROWS = 80


def _size(n):
    """'3.07 GB' or '10.1 MB'."""
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        return "? GB"
    return "%.2f GB" % (n / 1e9) if n >= 1e9 else "%.1f MB" % (n / 1e6)


def _int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def detector_name(ds):
    w, h = _int(ds.get("width")), _int(ds.get("height"))
    if w is None or h is None:
        return "detector of unknown size"
    name = DETECTORS.get((w, h))
    return "%s (%d x %d pixels)" % (name, w, h) if name else "%d x %d pixel detector" % (w, h)


def dataset_kind(ds):
    """'synthetic (xrdbench dataset synth, seed 1234)' or 'real (no synthetic manifest)'."""
    man = ds.get("manifest")
    if isinstance(man, dict) and "synth" in str(man.get("generator", "")):
        seed = man.get("seed")
        return "synthetic (`xrdbench dataset synth`%s)" % (", seed %s" % seed if _int(seed) is not None else "")
    return "real frames (no synthetic-dataset manifest)"


def gpu_text(m):
    """'NVIDIA H100 80GB HBM3' or 'none (OpenCL CPU device: pthread-...)' or 'none'."""
    devs = xrdresults.opencl_devices(m)
    gpus = [d for d in devs if str(d.get("type", "")).upper() == "GPU"]
    if gpus:
        return ", ".join(str(d.get("device", "?")) for d in gpus)
    cpus = [d for d in devs if str(d.get("type", "")).upper() == "CPU"]
    return "none" + (" (OpenCL CPU device: %s)" % cpus[0].get("device", "?") if cpus else "")


def storage_text(m):
    """Where the dataset was read from: machine.storage (file system, block device, its disk's model, SSD or not)."""
    st = m.get("storage")
    if not isinstance(st, dict):
        return "not recorded"
    parts = []
    if st.get("fs_type"):
        parts.append("%s file system" % st.get("fs_type"))
    if st.get("block_device"):
        what = []
        if st.get("disk") and st.get("disk") != st.get("block_device"):
            what.append("disk %s" % st.get("disk"))
        rot = st.get("rotational")
        if isinstance(rot, bool):
            what.append("rotating disk" if rot else "SSD/flash")
        if st.get("model"):
            what.append(str(st.get("model")))
        parts.append("on %s%s" % (st.get("block_device"), " (%s)" % ", ".join(what) if what else ""))
    elif st.get("source"):
        parts.append("from %s" % st.get("source"))
    if st.get("mount"):
        parts.append("mounted at `%s`" % st.get("mount"))
    return " ".join(parts) or "not recorded"


def _cpu_text(m):
    freq = m.get("cpu_frequency")
    f = ""
    if isinstance(freq, dict):
        mx, cur = freq.get("max_mhz"), freq.get("cur_mhz")
        gov = freq.get("governor")
        if isinstance(mx, (int, float)) and not isinstance(mx, bool):
            f += ", up to %.2f GHz" % (mx / 1000.0)
        elif isinstance(cur, (int, float)) and not isinstance(cur, bool):
            f += ", %.2f GHz when captured" % (cur / 1000.0)
        if isinstance(gov, str) and gov:
            f += ", governor %s" % gov
    online = _int(m.get("cpus_online"))
    cores = m.get("cores", "?")
    return "%s, %s cores%s%s" % (m.get("cpu_model", "?"), cores,
                                 " (%d online)" % online if online is not None and online != cores else "", f)


def best_row(res, source=None):
    rows = [r for r in res.rows if r.valid and r.has_fps and (source is None or r.source == source)]
    return max(rows, key=lambda r: r.fps_median) if rows else None


def keeps_up_text(r):
    ratio = r.fps_median / REALTIME_FPS
    if ratio >= 1:
        return "keeps up with the detector's %g frames/s, %.0f%% headroom (%.2fx the rate)" % (
            REALTIME_FPS, 100.0 * (ratio - 1), ratio)
    return "does NOT keep up with the detector's %g frames/s: %.0f%% of the rate" % (REALTIME_FPS, 100.0 * ratio)


def trust_warnings(res):
    """Everything that makes this file's figures less trustworthy, one sentence each."""
    out = []
    invalid = [r for r in res.rows if not r.valid]
    if invalid:
        out.append("%d of %d rows are INVALID (see the table): %s" % (
            len(invalid), len(res.rows), ", ".join("`%s`" % r.id for r in invalid[:6]) +
            (" and %d more" % (len(invalid) - 6) if len(invalid) > 6 else "")))
    bad = [r for r in res.rows if r.fps_problem and (r.valid_in_file or r.fps_bad_number)]
    if bad:
        out.append("%d row(s) have an fps figure that cannot be used (`%s`: %s): marked INVALID here" % (
            len(bad), bad[0].id, bad[0].fps_problem))
    noisy = [(r, w) for r in res.rows for w in [xrdresults.noise_warnings(r, res.machine)] if w]
    spread = [r for r, w in noisy if any(x.startswith("spread") for x in w)]
    busy = [r for r, w in noisy if any(x.startswith("machine busy") for x in w)]
    if spread:
        out.append("%d row(s) have a large spread (MAD above %g%% of the median): %s" % (
            len(spread), 100 * xrdresults.NOISE_MAD_RATIO, ", ".join("`%s`" % r.id for r in spread[:6])))
    if busy:
        out.append("the machine was busy during %d row(s) (1-minute load average above its %s CPUs): other work "
                   "may have slowed them" % (len(busy), xrdresults.machine_cpus(res.machine)))
    if any(r.device_is_cpu_opencl for r in res.rows):
        out.append("the device rows ran on an OpenCL CPU device (no GPU here): they share the cores with the host")
    if res.interrupted:
        out.append("the run was interrupted: only the finished rows are present")
    bt = str(res.machine.get("build_type", ""))
    if bt and not bt.startswith("Release"):
        out.append("built as %s, not a plain Release build: not representative speed" % bt)
    if res.machine.get("commit_dirty") is True:
        out.append("measured from a source tree with uncommitted changes")
    return out


def summary_blocks(res, heading):
    m, ds = res.machine, res.dataset
    mem = m.get("memory_bytes")
    items = [
        "**Machine**: %s; %s memory; GPU: %s; dataset storage: %s." % (_cpu_text(m), _gb(mem), gpu_text(m),
                                                                      storage_text(m)),
        "**Dataset**: %s, %s frames%s, %s, %s." % (
            dataset_kind(ds), ds.get("frames", "?"),
            " (%s)" % ", ".join(str(ds[k]) for k in ("format", "codec") if isinstance(ds.get(k), str) and ds[k])
            if any(isinstance(ds.get(k), str) and ds[k] for k in ("format", "codec")) else "",
            _size(ds.get("bytes")), detector_name(ds)),
    ]
    best = best_row(res)
    if best:
        items.append("**Best**: `%s` (%s) at **%s frames/s** (%s): %s." % (
            best.id, best.label, fmt_fps(best.fps_median), "hot page cache" if best.source == "MEM" else
            "cold page cache", keeps_up_text(best)))
        cold = best_row(res, "SSD")
        if cold and cold is not best:
            items.append("**Best from disk** (cold page cache): `%s` at %s frames/s: %s." % (
                cold.id, fmt_fps(cold.fps_median), keeps_up_text(cold)))
    elif res.rows:
        items.append("**Best**: no valid row with a measured speed: nothing can be concluded.")
    rt = realtime._block(res)
    if rt:
        runs = [r for r in (rt.get("runs") or []) if isinstance(r, dict) and "error" not in r]
        verdicts = ["%s: %s" % (realtime._title(r), realtime._verdict(r) if r.get("validated") else "INVALID")
                    for r in runs[:4]]
        items.append("**Real time** (`xrdbench realtime`, paced stream): %s%s." % (
            "; ".join(verdicts) or "no run finished", " (and %d more runs)" % (len(runs) - 4) if len(runs) > 4 else ""))
    warns = trust_warnings(res)
    items.append("**Trust**: " + ("; ".join(warns) + "." if warns else
                                  "no warning (every row valid, spreads within %g%% of the median, machine not busy)."
                                  % (100 * xrdresults.NOISE_MAD_RATIO)))
    return [("h", 2, heading), ("list", items)]


def _residency(r):
    v = r.residency_before
    return "-" if v is None else "%.1f%%" % (100.0 * v)


def _validation(r):
    return ("yes" if r.validated else "no") + ("" if r.max_rel_diff is None else " (%.1e)" % r.max_rel_diff)


def rows_table(res, paper):
    header = ["row", "what", "device", "our fps (median ± MAD)", "paper fps", "ours / paper", "real time?",
              "resident before", "matches reference (max rel. diff)", "failed frames", "validity", "noise"]
    body = []
    for r in res.rows:
        pv, pm = paper.get(r.id, (None, None))
        ratio = "%.2f" % (r.fps_median / pv) if (pv and r.has_fps) else "-"
        rt = "-" if not r.has_fps else ("yes" if r.fps_median >= REALTIME_FPS else "no")
        device = r.device + (" (OpenCL CPU device, not a GPU)" if r.device_is_cpu_opencl else "")
        body.append([r.id, r.label, device, fmt_fps(r.fps_median if r.has_fps else None, r.fps_mad),
                     fmt_fps(pv, pm), ratio, rt, _residency(r), _validation(r),
                     str(r.failed_frames), r.validity_text(),
                     "; ".join(xrdresults.noise_warnings(r, res.machine)) or "-"])
    return ("table", header, body, {3, 4, 5, 7, 9})


def stages_table(res):
    names = xrdresults.stage_names(r.stages_ms for r in res.rows)
    header = ["row"] + names + ["sum of stages", "wall per frame"]
    body = []
    for r in res.rows:
        if not r.stages_ms:
            continue
        body.append([r.id] + ["%.2f" % r.stages_ms.get(k, 0.0) for k in names] +
                    ["%.2f" % sum(r.stages_ms.values()), "%.2f" % (1000.0 / r.fps_median) if r.has_fps else "-"])
    return ("table", header, body, set(range(1, len(header))))


SINK_COLUMNS = [("create_ms", "file created"), ("writer_ms", "HDF5 writes"), ("waited_ms", "delivery waited"),
                ("drain_ms", "drain at close"), ("close_ms", "close"), ("max_queued", "most queued")]


def sink_table(res):
    """The rows that wrote their sinogram: what the HDF5 sink cost per run (ms, medians; the file created and written
    on the sink's own thread, the delivering threads' waits, the drain and closing inside the timed run)."""
    header = ["row"] + [name for _, name in SINK_COLUMNS]
    body = []
    for r in res.rows:
        if not r.sink:
            continue
        body.append([r.id] + [("%d" % r.sink[k] if k == "max_queued" else "%.2f" % r.sink[k]) if k in r.sink else "-"
                              for k, _ in SINK_COLUMNS])
    return ("table", header, body, set(range(1, len(header))))


def comparison_table(results, paper):
    header = ["row"] + [res.label for res in results] + ["paper"]
    body = []
    for rid in xrdresults.row_ids(results):
        cells = [rid]
        for res in results:
            r = res.row(rid)
            if r is None:
                cells.append("-")
            else:
                cells.append((fmt_fps(r.fps_median, r.fps_mad) if r.has_fps else "no result") +
                             ("" if r.valid else " (invalid)"))
        cells.append(fmt_fps(*paper[rid]) if rid in paper else "-")
        body.append(cells)
    return ("table", header, body, set(range(1, len(header))))


def _suffix(i):
    return "" if i == 0 else "_%d" % (i + 1)


def build(results, paper_csv, out_dir):
    """Writes the figures; returns the report's blocks."""
    paper = xrdresults.paper_values(results, paper_csv)
    os.makedirs(out_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    blocks = [("h", 1, "xrdbench report"),
              ("p", "Generated %s from %d results file(s). Throughput is in frames per second: the median over the "
                    "timed runs and the median absolute deviation (MAD) to it, as in Table 1 of Kieffer, "
                    "Petitdemange & Vincent (2018). The Pilatus3 2M detector delivers %g frames/s: a row keeps up "
                    "in real time at or above that rate." % (now, len(results), REALTIME_FPS))]
    for i, res in enumerate(results):
        blocks += summary_blocks(res, "Summary" if len(results) == 1 else "Summary: %s" % res.label)
    blocks += [("h", 2, "Machines"), machine_table(results)]
    for i, res in enumerate(results):
        name = "table1%s.png" % _suffix(i)
        figures.table1(res, paper, os.path.join(out_dir, name))
        invalid = [r for r in res.rows if not r.valid]
        blocks += [("h", 2, "Table 1 on %s" % res.label), rows_table(res, paper)]
        if invalid:
            blocks.append(("p", "%d row(s) are INVALID and must not be quoted as results:" % len(invalid)))
            blocks.append(("list", ["`%s`: %s" % (r.id, "; ".join(r.invalid_reasons) or "no reason given")
                                    for r in invalid]))
        if res.interrupted:
            blocks.append(("p", "This run was interrupted (Ctrl-C): only the rows finished are present."))
        noisy = [(r, w) for r in res.rows for w in [xrdresults.noise_warnings(r, res.machine)] if w]
        if noisy:
            blocks.append(("p", "Warning: %d row(s) may not be repeatable (as hyperfine warns of outliers): a MAD "
                                "above %g%% of the median, or a 1-minute load average above the number of CPUs "
                                "before or after the row. Measure again on a quiet machine before quoting them:"
                           % (len(noisy), 100 * xrdresults.NOISE_MAD_RATIO)))
            blocks.append(("list", ["`%s`: %s" % (r.id, "; ".join(w)) for r, w in noisy[:MAX_FIGURE_ROWS]] +
                           (["... and %d more" % (len(noisy) - MAX_FIGURE_ROWS)] if len(noisy) > MAX_FIGURE_ROWS
                            else [])))
        if len(res.rows) > MAX_FIGURE_ROWS:
            blocks.append(("p", "The figure shows the first %d of the %d rows; the table above has them all."
                           % (MAX_FIGURE_ROWS, len(res.rows))))
        blocks.append(("img", name, "Table 1 on %s" % res.label))
    figures.pool_scaling(results, paper, os.path.join(out_dir, "pool_scaling.png"))
    blocks += [("h", 2, "Pool of readers: scaling"),
               ("p", "The paper's pool was best with 2-4 readers on 2x6 cores; each line is one machine's "
                     "pool rows (solid: GPU integration, dashed: CPU integration)."),
               ("img", "pool_scaling.png", "fps against the number of readers")]
    blocks += scaling.section(results, out_dir)  # MPI ranks (reports/scaling.py); nothing without MPI rows
    blocks += [("h", 2, "Stage profile"),
               ("p", "Time per frame in each stage (ms), median over the runs, beside the paper's profile of its "
                     "sequential pipeline (section 2.3: 43 s for 1202 frames, integration 29 s, decompression "
                     "4.9 s, MD5 4.7 s). Stages of parallel strategies are CPU time summed over threads, so they "
                     "can add up to more than the wall time per frame.")]
    for i, res in enumerate(results):
        if not any(r.stages_ms for r in res.rows):
            blocks.append(("p", "%s: no stage times recorded." % res.label))
            continue
        name = "stages%s.png" % _suffix(i)
        figures.stages(res, os.path.join(out_dir, name))
        blocks += [("h", 3, "Stages on %s (ms per frame)" % res.label), stages_table(res),
                   ("img", name, "stage profile on %s" % res.label)]
        if any(r.sink for r in res.rows):
            blocks += [("h", 3, "Sinogram written on %s (HDF5 sink, ms per run)" % res.label),
                       ("p", "Each row's patterns reached the NeXus file (read back and compared with the reference "
                             "after its last run, then flushed to the disk). Per run, medians: the file's creation "
                             "and the HDF5 writes run on the sink's own thread, beside the strategy; the delivering "
                             "threads' waits for room in its queue, the drain at close and the closing are inside "
                             "the row's wall time."),
                       sink_table(res)]
    if len(results) > 1:
        figures.machines(results, paper, os.path.join(out_dir, "machines.png"))
        blocks += [("h", 2, "Machines compared"), comparison_table(results, paper),
                   ("img", "machines.png", "the same rows on several machines")]
    blocks += realtime.blocks(results, out_dir)  # results.json's "realtime" block (reports/realtime.py)
    blocks += [("h", 2, "How to read this"),
               ("list", ["SSD rows start cold (files evicted from the page cache before each run; valid only with "
                         "at most 1% resident), MEM rows hot (valid only with at least 99% resident).",
                         "A row is valid when its output matched the reference strategy (CPU, same matrix) within "
                         "1e-5 relative, its cache state was within bounds and no frame failed.",
                         "A device row marked 'OpenCL CPU device' ran on an OpenCL CPU device (PoCL) because the "
                         "machine has no GPU; the figures mark it with \u2020 and never call it a GPU.",
                         "Noise: a row is flagged when its MAD is above %g%% of its median or when the 1-minute "
                         "load average before or after it was above the number of CPUs (other work was running)."
                         % (100 * xrdresults.NOISE_MAD_RATIO),
                         "The paper measured 1202 real frames on a dual Xeon E5-2643 v3 with a Titan-X; the ratio "
                         "compares machines and implementations at once."])]
    return blocks


CSV_STAGES = xrdresults.STAGES


def csv_records(results):
    """One dict per row of every file, in the CSV's column order (csv_header())."""
    for res in results:
        for r in res.rows:
            rec = {"results_file": res.path, "machine": res.label, "id": r.id, "strategy": r.strategy,
                   "label": r.label, "readers": "" if r.readers is None else r.readers,
                   "integrator": r.integrator, "device": r.device,
                   "device_is_cpu_opencl": "true" if r.device_is_cpu_opencl else "false", "source": r.source,
                   "fps_median": _csv_num(r.fps_median), "fps_mad": _csv_num(r.fps_mad if r.has_fps else None),
                   "fps_runs": " ".join(repr(v) for v in r.fps_runs),
                   "frames": "" if r.frames is None else r.frames, "failed_frames": r.failed_frames,
                   "residency_before": _csv_num(r.residency_before),
                   "validated": "true" if r.validated else "false", "max_rel_diff": _csv_num(r.max_rel_diff),
                   "valid": "true" if r.valid else "false", "invalid_reasons": " | ".join(r.invalid_reasons),
                   "noise_warnings": " | ".join(xrdresults.noise_warnings(r, res.machine)),
                   "load_1min_before": _csv_num(r.load_before[0] if r.load_before else None),
                   "load_1min_after": _csv_num(r.load_after[0] if r.load_after else None),
                   "paper_fps": _csv_num(r.paper_fps), "paper_mad": _csv_num(r.paper_mad)}
            for k in CSV_STAGES:
                rec["%s_ms" % k] = _csv_num(r.stages_ms.get(k))
            yield rec


def csv_header():
    return (["results_file", "machine", "id", "strategy", "label", "readers", "integrator", "device",
             "device_is_cpu_opencl", "source", "fps_median", "fps_mad", "fps_runs", "frames", "failed_frames",
             "residency_before", "validated", "max_rel_diff", "valid", "invalid_reasons", "noise_warnings",
             "load_1min_before", "load_1min_after", "paper_fps", "paper_mad"] + ["%s_ms" % k for k in CSV_STAGES])


def _csv_num(v):
    return "" if v is None else repr(float(v))


def write_csv(results, path):
    """--export-csv: one line per row (every file's rows), numbers as Python writes them back exactly.
    harness/results_csv.cpp writes the same bytes (`run`/`table1 --csv`): change both together
    (tests/test_harness_csv.cpp compares them)."""
    import csv
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=csv_header())
        w.writeheader()
        for rec in csv_records(results):
            w.writerow(rec)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="xrdbench report",
                                description="Figures, report.md and a self-contained report.html from results.json "
                                            "files (one per machine; the first is shown in most detail).")
    p.add_argument("results", nargs="+", metavar="RESULTS.json", help="results files (xrdbench-results/1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--paper", metavar="CSV", default=xrdresults.default_paper_csv(),
                   help="the paper's Table 1, used for rows whose results lack a 'paper' object "
                        "(default: $XRD_PAPER_TABLE, else data/paper/table1.csv in the repository)")
    p.add_argument("--export-csv", metavar="FILE",
                   help="also write every row of every file as CSV, one line per row (fps median/MAD/runs, "
                        "validity and reasons, noise warnings, load averages, stage times, the paper's figures)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        results = xrdresults.load_all(args.results)
    except xrdresults.ResultsError as e:
        print("xrdbench report: error: %s" % e, file=sys.stderr)
        return 2
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print("xrdbench report: error: cannot create %s: %s" % (args.out, e.strerror or e), file=sys.stderr)
        return 2
    empty = [r.path for r in results if not r.rows and not realtime._block(r)]
    if empty:
        print("xrdbench report: error: %s: no rows: nothing to report (was the run interrupted before its first "
              "row finished?)" % ", ".join(empty), file=sys.stderr)
        return 2
    for res in results:
        for r in res.rows:
            if r.fps_problem and (r.valid_in_file or r.fps_bad_number):
                print("xrdbench report: warning: %s: %s; the row is reported as INVALID" % (r.where, r.fps_problem),
                      file=sys.stderr)
    try:
        paper_csv = xrdresults.load_paper_csv(args.paper)
    except (OSError, ValueError, KeyError) as e:
        print("xrdbench report: error: %s: cannot read the paper's table: %s" % (args.paper, e), file=sys.stderr)
        return 2
    blocks = build(results, paper_csv, args.out)
    with open(os.path.join(args.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(to_markdown(blocks))
    with open(os.path.join(args.out, "report.html"), "w", encoding="utf-8") as f:
        f.write(to_html(blocks, "xrdbench report", args.out))
    written = sorted(x for x in os.listdir(args.out) if x.endswith((".png", ".md", ".html")))
    print("xrdbench report: wrote %s in %s" % (", ".join(written), args.out))
    if args.export_csv:
        try:
            write_csv(results, args.export_csv)
        except OSError as e:
            print("xrdbench report: error: cannot write %s: %s" % (args.export_csv, e.strerror or e), file=sys.stderr)
            return 2
        print("xrdbench report: wrote %s (%d rows)" % (args.export_csv, sum(len(r.rows) for r in results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
