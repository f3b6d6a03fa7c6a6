#!/usr/bin/python3
"""xrdbench compare BASELINE.json CURRENT.json: per-row speed change with its significance; exit 1 on a regression.

A row regresses when its time per frame grew by more than --threshold percent AND the change stands out of the
runs' spread: a two-sided Mann-Whitney U test on the repeats (like Google Benchmark's tools/compare.py) when there
are enough runs for the test to reach --alpha, else a median shift larger than --mad-k times the larger MAD.
--normalize divides out the machine's speed using the calibration measured in the same run (docs/regression.md).

Exit status: 0 no regression; 1 a row got slower (or its output stopped matching the reference); 2 bad input:
unreadable files, different datasets or workloads, rows missing from CURRENT or measuring something else.
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xrdresults  # noqa: E402
import xrdstats  # noqa: E402

# --normalize NAME -> (calibration key, how an fps figure becomes the normalized one, unit)
NORMALIZATIONS = {
    "none": (None, None, "frames/s"),
    # frames processed in the time the scalar reference decoder needs for one frame: fps * scalar_decode_ms / 1000
    "scalar-decode": ("scalar_decode_ms", lambda fps, cal: fps * cal / 1000.0, "frames per scalar decode"),
    # frames processed per GB the machine copies: fps / memcpy_GBps
    "memcpy": ("memcpy_GBps", lambda fps, cal: fps / cal, "frames per GB copied"),
}


# Calibrations that differ by more than this factor, unlike the rows' speed, are reported as suspect.
CALIBRATION_SUSPECT = 1.25


class Compared:
    """The comparison of one row id."""

    def __init__(self, row_id):
        self.id = row_id
        self.status = ""        # "compared" | "new" | "missing" | "mismatch" | "invalid" | "no data"
        self.note = ""
        self.base = self.cur = None          # (median, mad) in the chosen unit
        self.change_pct = None               # time per frame: + slower, - faster
        self.p = None
        self.method = ""                     # "U test" | "MAD" | "" (single runs: threshold only)
        self.significant = False
        self.verdict = ""                    # "same" | "faster" | "slower" | "noisy" | "REGRESSION" | ...

    def to_json(self):
        """The comparison as JSON values; a figure that overflowed to infinity (a file's fps near 0 or 1e308) is null."""
        def clean(v):
            if isinstance(v, float):
                return v if math.isfinite(v) else None
            if isinstance(v, (tuple, list)):
                return [clean(x) for x in v]
            return v
        return {k: clean(getattr(self, k)) for k in ("id", "status", "note", "base", "cur", "change_pct", "p",
                                                      "method", "significant", "verdict")}


def normalized(results, mode):
    """The function turning one file's fps into the chosen figure; ResultsError when its calibration is absent."""
    key, fn, _ = NORMALIZATIONS[mode]
    if key is None:
        return lambda fps: fps
    cal = results.calibration(key)
    if cal is None:
        raise xrdresults.ResultsError("%s: machine.calibration.%s is missing or not positive: cannot --normalize %s"
                                      % (results.path, key, mode))
    return lambda fps: fn(fps, cal)


def compare_row(b, c, fb, fc, args):
    out = Compared(b.id)
    diffs = xrdresults.row_mismatches(b, c)
    if diffs:
        out.status, out.verdict, out.note = "mismatch", "NOT COMPARED", "different rows: " + ", ".join(diffs)
        return out
    if not (b.has_fps and c.has_fps):
        out.status, out.verdict = "no data", "NOT COMPARED"
        out.note = "no fps in " + ("baseline" if not b.has_fps else "current")
        return out
    bx = [fb(v) for v in (b.fps_runs or [b.fps_median])]
    cx = [fc(v) for v in (c.fps_runs or [c.fps_median])]
    out.base = (fb(b.fps_median), fb(b.fps_mad))
    out.cur = (fc(c.fps_median), fc(c.fps_mad))
    if not (b.valid and c.valid):
        out.status, out.verdict = "invalid", "NOT COMPARED"
        which = [("baseline", b), ("current", c)]
        out.note = "; ".join("%s %s" % (name, r.validity_text(max_chars=90)) for name, r in which if not r.valid)
        if b.validated and not c.validated:
            out.verdict = "WRONG OUTPUT"
        return out
    out.status = "compared"
    out.change_pct = (out.base[0] / out.cur[0] - 1.0) * 100.0
    if xrdstats.min_two_sided_p(len(bx), len(cx)) <= args.alpha:
        out.method = "U test"
        out.p = xrdstats.mann_whitney_u(bx, cx).p
        out.significant = out.p < args.alpha
    elif len(bx) > 1 or len(cx) > 1:
        out.method = "MAD"
        out.significant = abs(out.cur[0] - out.base[0]) > args.mad_k * max(out.base[1], out.cur[1])
    else:
        out.method = ""
        out.significant = True  # one run each: nothing to measure the spread with, the threshold alone decides
    beyond = abs(out.change_pct) > args.threshold
    if out.significant and beyond:
        out.verdict = "REGRESSION" if out.change_pct > 0 else "faster"
    elif beyond:
        out.verdict = "noisy"  # beyond the threshold but within the runs' spread
    elif out.significant and out.change_pct != 0:
        out.verdict = "slower" if out.change_pct > 0 else "faster"
    else:
        out.verdict = "same"
    return out


def compare(base, cur, args):
    """All rows of BASELINE (then CURRENT's new ones) compared. Returns the list of Compared."""
    fb, fc = normalized(base, args.normalize), normalized(cur, args.normalize)
    rows = []
    for b in base.rows:
        c = cur.row(b.id)
        if c is None:
            r = Compared(b.id)
            r.status, r.verdict, r.note = "missing", "NOT COMPARED", "row absent from current"
            rows.append(r)
        else:
            rows.append(compare_row(b, c, fb, fc, args))
    for c in cur.rows:
        if base.row(c.id) is None:
            r = Compared(c.id)
            r.status, r.verdict, r.note = "new", "new", "row absent from baseline"
            if c.has_fps:
                r.cur = (fc(c.fps_median), fc(c.fps_mad))
            rows.append(r)
    return rows


def calibration_warning(base, cur, mode, rows):
    """A warning when the two calibrations disagree with what the rows saw, or None.

    The calibration is one short measurement per file; a burst of load during it (and not during the rows) moves every
    normalized figure at once. Sign: the calibrations differ by a factor of CALIBRATION_SUSPECT or more, and so
    does their ratio from the rows' raw speed ratio (median over the compared rows)."""
    key = NORMALIZATIONS[mode][0]
    if key is None:
        return None
    cb, cc = base.calibration(key), cur.calibration(key)
    speed_cal = cb / cc if key == "scalar_decode_ms" else cc / cb  # > 1: CURRENT's machine looks faster
    raw = [c.fps_median / b.fps_median for b, c in
           ((base.row(r.id), cur.row(r.id)) for r in rows if r.status == "compared")]
    if not raw or max(speed_cal, 1 / speed_cal) < CALIBRATION_SUSPECT:
        return None
    speed_rows = sorted(raw)[len(raw) // 2]
    disagreement = speed_cal / speed_rows
    if max(disagreement, 1 / disagreement) < CALIBRATION_SUSPECT:
        return None
    return ("warning: machine.calibration.%s says CURRENT's machine is %.2fx as fast as BASELINE's, but its rows ran "
            "%.2fx as fast (median): one calibration was probably disturbed (it is one short measurement), so the "
            "normalized figures below are doubtful; compare without --normalize, or measure again"
            % (key, speed_cal, speed_rows))


def exit_code(rows):
    if any(r.status in ("missing", "mismatch") for r in rows):
        return 2
    if any(r.verdict == "WRONG OUTPUT" for r in rows):
        return 1
    if not any(r.status == "compared" for r in rows):
        return 2  # nothing was checked: a pass would be a false comfort
    if any(r.verdict == "REGRESSION" for r in rows):
        return 1
    return 0


def _decimals(v):
    """Decimals that give v four significant figures (at least 0)."""
    return 0 if not v else max(0, 3 - int(math.floor(math.log10(abs(v)))))


def _pm(pair):
    """'median ± MAD', both with the median's four significant figures."""
    if pair is None:
        return "-"
    d = _decimals(pair[0])
    return "%.*f ± %.*f" % (d, pair[0], d, pair[1])


def describe(results):
    m = results.machine
    cal = m.get("calibration") if isinstance(m.get("calibration"), dict) else {}
    def num(v):
        return "%.4g" % v if isinstance(v, (int, float)) else "?"
    return "%s (%s, %s cores; commit %s%s; %s; calibration: memcpy %s GB/s, scalar decode %s ms)" % (
        results.label, m.get("cpu_model", "?"), m.get("cores", "?"), m.get("commit", "?"),
        " (dirty)" if m.get("commit_dirty") else "", results.created or "?",
        num(cal.get("memcpy_GBps")), num(cal.get("scalar_decode_ms")))


def format_table(rows):
    head = ["row", "baseline", "current", "time/frame", "p", "test", "verdict"]
    body = []
    for r in rows:
        change = "-" if r.change_pct is None else "%+.1f%%" % r.change_pct
        p = "-" if r.p is None else ("%.3f" % r.p if r.p >= 0.001 else "%.1e" % r.p)
        verdict = r.verdict + ("  (%s)" % r.note if r.note else "")
        body.append([r.id, _pm(r.base), _pm(r.cur), change, p, r.method or "-", verdict])
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head) - 1)]
    right = {1, 2, 3, 4}
    lines = []
    for line in [head] + body:
        cells = [(line[i].rjust(widths[i]) if i in right else line[i].ljust(widths[i])) for i in range(len(widths))]
        lines.append("  ".join(cells + [line[-1]]).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="xrdbench compare",
        description="Compare two results.json files row by row; exit 1 when a row got slower beyond both the "
                    "threshold and the runs' spread, 2 when the files cannot be compared.",
        epilog="Change is in time per frame (+ = slower). Significance: two-sided Mann-Whitney U test on the runs "
               "when both sides have enough runs for p < alpha to be possible (4+ each at alpha 0.05), else median "
               "shift > MAD_K x the larger MAD. See docs/regression.md.")
    p.add_argument("baseline", help="results.json of the reference run")
    p.add_argument("current", help="results.json to check")
    p.add_argument("--threshold", type=float, default=5.0, metavar="PCT",
                   help="slow-down in %% of time per frame that counts as a regression (default 5)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test (default 0.05)")
    p.add_argument("--mad-k", type=float, default=3.0, metavar="K",
                   help="with too few runs for the U test: significant when |median shift| > K x MAD (default 3)")
    p.add_argument("--normalize", choices=sorted(NORMALIZATIONS), default="none",
                   help="compare machine-independent figures: fps x scalar_decode_ms/1000 (scalar-decode) or "
                        "fps / memcpy_GBps (memcpy), from each file's machine.calibration (default none)")
    p.add_argument("--rows", metavar="ID,ID,...", help="compare only these row ids")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    a = p.parse_args(argv)
    if not (a.threshold >= 0 and math.isfinite(a.threshold)):
        p.error("--threshold must be a percentage >= 0")
    if not 0 < a.alpha < 1:
        p.error("--alpha must be between 0 and 1")
    if not a.mad_k > 0:
        p.error("--mad-k must be > 0")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    prog = "xrdbench compare"
    try:
        # strict: a NaN, infinite or negative fps is bad input (exit 2), never a regression nor a pass.
        base = xrdresults.load(args.baseline, strict=True)
        cur = xrdresults.load(args.current, strict=True)
        if args.rows:
            keep = [x.strip() for x in args.rows.split(",") if x.strip()]
            unknown = [x for x in keep if base.row(x) is None and cur.row(x) is None]
            if unknown:
                raise xrdresults.ResultsError("--rows: no row %s in either file" % ", ".join(unknown))
            base.rows = [r for r in base.rows if r.id in keep]
            cur.rows = [r for r in cur.rows if r.id in keep]
        diffs = xrdresults.dataset_mismatches(base, cur)
        if diffs:
            print("%s: the two files measured different things; not compared:" % prog, file=sys.stderr)
            for d in diffs:
                print("  " + d, file=sys.stderr)
            return 2
        rows = compare(base, cur, args)
    except xrdresults.ResultsError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2

    unit = NORMALIZATIONS[args.normalize][2]
    print("baseline: %s  %s" % (args.baseline, describe(base)))
    print("current:  %s  %s" % (args.current, describe(cur)))
    print("figure: median ± MAD of %s (normalize: %s); regression = time/frame > +%g%% and significant (alpha %g, MAD k %g)" % (
        unit, args.normalize, args.threshold, args.alpha, args.mad_k))
    tb, tc = base.machine.get("threads_used"), cur.machine.get("threads_used")
    if tb != tc:
        print("warning: the runs used %s and %s worker threads: multi-threaded rows measure different things" % (tb, tc))
    for f in (base, cur):
        if f.interrupted:
            print("warning: %s was interrupted (Ctrl-C): only its finished rows are present" % f.path)
    warning = calibration_warning(base, cur, args.normalize, rows)
    if warning:
        print(warning)
    print()
    print(format_table(rows))
    code = exit_code(rows)
    regressions = [r.id for r in rows if r.verdict in ("REGRESSION", "WRONG OUTPUT")]
    bad = [r.id for r in rows if r.status in ("missing", "mismatch")]
    print()
    if code == 2 and not bad:
        print("result: no row could be compared (all invalid or without fps) (exit 2)")
    elif code == 2:
        print("result: cannot compare as a whole: %s (exit 2)" % ", ".join(bad))
    elif code == 1:
        print("result: %d regression(s): %s (exit 1)" % (len(regressions), ", ".join(regressions)))
    else:
        n = sum(r.status == "compared" for r in rows)
        print("result: no regression in %d compared row(s) (exit 0)" % n)
    if args.json:
        doc = {"baseline": args.baseline, "current": args.current, "normalize": args.normalize, "unit": unit,
               "threshold_pct": args.threshold, "alpha": args.alpha, "mad_k": args.mad_k,
               "calibration_warning": warning, "rows": [r.to_json() for r in rows], "exit_code": code}
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
        except OSError as e:
            print("%s: error: cannot write %s: %s" % (prog, args.json, e.strerror or e), file=sys.stderr)
            return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
