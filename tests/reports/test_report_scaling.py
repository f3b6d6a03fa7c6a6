#!/usr/bin/python3
"""`xrdbench report` and `compare` stay linear in the rows (issue 10: a 50 MB results file of 60,000 rows had not
finished after 2 minutes). A generator writes 6,000- and 60,000-row files (fixture A's rows, renamed, with 4 frame
errors each: ~0.9 KB a row, ~50 MB for 60,000); both commands must finish within a generous limit, every row must be
in the report's table and the CSV, and the 60,000-row run must take less than 25x the 6,000-row one (10x is linear
in the rows, 100x quadratic; fixed costs such as drawing the figures make the real ratio lower still). A smoke test of
complexity, not a benchmark: nothing is compared with a fixed number of seconds other than the 600 s limit.
Usage: test_report_scaling.py [--xrdbench PATH]."""
import copy
import csv
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import load, run  # noqa: E402

LIMIT_S = 600
MAX_RATIO = 25.0


def write_rows(path, n):
    """Fixture A with n rows (ids made unique); returns the file size in bytes."""
    d = load()
    base = d["rows"]
    rows = []
    for i in range(n):
        r = copy.deepcopy(base[i % len(base)])
        r["id"] = "%s-%d" % (r["id"], i)
        r["errors"] = [{"file": "/data/scan/frame_%05d.cbf" % k, "reason": "byte 1234: truncated stream"}
                       for k in range(4)]
        rows.append(r)
    d["rows"] = rows
    with open(path, "w", encoding="utf-8") as f:
        json.dump(d, f, indent=1)
    return os.path.getsize(path)


class Scaling(unittest.TestCase):
    def test_report_and_compare_are_linear_in_rows(self):
        tmp = support.TempDir()
        try:
            times = {}
            for n in (6000, 60000):
                path = os.path.join(tmp.path, "r%d.json" % n)
                size = write_rows(path, n)
                if n == 60000:
                    self.assertGreater(size, 40e6)  # the issue's ~50 MB file
                out_dir = os.path.join(tmp.path, "o%d" % n)
                csv_path = os.path.join(tmp.path, "r%d.csv" % n)
                t0 = time.monotonic()
                code, out = run("report", path, "--out", out_dir, "--export-csv", csv_path)
                t_report = time.monotonic() - t0
                self.assertEqual(code, 0, out[-2000:])
                t0 = time.monotonic()
                code, out = run("compare", path, path)
                t_compare = time.monotonic() - t0
                self.assertEqual(code, 0, out[-2000:])
                with open(path, encoding="utf-8") as f:
                    valid = sum(1 for r in json.load(f)["rows"] if r["valid"])
                self.assertIn("no regression in %d compared row(s)" % valid, out)
                times[n] = (t_report, t_compare)
                self.assertLess(t_report, LIMIT_S)
                self.assertLess(t_compare, LIMIT_S)
                with open(os.path.join(out_dir, "report.md"), encoding="utf-8") as f:
                    md = f.read()
                self.assertIn("| fused-cpu-MEM-%d |" % (n - 1), md)
                self.assertIn("The figure shows the first 80 of the %d rows" % n, md)
                with open(csv_path, encoding="utf-8", newline="") as f:
                    self.assertEqual(sum(1 for _ in csv.DictReader(f)), n)
            for i, what in enumerate(("report", "compare")):
                ratio = times[60000][i] / times[6000][i]
                print("%s: 6,000 rows %.1f s, 60,000 rows %.1f s, ratio %.1f (linear: <= 10, quadratic: ~100)"
                      % (what, times[6000][i], times[60000][i], ratio))
                self.assertLess(ratio, MAX_RATIO, what)
        finally:
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
