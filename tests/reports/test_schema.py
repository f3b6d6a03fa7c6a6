#!/usr/bin/python3
"""results.json against docs/results.schema.json and docs/results-schema.md, on real output: a tiny synthetic dataset
run through `xrdbench table1` (two rows), then `xrdbench report --export-csv` read back and compared with the file.
- the JSON Schema (python3-jsonschema, Debian) accepts the real file and the fixtures, and refuses broken ones;
- every key the harness writes (machine, dataset, settings, row, nested objects) is named in docs/results-schema.md,
  and every property of the JSON Schema too: code, schema and documentation stay in step;
- the CSV has one line per row whose figures equal results.json's; report.md starts with the summary.
The schema tests skip (unittest) when the jsonschema module is missing; scripts/setup.sh installs it.
Usage: test_schema.py --xrdbench PATH."""
import csv
import json
import math
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import FIXTURE_A, FIXTURE_B, REPO  # noqa: E402

try:
    import jsonschema
except ImportError:
    jsonschema = None

SCHEMA = os.path.join(REPO, "docs", "results.schema.json")
DOC = os.path.join(REPO, "docs", "results-schema.md")
ROWS = "sequential-cpu-MEM,fused-cpu-MEM"


def run_tool(*args):
    p = subprocess.run([support.XRDBENCH] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def doc_keys():
    """Every "key" named in the documentation's JSON example."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    block = text.split("```jsonc", 1)[1].split("```", 1)[0]
    return set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', block))


def written_keys(obj, skip=("manifest", "stages_ms")):
    """Every key of a JSON document, recursively (the manifest is another file's; stage names are data)."""
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k)
            if k not in skip:
                out |= written_keys(v, skip)
    elif isinstance(obj, list):
        for v in obj:
            out |= written_keys(v, skip)
    return out


def schema_properties(node):
    out = set()
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            out.add(k)
        for v in node.values():
            out |= schema_properties(v)
    elif isinstance(node, list):
        for v in node:
            out |= schema_properties(v)
    return out


class Schema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir()
        ds = os.path.join(cls.tmp.path, "ds")
        out = os.path.join(cls.tmp.path, "t1")
        code, text = run_tool("dataset", "synth", "--out", ds, "--frames", "2")
        assert code == 0, text
        code, text = run_tool("table1", "--dataset", ds, "--repeats", "2", "--warmup", "0", "--bins", "100",
                              "--device", "cpu", "--rows", ROWS, "--out", out)
        assert code == 0, text
        cls.results_path = os.path.join(out, "results.json")
        with open(cls.results_path, encoding="utf-8") as f:
            cls.real = json.load(f)
        with open(SCHEMA, encoding="utf-8") as f:
            cls.schema = json.load(f)
        cls.report_dir = os.path.join(cls.tmp.path, "report")
        cls.csv_path = os.path.join(cls.tmp.path, "rows.csv")
        code, cls.report_out = run_tool("report", cls.results_path, "--out", cls.report_dir, "--export-csv",
                                        cls.csv_path)
        assert code == 0, cls.report_out

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def validator(self):
        if jsonschema is None:
            self.skipTest("python3-jsonschema is not installed (scripts/setup.sh installs it)")
        cls = jsonschema.validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        return cls(self.schema)

    def test_real_output_and_fixtures_match_the_schema(self):
        v = self.validator()
        for doc in [self.real] + [support.load(p) for p in (FIXTURE_A, FIXTURE_B)]:
            errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
            self.assertEqual([], ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors])
        m = self.real["machine"]
        for k in ("cpu_frequency", "caches", "load_average", "storage"):
            self.assertIn(k, m)
        self.assertEqual(m["storage"]["path"], os.path.realpath(os.path.join(self.tmp.path, "ds")))
        for r in self.real["rows"]:
            self.assertEqual(len(r["load_average"]["before"]), 3)
            self.assertEqual(len(r["load_average"]["after"]), 3)

    def test_schema_refuses_broken_files(self):
        v = self.validator()
        import copy
        for change, where in ((lambda d: d["rows"][0].pop("valid"), "valid"),
                              (lambda d: d["rows"][0]["fps"].update(median=-1.0), "median"),
                              (lambda d: d["rows"][0].update(source="RAM"), "source"),
                              (lambda d: d.update(schema="xrdbench-results/2"), "schema"),
                              (lambda d: d["machine"]["storage"].update(rotational="yes"), "rotational"),
                              (lambda d: d["rows"][0]["load_average"].update(before=[1, 2]), "before")):
            d = copy.deepcopy(self.real)
            change(d)
            errors = list(v.iter_errors(d))
            self.assertTrue(errors, where)

    def test_code_schema_and_doc_name_the_same_keys(self):
        documented = doc_keys()
        written = written_keys(self.real)
        self.assertEqual(set(), written - documented, "keys written but not in docs/results-schema.md")
        in_schema = schema_properties(self.schema)
        self.assertEqual(set(), in_schema - documented, "schema properties not in docs/results-schema.md")
        self.assertEqual(set(), written - in_schema - {"manifest"}, "keys written but not in the JSON Schema")

    def test_csv_export_has_one_line_per_row_with_the_figures(self):
        with open(self.csv_path, encoding="utf-8", newline="") as f:
            lines = list(csv.DictReader(f))
        rows = self.real["rows"]
        self.assertEqual(len(lines), len(rows))
        self.assertEqual([x["id"] for x in lines], ROWS.split(","))
        for line, r in zip(lines, rows):
            self.assertEqual(line["results_file"], self.results_path)
            self.assertEqual(line["strategy"], r["strategy"])
            self.assertEqual(float(line["fps_median"]), r["fps"]["median"])
            self.assertEqual(float(line["fps_mad"]), r["fps"]["mad"])
            self.assertEqual([float(x) for x in line["fps_runs"].split()], r["fps"]["runs"])
            self.assertEqual(line["valid"], "true" if r["valid"] else "false")
            self.assertEqual(int(line["frames"]), r["frames"])
            self.assertEqual(float(line["load_1min_before"]), r["load_average"]["before"][0])
            self.assertEqual(float(line["load_1min_after"]), r["load_average"]["after"][0])
            for k, v in r["stages_ms"].items():
                if "%s_ms" % k in line:
                    self.assertTrue(math.isclose(float(line["%s_ms" % k]), v), k)
            self.assertEqual(float(line["paper_fps"] or "nan") if r["paper"] else None,
                             r["paper"]["median_fps"] if r["paper"] else None)
        self.assertIn("wrote %s (2 rows)" % self.csv_path, self.report_out)

    def test_report_starts_with_the_summary(self):
        with open(os.path.join(self.report_dir, "report.md"), encoding="utf-8") as f:
            md = f.read()
        head = md.split("## Machines")[0]
        m, ds = self.real["machine"], self.real["dataset"]
        self.assertIn("## Summary", head)
        self.assertIn("**Machine**: %s, %d cores" % (m["cpu_model"], m["cores"]), head)
        self.assertIn("%s file system" % m["storage"]["fs_type"], head)
        self.assertIn("**Dataset**: synthetic (`xrdbench dataset synth`", head)
        self.assertIn("2 frames", head)
        self.assertIn("Pilatus3 2M (1475 x 1679 pixels)", head)
        best = max((r for r in self.real["rows"] if r["valid"]), key=lambda r: r["fps"]["median"])
        self.assertIn("**Best**: `%s`" % best["id"], head)
        self.assertRegex(head, r"keeps up with the detector's 250 frames/s, \d+% headroom|does NOT keep up")
        self.assertIn("**Trust**:", head)
        with open(os.path.join(self.report_dir, "report.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertLess(html.index("<h2>Summary</h2>"), html.index("<h2>Machines</h2>"))


if __name__ == "__main__":
    unittest.main()
