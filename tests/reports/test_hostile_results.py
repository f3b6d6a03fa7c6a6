#!/usr/bin/python3
"""`xrdbench report` / `xrdbench compare` on results files that are valid JSON but carry impossible figures (issue 10):
an infinite fps used to hang report (endless log-axis loop) and make compare print a traceback with exit 1 (the
"regression" status); NaN, negative and zero fps were shown as "-" and "valid"; an empty table exited 0.
Usage: test_hostile_results.py [--xrdbench PATH]."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import FIXTURE_A, load, row, run  # noqa: E402


def doctored(**fps_medians):
    """Fixture A with these rows' fps.median replaced ({'row id': value}); the rows still say valid: true."""
    d = load()
    for rid, v in fps_medians.items():
        r = row(d, rid.replace("_", "-"))
        r["fps"]["median"] = v
        r["valid"] = True
        r["invalid_reasons"] = []
    return d


def md_line(md, row_id):
    return next(x for x in md.splitlines() if x.startswith("| %s |" % row_id))


class Hostile(unittest.TestCase):
    def setUp(self):
        self.tmp = support.TempDir()

    def tearDown(self):
        self.tmp.cleanup()

    def report(self, doc, name="r.json"):
        path = self.tmp.write(name, doc)
        out_dir = os.path.join(self.tmp.path, "out_" + name)
        code, out = run("report", path, "--out", out_dir)  # support.run: 300 s limit, far above a normal report
        md = ""
        if os.path.exists(os.path.join(out_dir, "report.md")):
            with open(os.path.join(out_dir, "report.md"), encoding="utf-8") as f:
                md = f.read()
        return code, out, md, path

    def test_infinite_fps_report_finishes_and_marks_the_row(self):
        code, out, md, path = self.report(doctored(sequential_cpu_MEM=float("inf")))
        self.assertEqual(code, 0, out)
        self.assertIn("Infinity", json.dumps(load(path)))  # Python writes the token the C++ writer never would
        line = md_line(md, "sequential-cpu-MEM")
        self.assertIn("INVALID: fps.median is Infinity, not a finite number", line)
        self.assertIn("warning: %s row 'sequential-cpu-MEM': fps.median is Infinity" % path, out)
        self.assertNotIn("Traceback", out)

    def test_infinite_fps_compare_exits_2_with_a_message(self):
        for name, doc in (("inf.json", doctored(sequential_cpu_MEM=float("inf"))),
                          ("nan.json", doctored(sequential_cpu_MEM=float("nan"))),
                          ("neg.json", doctored(sequential_cpu_MEM=-3.5))):
            path = self.tmp.write(name, doc)
            for args in ((FIXTURE_A, path), (path, FIXTURE_A)):
                code, out = run("compare", *args)
                self.assertEqual(code, 2, out)
                self.assertNotIn("Traceback", out)
                self.assertIn("%s row 'sequential-cpu-MEM': fps.median is" % path, out)
                self.assertIn("expected a finite number >= 0", out)

    def test_nan_negative_zero_rows_are_marked(self):
        code, out, md, path = self.report(doctored(sequential_cpu_MEM=float("nan"), sequential_cpu_SSD=-5,
                                                   fused_cpu_MEM=0))
        self.assertEqual(code, 0, out)
        for rid, why in (("sequential-cpu-MEM", "fps.median is NaN, not a finite number"),
                         ("sequential-cpu-SSD", "fps.median is negative (-5)"),
                         ("fused-cpu-MEM", "fps.median is 0: no frame was processed")):
            line = md_line(md, rid)
            self.assertIn("INVALID: " + why, line)
            self.assertNotIn("| valid |", line)
            self.assertIn("warning: %s row '%s': %s; the row is reported as INVALID" % (path, rid, why), out)
        # the summary counts them and never calls a NaN row the best
        self.assertIn("3 row(s) have an fps figure that cannot be used", md)
        self.assertIn("**Best**: `tbb-cpu-MEM`", md)  # fused (612) is out, tbb (538) is next
        # a bad runs entry or MAD is caught too
        d = load()
        row(d, "pool-2-gpu-MEM")["fps"]["runs"][1] = float("-inf")
        row(d, "pool-4-gpu-MEM")["fps"]["mad"] = -1
        code, out, md, path = self.report(d, "runs.json")
        self.assertEqual(code, 0, out)
        self.assertIn("INVALID: fps.runs[1] is -Infinity", md_line(md, "pool-2-gpu-MEM"))
        self.assertIn("INVALID: fps.mad is -1", md_line(md, "pool-4-gpu-MEM"))

    def test_zero_fps_in_compare_is_not_compared(self):
        path = self.tmp.write("zero.json", doctored(fused_cpu_MEM=0))
        code, out = run("compare", FIXTURE_A, path)
        self.assertEqual(code, 0, out)  # the other rows are the same; the zero row is named, not a pass nor a crash
        line = next(x for x in out.splitlines() if x.startswith("fused-cpu-MEM"))
        self.assertIn("NOT COMPARED", line)
        self.assertIn("no fps in current", line)

    def test_empty_table_exits_2(self):
        d = load()
        d["rows"] = []
        code, out, md, path = self.report(d)
        self.assertEqual(code, 2, out)
        self.assertIn("%s: no rows: nothing to report" % path, out)
        code, out = run("compare", path, path)
        self.assertEqual(code, 2, out)
        self.assertIn("no row could be compared", out)

    def test_wrong_types_are_named_not_tracebacks(self):
        for name, doc, expect in (
                ("rows.json", dict(load(), rows={"a": 1}), "key 'rows' should be an array"),
                ("row.json", dict(load(), rows=[5]), "a row should be an object"),
                ("fps.json", dict(load(), rows=[dict(load()["rows"][0], fps="fast")]), "key 'fps' should be an object"),
                ("utf.json", b"\xff\xfe{}", "not UTF-8"),
                ("deep.json", "[" * 100000 + "]" * 100000, "results file")):
            path = os.path.join(self.tmp.path, name)
            with open(path, "wb") as f:
                f.write(doc if isinstance(doc, bytes) else (doc if isinstance(doc, str) else json.dumps(doc)).encode())
            for cmd, args in (("report", (path, "--out", os.path.join(self.tmp.path, "o"))),
                              ("compare", (FIXTURE_A, path))):
                code, out = run(cmd, *args)
                self.assertEqual(code, 2, "%s %s: %s" % (cmd, name, out))
                self.assertIn(path, out)
                self.assertIn(expect, out)
                self.assertNotIn("Traceback", out)


if __name__ == "__main__":
    unittest.main()
