#!/usr/bin/python3
"""Fuzzing the results.json readers of `xrdbench report` and `xrdbench compare` (reports/xrdresults.py and what
report.py / compare.py do with what it returns).

The target, one_input(bytes), loads the bytes as a results file (lenient, as report does, and strict, as compare does)
and, when that succeeds, builds the report's tables, summary, Markdown, HTML and CSV, and compares the file with itself
and with a good fixture. The only acceptable failure is xrdresults.ResultsError (a clear message naming the file); any
other exception, or an input taking longer than --hang-s seconds (the old endless log-axis loop), is a finding.

Two engines:
  * deterministic (default, Debian's /usr/bin/python3 only): seeded mutations of real results files, JSON-aware
    (values replaced by NaN, Infinity, negatives, 0, huge numbers, wrong types, deleted keys, duplicate ids, deep
    nesting) and byte-level (flips, truncations, insertions). Same inputs for the same --seed, so CI is repeatable.
  * atheris (--atheris, coverage-guided): needs the atheris module (PyPI, e.g. in a venv under build/); exits 0 with a
    "skipped" line when it is not importable.

Usage: fuzz_results.py [--iterations N] [--seed S] [--figures-every K] [--corpus DIR] [--atheris [libFuzzer args]]
Exit status: 0 no finding; 1 a finding (the input is written to --crash-dir and named on stderr).
"""
import argparse
import copy
import json
import os
import random
import signal
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "reports"))
os.environ.setdefault("MPLBACKEND", "Agg")

import xrdresults  # noqa: E402

SEEDS = [os.path.join(REPO, "tests", "data", "results_machineA.json"),
         os.path.join(REPO, "tests", "data", "results_machineB.json")]
_report = _compare = None
_GOOD = None
STATS = {"rejected": 0, "reported": 0, "compared": 0}
_TMP = tempfile.mkdtemp(prefix="xrdbench_fuzz_results_")


class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang()


def _modules():
    """report.py and compare.py imported once (report.py checks for matplotlib at import)."""
    global _report, _compare, _GOOD
    if _report is None:
        import compare
        import report
        _report, _compare = report, compare
        _GOOD = xrdresults.load(SEEDS[0])
    return _report, _compare


def one_input(data, figures=False):
    """The fuzz target. Raises on a finding; returns normally for a good file or a clear ResultsError."""
    report, compare = _modules()
    path = os.path.join(_TMP, "input.json")
    with open(path, "wb") as f:
        f.write(data)
    try:
        res = xrdresults.load(path)
    except xrdresults.ResultsError as e:
        assert path in str(e), "a ResultsError must name the file: %s" % e
        STATS["rejected"] += 1
        return
    STATS["reported"] += 1
    # what report.py does with it (figures only when asked: matplotlib makes an input ~100x slower)
    out_dir = os.path.join(_TMP, "out")
    paper = xrdresults.paper_values([res], {})
    blocks = [b for b in report.summary_blocks(res, "Summary")]
    blocks += [report.machine_table([res]), report.rows_table(res, paper), report.stages_table(res),
               report.comparison_table([res, _GOOD], paper)]
    if figures and res.rows:
        blocks = report.build([res], {}, out_dir)
    report.to_markdown(blocks)
    report.to_html([b for b in blocks if b[0] != "img"], "fuzz", out_dir)
    list(report.csv_records([res]))
    # what compare.py does with it: strict loading, then both directions against a good file and itself
    try:
        strict = xrdresults.load(path, strict=True)
    except xrdresults.ResultsError as e:
        assert path in str(e), "a ResultsError must name the file: %s" % e
        return
    STATS["compared"] += 1
    args = compare.parse_args([path, path])
    for base, cur in ((strict, strict), (_GOOD, strict), (strict, _GOOD)):
        try:
            rows = compare.compare(base, cur, args)
        except xrdresults.ResultsError:
            continue
        compare.format_table(rows)
        compare.exit_code(rows)
        compare.calibration_warning(base, cur, args.normalize, rows)
        compare.describe(cur)
        json.dumps([r.to_json() for r in rows], allow_nan=False)


# ---- deterministic mutations ----

HOSTILE_VALUES = [float("nan"), float("inf"), float("-inf"), -1, -1e300, 0, 0.0, 1e300, 1e-320, 2 ** 70, True, False,
                  None, "", "x" * 300, "NaN", [], [1, 2], {}, {"median": 1}, [[[]]], "\u202e\u0000"]


def _paths(obj, prefix=()):
    """Every path of a JSON document down to 12 levels, depth first."""
    yield prefix
    if len(prefix) >= 12:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def mutate_json(doc, rng):
    d = copy.deepcopy(doc)
    paths = [p for p in _paths(d) if p]
    for _ in range(rng.randint(1, 4)):
        if not paths:
            break
        p = rng.choice(paths)
        try:
            parent = _get(d, p[:-1])
            op = rng.random()
            if op < 0.6:
                parent[p[-1]] = rng.choice(HOSTILE_VALUES)
            elif op < 0.75 and isinstance(parent, dict):
                del parent[p[-1]]
            elif op < 0.85 and isinstance(d.get("rows"), list) and d["rows"]:
                d["rows"].append(copy.deepcopy(rng.choice(d["rows"])))  # duplicate id, usually
            elif op < 0.92:
                parent[p[-1]] = "@DEEP@"  # replaced in the text below by arrays nested 10 or 100,000 deep
            else:
                parent[p[-1]] = rng.choice(HOSTILE_VALUES[:8]) if isinstance(parent[p[-1]], (int, float)) \
                    else parent[p[-1]]
        except (KeyError, IndexError, TypeError):
            pass
        paths = [q for q in _paths(d) if q]
    text = json.dumps(d, allow_nan=True)
    n = rng.choice((10, 100000))
    text = text.replace('"@DEEP@"', "[" * n + "]" * n)
    return text.encode("utf-8")


def mutate_bytes(data, rng):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not b:
            b += b"{"
        i = rng.randrange(len(b))
        if op < 0.4:
            b[i] = rng.randrange(256)
        elif op < 0.6:
            del b[i:i + rng.randint(1, 64)]
        elif op < 0.8:
            b[i:i] = rng.choice([b"NaN", b"Infinity", b"-Infinity", b"-0", b"1e999", b"\xff\xfe", b"null", b"[",
                                 b"\"", b"\\u0000"])
        else:
            del b[i:]
    return bytes(b)


def deterministic(args):
    rng = random.Random(args.seed)
    seeds = []
    for p in SEEDS:
        with open(p, "rb") as f:
            raw = f.read()
        seeds.append((raw, json.loads(raw)))
    if args.corpus and os.path.isdir(args.corpus):
        for name in sorted(os.listdir(args.corpus)):
            with open(os.path.join(args.corpus, name), "rb") as f:
                raw = f.read()
            try:
                seeds.append((raw, json.loads(raw)))
            except ValueError:
                seeds.append((raw, None))
    signal.signal(signal.SIGALRM, _on_alarm)
    done = 0
    for i in range(args.iterations):
        raw, doc = rng.choice(seeds)
        data = mutate_json(doc, rng) if (doc is not None and rng.random() < 0.7) else mutate_bytes(raw, rng)
        figures = args.figures_every > 0 and i % args.figures_every == 0
        signal.alarm(args.hang_s * (10 if figures else 1))
        try:
            one_input(data, figures=figures)
        except Hang:
            return finding(args, data, i, "hang: no result after %d s" % (args.hang_s * (10 if figures else 1)))
        except Exception:  # noqa: BLE001 (any other exception is the finding)
            signal.alarm(0)
            return finding(args, data, i, traceback.format_exc())
        finally:
            signal.alarm(0)
        done += 1
    print("fuzz_results: %d inputs (seed %d, figures every %d), no finding; %d refused with a clear message, %d "
          "reported, %d compared" % (done, args.seed, args.figures_every, STATS["rejected"], STATS["reported"],
                                     STATS["compared"]))
    return 0


def finding(args, data, i, what):
    os.makedirs(args.crash_dir, exist_ok=True)
    path = os.path.join(args.crash_dir, "crash-%d-%d.json" % (args.seed, i))
    with open(path, "wb") as f:
        f.write(data)
    print("fuzz_results: FINDING on input %d (saved as %s):\n%s" % (i, path, what), file=sys.stderr)
    return 1


def with_atheris(extra):
    try:
        import atheris
    except ImportError:
        print("fuzz_results: skipped: the atheris module is not importable by %s (pip install atheris in a venv "
              "under build/ to use it)" % sys.executable)
        return 0

    def target(data):
        try:
            one_input(data)
        except RecursionError:
            pass
    _modules()
    atheris.Setup([sys.argv[0]] + extra, target)
    atheris.Fuzz()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--figures-every", type=int, default=200, metavar="K",
                   help="draw the figures (report.build) for every K-th input (0: never)")
    p.add_argument("--hang-s", type=int, default=10, help="seconds an input may take (x10 with figures)")
    p.add_argument("--corpus", help="extra seed inputs (one file each)")
    p.add_argument("--crash-dir", default=os.path.join(_TMP, "crashes"))
    p.add_argument("--atheris", action="store_true", help="coverage-guided with atheris; the rest goes to libFuzzer")
    args, extra = p.parse_known_args()
    if args.atheris:
        return with_atheris(extra)
    if extra:
        p.error("unknown arguments: %s" % " ".join(extra))
    return deterministic(args)


if __name__ == "__main__":
    sys.exit(main())
