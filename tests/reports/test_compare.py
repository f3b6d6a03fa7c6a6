#!/usr/bin/python3
"""`xrdbench compare` (reports/compare.py) on doctored results: exit codes, the table, the JSON, normalization.
Usage: test_compare.py [--xrdbench PATH] (without it, the script runs directly)."""
import copy
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import FIXTURE_A, load, row, run, slower  # noqa: E402


def table_line(output, row_id):
    """The table line of a row (first word = the id)."""
    for line in output.splitlines():
        if line.split()[:1] == [row_id]:
            return line
    raise AssertionError("no line for %s in:\n%s" % (row_id, output))


class Compare(unittest.TestCase):
    def setUp(self):
        self.tmp = support.TempDir()
        self.a = load()
        self.base = self.tmp.write("base.json", self.a)

    def tearDown(self):
        self.tmp.cleanup()

    def test_identical_exits_0(self):
        code, out = run("compare", self.base, FIXTURE_A)
        self.assertEqual(code, 0, out)
        self.assertIn("no regression", out)
        for r in self.a["rows"]:
            self.assertIn(r["id"], out)
        self.assertNotIn("REGRESSION", out)

    def test_one_row_30_percent_slower_exits_1_and_is_flagged(self):
        cur = self.tmp.write("cur.json", slower(self.a, "pool-4-gpu-MEM", 1.3))
        js = os.path.join(self.tmp.path, "cmp.json")
        code, out = run("compare", self.base, cur, "--json", js)
        self.assertEqual(code, 1, out)
        line = table_line(out, "pool-4-gpu-MEM")
        self.assertIn("REGRESSION", line)
        self.assertIn("+30.0%", line)
        self.assertRegex(line, r"U test")
        self.assertIn("1 regression(s): pool-4-gpu-MEM", out)
        # every other row is unchanged
        self.assertIn("same", table_line(out, "pool-2-gpu-MEM"))
        with open(js, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["exit_code"], 1)
        flagged = [r for r in doc["rows"] if r["verdict"] == "REGRESSION"]
        self.assertEqual([r["id"] for r in flagged], ["pool-4-gpu-MEM"])
        self.assertAlmostEqual(flagged[0]["change_pct"], 30.0, places=6)
        self.assertLess(flagged[0]["p"], 0.05)

    def test_faster_row_is_not_a_regression(self):
        cur = self.tmp.write("cur.json", slower(self.a, "tbb-cpu-MEM", 1 / 1.3))
        code, out = run("compare", self.base, cur)
        self.assertEqual(code, 0, out)
        self.assertIn("faster", table_line(out, "tbb-cpu-MEM"))

    def test_threshold_decides(self):
        cur = self.tmp.write("cur.json", slower(self.a, "pool-4-gpu-MEM", 1.3))
        code, out = run("compare", self.base, cur, "--threshold", "40")
        self.assertEqual(code, 0, out)
        self.assertRegex(table_line(out, "pool-4-gpu-MEM"), r"\bslower\b")

    def test_change_within_the_spread_is_noisy_not_a_regression(self):
        # median 152 fps against 197.6 (+30% time per frame), but the runs straddle the baseline's
        d = copy.deepcopy(self.a)
        row(d, "pool-4-gpu-MEM")["fps"] = {"median": 152.0, "mad": 32.0, "runs": [120.0, 152.0, 260.0, 140.0, 230.0]}
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 0, out)
        line = table_line(out, "pool-4-gpu-MEM")
        self.assertIn("noisy", line)
        self.assertIn("+30.0%", line)

    def test_few_runs_fall_back_to_mad(self):
        d = copy.deepcopy(self.a)
        for doc in (self.a, d):
            r = row(doc, "sequential-cpu-MEM")
            r["fps"]["runs"] = [150.0, 152.3, 153.0]
            r["fps"]["median"], r["fps"]["mad"] = 152.3, 0.7
        base = self.tmp.write("base3.json", self.a)
        cur = self.tmp.write("cur3.json", slower(d, "sequential-cpu-MEM", 1.3))
        code, out = run("compare", base, cur)
        self.assertEqual(code, 1, out)
        line = table_line(out, "sequential-cpu-MEM")
        self.assertIn("MAD", line)
        self.assertIn("REGRESSION", line)

    def test_mismatched_datasets_exit_2(self):
        d = copy.deepcopy(self.a)
        d["dataset"]["frames"] = 1202
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("dataset.frames: 100 vs 1202", out)
        self.assertNotIn("REGRESSION", out)

    def test_other_synthetic_dataset_exits_2(self):
        d = copy.deepcopy(self.a)
        d["dataset"]["manifest"]["seed"] = 99
        d["dataset"]["path"] = "/elsewhere"  # the path alone would not matter
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("dataset.manifest.seed differs", out)
        self.assertNotIn("path", out)

    def test_different_workload_exits_2(self):
        d = copy.deepcopy(self.a)
        d["settings"]["bins"] = 500
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("settings.bins", out)

    def test_same_id_other_strategy_exits_2(self):
        d = copy.deepcopy(self.a)
        row(d, "tbb-cpu-MEM")["integrator"] = "gpu"
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("NOT COMPARED", table_line(out, "tbb-cpu-MEM"))
        self.assertIn("integrator", table_line(out, "tbb-cpu-MEM"))

    def test_missing_row_exits_2_new_row_is_listed(self):
        d = copy.deepcopy(self.a)
        d["rows"] = [r for r in d["rows"] if r["id"] != "fused-cpu-MEM"]
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("absent from current", table_line(out, "fused-cpu-MEM"))
        code, out = run("compare", self.tmp.write("base2.json", d), self.base)
        self.assertEqual(code, 0, out)
        self.assertIn("new", table_line(out, "fused-cpu-MEM"))

    def test_invalid_rows_are_not_compared_wrong_output_fails(self):
        # sequential-gpu-SSD is invalid (residency) in the fixture: shown, not compared
        code, out = run("compare", self.base, FIXTURE_A)
        self.assertIn("NOT COMPARED", table_line(out, "sequential-gpu-SSD"))
        self.assertIn("37% resident", table_line(out, "sequential-gpu-SSD"))
        d = copy.deepcopy(self.a)
        r = row(d, "tbb-cpu-MEM")
        r.update(validated=False, valid=False, max_rel_diff=0.01, invalid_reasons=["output differs by 1e-2"])
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 1, out)
        self.assertIn("WRONG OUTPUT", table_line(out, "tbb-cpu-MEM"))

    def test_nothing_comparable_exits_2(self):
        d = copy.deepcopy(self.a)
        for r in d["rows"]:
            r.update(valid=False, invalid_reasons=["hot row had 40% resident before the run"])
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 2, out)
        self.assertIn("no row could be compared", out)

    def test_normalize_scalar_decode_removes_machine_speed(self):
        # the same build on a machine twice as slow: every row at half the fps, the scalar decoder twice as slow
        d = copy.deepcopy(self.a)
        for r in d["rows"]:
            r["fps"]["runs"] = [v / 2 for v in r["fps"]["runs"]]
            r["fps"]["median"] /= 2
            r["fps"]["mad"] /= 2
        d["machine"]["calibration"]["scalar_decode_ms"] *= 2
        d["machine"]["calibration"]["memcpy_GBps"] /= 2
        cur = self.tmp.write("cur.json", d)
        code, out = run("compare", self.base, cur)
        self.assertEqual(code, 1, out)
        for mode in ("scalar-decode", "memcpy"):
            code, out = run("compare", self.base, cur, "--normalize", mode)
            self.assertEqual(code, 0, out)
            self.assertIn("normalize: %s" % mode, out)
        # and a real 30% regression still shows through the normalization
        cur = self.tmp.write("cur2.json", slower(d, "fused-cpu-MEM", 1.3))
        code, out = run("compare", self.base, cur, "--normalize", "scalar-decode")
        self.assertEqual(code, 1, out)
        self.assertIn("REGRESSION", table_line(out, "fused-cpu-MEM"))

    def test_disturbed_calibration_is_reported(self):
        # same rows, but CURRENT's scalar-decode calibration was hit by load (4x slower): every normalized row
        # looks 4x faster; compare says the calibration is suspect
        d = copy.deepcopy(self.a)
        d["machine"]["calibration"]["scalar_decode_ms"] *= 4
        js = os.path.join(self.tmp.path, "cmp.json")
        code, out = run("compare", self.base, self.tmp.write("cur.json", d), "--normalize", "scalar-decode",
                        "--json", js)
        self.assertIn("one calibration was probably disturbed", out)
        self.assertIn("0.25x as fast as BASELINE", out)
        with open(js, encoding="utf-8") as f:
            self.assertIn("disturbed", json.load(f)["calibration_warning"])
        code, out = run("compare", self.base, FIXTURE_A, "--normalize", "scalar-decode", "--json", js)
        self.assertNotIn("disturbed", out)
        with open(js, encoding="utf-8") as f:
            self.assertIsNone(json.load(f)["calibration_warning"])

    def test_other_thread_count_is_reported(self):
        d = copy.deepcopy(self.a)
        d["machine"]["threads_used"] = 1
        code, out = run("compare", self.base, self.tmp.write("cur.json", d))
        self.assertEqual(code, 0, out)
        self.assertIn("the runs used 2 and 1 worker threads", out)
        code, out = run("compare", self.base, FIXTURE_A)
        self.assertNotIn("worker threads", out)

    def test_normalize_without_calibration_exits_2(self):
        d = copy.deepcopy(self.a)
        d["machine"]["calibration"] = None
        code, out = run("compare", self.base, self.tmp.write("cur.json", d), "--normalize", "scalar-decode")
        self.assertEqual(code, 2, out)
        self.assertIn("machine.calibration.scalar_decode_ms", out)

    def test_rows_filter(self):
        cur = self.tmp.write("cur.json", slower(self.a, "pool-4-gpu-MEM", 1.3))
        code, out = run("compare", self.base, cur, "--rows", "tbb-cpu-MEM,fused-cpu-MEM")
        self.assertEqual(code, 0, out)
        self.assertNotIn("pool-4-gpu-MEM", out)
        code, out = run("compare", self.base, cur, "--rows", "no-such-row")
        self.assertEqual(code, 2, out)

    def test_bad_input_exits_2(self):
        cases = {
            "missing file": os.path.join(self.tmp.path, "absent.json"),
            "not JSON": self.tmp.write("bad.json", "{not json"),
            "other schema": self.tmp.write("schema.json", dict(self.a, schema="something-else/2")),
            "no rows": self.tmp.write("norows.json", {k: v for k, v in self.a.items() if k != "rows"}),
        }
        for name, path in cases.items():
            with self.subTest(name):
                code, out = run("compare", self.base, path)
                self.assertEqual(code, 2, out)
                self.assertRegex(out, r"error: .*" + re.escape(os.path.basename(path)))
        code, out = run("compare", self.base, self.base, "--threshold", "-3")
        self.assertEqual(code, 2, out)
        code, out = run("compare", self.base)
        self.assertEqual(code, 2, out)


if __name__ == "__main__":
    unittest.main()
