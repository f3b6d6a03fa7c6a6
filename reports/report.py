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
    """Escapes text and turns `code` spans into <code>."""
    parts = html.escape(str(text), quote=False).split("`")
    return "".join(("<code>%s</code>" % p) if i % 2 else p for i, p in enumerate(parts))


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
        devs = [d for d in (m.get("opencl") or []) if isinstance(d, dict)]
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


def _residency(r):
    v = r.residency_before
    return "-" if not isinstance(v, (int, float)) else "%.1f%%" % (100.0 * v)


def _validation(r):
    return ("yes" if r.validated else "no") + ("" if r.max_rel_diff is None else " (%.1e)" % r.max_rel_diff)


def rows_table(res, paper):
    header = ["row", "what", "device", "our fps (median ± MAD)", "paper fps", "ours / paper", "real time?",
              "resident before", "matches reference (max rel. diff)", "failed frames", "validity"]
    body = []
    for r in res.rows:
        pv, pm = paper.get(r.id, (None, None))
        ratio = "%.2f" % (r.fps_median / pv) if (pv and r.has_fps) else "-"
        rt = "-" if not r.has_fps else ("yes" if r.fps_median >= REALTIME_FPS else "no")
        device = r.device + (" (OpenCL CPU device)" if r.device_is_cpu_opencl else "")
        body.append([r.id, r.label, device, fmt_fps(r.fps_median if r.has_fps else None, r.fps_mad),
                     fmt_fps(pv, pm), ratio, rt, _residency(r), _validation(r),
                     str(r.failed_frames), r.validity_text()])
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
                    "in real time at or above that rate." % (now, len(results), REALTIME_FPS)),
              ("h", 2, "Machines"), machine_table(results)]
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
                         "A GPU row marked 'OpenCL CPU device' ran on PoCL because the machine has no GPU.",
                         "The paper measured 1202 real frames on a dual Xeon E5-2643 v3 with a Titan-X; the ratio "
                         "compares machines and implementations at once."])]
    return blocks


def parse_args(argv):
    p = argparse.ArgumentParser(prog="xrdbench report",
                                description="Figures, report.md and a self-contained report.html from results.json "
                                            "files (one per machine; the first is shown in most detail).")
    p.add_argument("results", nargs="+", metavar="RESULTS.json", help="results files (xrdbench-results/1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--paper", metavar="CSV", default=xrdresults.default_paper_csv(),
                   help="the paper's Table 1, used for rows whose results lack a 'paper' object "
                        "(default: $XRD_SHARED_DIR/paper/table1.csv or ../shared beside the repository)")
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
    paper_csv = xrdresults.load_paper_csv(args.paper)
    blocks = build(results, paper_csv, args.out)
    with open(os.path.join(args.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(to_markdown(blocks))
    with open(os.path.join(args.out, "report.html"), "w", encoding="utf-8") as f:
        f.write(to_html(blocks, "xrdbench report", args.out))
    written = sorted(x for x in os.listdir(args.out) if x.endswith((".png", ".md", ".html")))
    print("xrdbench report: wrote %s in %s" % (", ".join(written), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
