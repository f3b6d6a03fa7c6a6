#!/usr/bin/python3
"""The report's ten-second summary, its noise warnings, and the figures' words (issue 13), on the fixtures:
machine A (2-core VM, "GPU" rows on PoCL, a noisy pool row) and machine B (H100 node).
- report.md / report.html open with the summary: machine, GPU, storage, dataset, best row with its headroom, trust;
- rows with MAD > 5% of the median, or a 1-minute load above the CPUs, are flagged in the table and a warning list;
- no figure text (titles, legends, footnotes, tick labels) says "GPU" about a row that ran on an OpenCL CPU device.
Usage: test_report_summary.py [--xrdbench PATH]."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import FIXTURE_A, FIXTURE_B, REPORTS, load, row, run  # noqa: E402

sys.path.insert(0, REPORTS)
os.environ.setdefault("MPLBACKEND", "Agg")


class Summary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir()
        a = load(FIXTURE_A)
        row(a, "tbb-cpu-MEM")["load_average"] = {"before": [3.5, 2.0, 1.0], "after": [1.0, 1.0, 1.0]}
        a["machine"]["storage"] = {"path": "/data/synth100", "mount": "/data", "fs_type": "xfs",
                                   "source": "/dev/nvme0n1p1", "block_device": "nvme0n1p1", "disk": "nvme0n1",
                                   "model": "Samsung SSD 980 PRO", "rotational": False}
        a["machine"]["cpu_frequency"] = {"cur_mhz": 2400.0, "min_mhz": 1500.0, "max_mhz": 3500.0,
                                         "governor": "performance", "driver": "acpi-cpufreq", "source": "cpufreq"}
        cls.a_path = cls.tmp.write("a.json", a)
        cls.out = os.path.join(cls.tmp.path, "o")
        code, cls.output = run("report", cls.a_path, FIXTURE_B, "--out", cls.out)
        assert code == 0, cls.output
        with open(os.path.join(cls.out, "report.md"), encoding="utf-8") as f:
            cls.md = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def summary(self, label):
        part = self.md.split("## Summary: %s\n" % label, 1)[1]
        return part.split("\n## ", 1)[0]

    def test_summary_comes_first_and_answers_the_question(self):
        self.assertLess(self.md.index("## Summary: ci-vm"), self.md.index("## Machines"))
        s = self.summary("ci-vm")
        self.assertIn("**Machine**: AMD EPYC, 2 cores, up to 3.50 GHz, governor performance; 25.3 GB memory", s)
        self.assertIn("GPU: none (OpenCL CPU device: pthread-skylake-avx512-AMD EPYC)", s)
        self.assertIn("dataset storage: xfs file system on nvme0n1p1 (disk nvme0n1, SSD/flash, Samsung SSD 980 PRO) "
                      "mounted at `/data`.", s)
        self.assertIn("**Dataset**: synthetic (`xrdbench dataset synth`, seed 1234), 100 frames, 253.9 MB, "
                      "Pilatus3 2M (1475 x 1679 pixels)", s)
        # fused-cpu-MEM: 612.5 fps = 2.45x 250
        self.assertIn("**Best**: `fused-cpu-MEM`", s)
        self.assertIn("612 frames/s", s)
        self.assertIn("keeps up with the detector's 250 frames/s, 145% headroom (2.45x the rate)", s)
        self.assertIn("**Best from disk** (cold page cache): `sequential-cpu-SSD` at 118 frames/s: does NOT keep up "
                      "with the detector's 250 frames/s: 47% of the rate", s)
        self.assertIn("the device rows ran on an OpenCL CPU device (no GPU here)", s)
        self.assertIn("**Trust**:", s)
        b = self.summary("gpu-node-h100")
        self.assertIn("GPU: NVIDIA H100 80GB HBM3", b)
        self.assertIn("dataset storage: not recorded", b)  # older file: no machine.storage

    def test_noise_is_flagged_in_table_and_warning_list(self):
        s = self.summary("ci-vm")
        self.assertIn("have a large spread (MAD above 5% of the median)", s)
        self.assertIn("the machine was busy during 1 row(s)", s)
        line = next(x for x in self.md.splitlines() if x.startswith("| tbb-cpu-MEM |"))
        self.assertIn("machine busy: 1-minute load average 3.50 on 2 CPUs", line)
        pool = load(FIXTURE_A)
        noisy = [r["id"] for r in pool["rows"]
                 if r["fps"]["median"] and r["fps"]["mad"] > 0.05 * r["fps"]["median"]]
        self.assertTrue(noisy)
        for rid in noisy:
            line = next(x for x in self.md.splitlines() if x.startswith("| %s |" % rid))
            self.assertIn("spread: MAD is", line)
            self.assertIn("- `%s`: spread: MAD is" % rid, self.md)
        quiet = next(x for x in self.md.splitlines() if x.startswith("| sequential-cpu-MEM |"))
        self.assertTrue(quiet.rstrip().endswith("| - |"), quiet)
        self.assertIn("may not be repeatable", self.md)

    def test_figures_never_call_a_cpu_opencl_device_a_gpu(self):
        import figures
        import xrdresults
        texts = []
        saved = figures._save

        def collect(fig, path):
            for t in fig.findobj(lambda o: hasattr(o, "get_text")):
                texts.append(t.get_text())
            return saved(fig, path)
        figures._save = collect
        try:
            a = xrdresults.load(FIXTURE_A)
            out = os.path.join(self.tmp.path, "figs")
            os.makedirs(out, exist_ok=True)
            figures.table1(a, {}, os.path.join(out, "t.png"))
            figures.pool_scaling([a], {}, os.path.join(out, "p.png"))
            figures.stages(a, os.path.join(out, "s.png"))
            figures.machines([a, a], {}, os.path.join(out, "m.png"))
        finally:
            figures._save = saved
        joined = "\n".join(texts)
        self.assertIn("OpenCL CPU device", joined)
        for t in texts:
            # ids such as "pool-2-gpu-MEM" are row names, not claims; any "GPU" word in prose is
            self.assertNotIn("GPU integration", t)
            self.assertNotIn("GPU rows on", t)
        self.assertIn("pool, OpenCL CPU device (\u2020) integration, MEM", joined)

    def test_html_has_the_summary_list(self):
        with open(os.path.join(self.out, "report.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertLess(html.index("<h2>Summary: ci-vm</h2>"), html.index("<h2>Machines</h2>"))
        self.assertIn("<li><strong>Best</strong>: <code>fused-cpu-MEM</code>", html)
        self.assertNotIn("**", html)


if __name__ == "__main__":
    unittest.main()
