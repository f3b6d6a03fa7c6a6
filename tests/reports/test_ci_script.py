#!/usr/bin/python3
"""scripts/ci_regression.sh's decisions, with a stub xrdbench that hands out prepared results files: a pass, a
regression confirmed or not, attempts with a disturbed calibration, a failed run, the baseline update."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import load, slower  # noqa: E402

SCRIPT = os.path.join(support.REPO, "scripts", "ci_regression.sh")

# `dataset synth` makes the folder; `table1 --out D` copies the next queued results file to D/results.json (or fails
# when the queue holds "FAIL"); `report` does nothing; `compare` runs reports/compare.py.
STUB = r'''#!/usr/bin/python3
import os, shutil, subprocess, sys
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1]
if args[:2] == ["dataset", "synth"]:
    os.makedirs(opt("--out"), exist_ok=True)
elif args[0] == "table1":
    queue = os.environ["STUB_QUEUE"]
    n = int(open(os.path.join(queue, "next")).read()) if os.path.exists(os.path.join(queue, "next")) else 1
    open(os.path.join(queue, "next"), "w").write(str(n + 1))
    src = os.path.join(queue, "%d.json" % n)
    if open(src).read() == "FAIL":
        sys.exit("table1: simulated failure")
    os.makedirs(opt("--out"), exist_ok=True)
    shutil.copy(src, os.path.join(opt("--out"), "results.json"))
elif args[0] == "report":
    pass
elif args[0] == "compare":
    sys.exit(subprocess.call(["/usr/bin/python3", os.path.join(os.environ["REPORTS"], "compare.py")] + args[1:]))
else:
    sys.exit("stub: unexpected %r" % args)
'''


def rows_only(doc, ids=("sequential-cpu-MEM", "tbb-cpu-MEM", "fused-cpu-MEM")):
    doc = json.loads(json.dumps(doc))
    doc["rows"] = [r for r in doc["rows"] if r["id"] in ids]
    return doc


def calibrated(doc, scalar_ms):
    doc = json.loads(json.dumps(doc))
    doc["machine"]["calibration"]["scalar_decode_ms"] = scalar_ms
    return doc


class CiScript(unittest.TestCase):
    def setUp(self):
        self.tmp = support.TempDir()
        self.good = rows_only(load())
        self.slow = slower(self.good, "fused-cpu-MEM", 1.3)
        self.disturbed = calibrated(self.good, 5.1 * 4)
        self.stub = os.path.join(self.tmp.path, "xrdbench")
        with open(self.stub, "w") as f:
            f.write(STUB)
        os.chmod(self.stub, 0o755)
        self.queue = os.path.join(self.tmp.path, "queue")
        os.makedirs(self.queue)

    def tearDown(self):
        self.tmp.cleanup()

    def run_script(self, queue, *args, baseline=None):
        for i, doc in enumerate(queue, 1):
            with open(os.path.join(self.queue, "%d.json" % i), "w") as f:
                f.write(doc if isinstance(doc, str) else json.dumps(doc))
        baseline = baseline or self.tmp.write("baseline.json", self.good)
        env = dict(os.environ, XRDBENCH=self.stub, STUB_QUEUE=self.queue, REPORTS=support.REPORTS,
                   CI_OUT=os.path.join(self.tmp.path, "out"), CI_BASELINE=baseline)
        p = subprocess.run(["bash", SCRIPT] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           timeout=300)
        with open(os.path.join(self.queue, "next")) as f:
            used = int(f.read()) - 1
        return p.returncode, p.stdout.decode(), used

    def test_pass(self):
        code, out, used = self.run_script([self.good])
        self.assertEqual((code, used), (0, 1), out)

    def test_confirmed_regression_fails(self):
        code, out, used = self.run_script([self.slow, self.slow])
        self.assertEqual((code, used), (1, 2), out)
        self.assertIn("measuring again to confirm", out)

    def test_unconfirmed_slow_down_passes(self):
        code, out, used = self.run_script([self.slow, self.good])
        self.assertEqual((code, used), (0, 2), out)
        self.assertIn("did not show again", out)

    def test_disturbed_calibration_does_not_count(self):
        # a disturbed calibration hides the slow-down (everything looks 4x faster): measure again
        code, out, used = self.run_script([calibrated(self.slow, 5.1 * 4), self.slow, self.slow])
        self.assertEqual((code, used), (1, 3), out)
        self.assertIn("does not count", out)

    def test_every_calibration_disturbed_exits_2(self):
        code, out, used = self.run_script([self.disturbed] * 3)
        self.assertEqual((code, used), (2, 3), out)
        self.assertIn("nothing to conclude", out)

    def test_failed_measurement_exits_3(self):
        code, out, used = self.run_script(["FAIL"])
        self.assertEqual(code, 3, out)
        self.assertIn("simulated failure", out)

    def test_other_dataset_exits_2_at_once(self):
        other = json.loads(json.dumps(self.good))
        other["dataset"]["frames"] = 7
        code, out, used = self.run_script([other])
        self.assertEqual((code, used), (2, 1), out)

    def test_update_baseline_keeps_the_median_calibration(self):
        target = os.path.join(self.tmp.path, "new_baseline.json")
        runs = [calibrated(self.good, 1.9), calibrated(self.good, 7.0), calibrated(self.good, 1.6)]
        code, out, used = self.run_script(runs, "--update-baseline", baseline=target)
        self.assertEqual((code, used), (0, 3), out)
        with open(target, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["machine"]["calibration"]["scalar_decode_ms"], 1.9)
        self.assertIn("from run1 (median calibration)", out)


if __name__ == "__main__":
    unittest.main()
