#!/usr/bin/python3
"""`cmake --install` into a temporary prefix, moved elsewhere afterwards (the installed tool must find its data
relative to itself), then from there: --version, `dataset synth` (3 frames), `table1 --repeats 1`, `report`; the
man page, the bash completion and the licence. Every file the installed tool writes is read back.

usage: test_install.py --cmake CMAKE --build BUILD_DIR --source SOURCE_DIR
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None


def run(cmd, **kw):
    env = dict(os.environ)
    # Nothing may point the installed tool back at the sources.
    for k in ("XRD_SHARED_DIR", "XRD_PAPER_TABLE", "XRDBENCH_REPORTS_DIR", "XRD_COMMIT"):
        env.pop(k, None)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False,
                          **kw)


class Installed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xrdbench_install_")
        staged = os.path.join(cls.tmp, "staged")
        r = run([ARGS.cmake, "--install", ARGS.build, "--prefix", staged])
        if r.returncode != 0:
            raise RuntimeError("cmake --install failed:\n" + r.stdout)
        # Move the prefix: the tool must not depend on where it was installed.
        cls.prefix = os.path.join(cls.tmp, "moved", "opt")
        os.makedirs(os.path.dirname(cls.prefix))
        shutil.move(staged, cls.prefix)
        cls.exe = os.path.join(cls.prefix, "bin", "xrdbench")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_layout(self):
        for rel in ("bin/xrdbench", "share/xrdbench/reports/report.py", "share/xrdbench/reports/compare.py",
                    "share/xrdbench/paper/table1.csv", "share/man/man1/xrdbench.1",
                    "share/bash-completion/completions/xrdbench", "share/doc/xrdbench/LICENSE",
                    "share/doc/xrdbench/README.md"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, rel)), rel)
        with open(os.path.join(self.prefix, "share/doc/xrdbench/LICENSE")) as f:
            self.assertIn("MIT License", f.read())
        if os.path.isfile(os.path.join(ARGS.build, "harness", "xrdbench_micro")):
            micro = os.path.join(self.prefix, "bin", "xrdbench_micro")
            r = run([micro, "--benchmark_list_tests"])
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("Decode", r.stdout)

    def test_version_names_the_configured_commit(self):
        r = run([self.exe, "--version"])
        self.assertEqual(r.returncode, 0, r.stdout)
        m = re.match(r"^xrdbench (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}|unknown)(-dirty)?\)$", r.stdout.strip())
        self.assertIsNotNone(m, r.stdout)
        with open(os.path.join(ARGS.build, "generated", "harness", "build_info.hpp")) as f:
            configured = re.search(r'XRD_GIT_COMMIT "([^"]*)"', f.read()).group(1)
        self.assertEqual(m.group(2) + (m.group(3) or ""), configured)
        if m.group(2) != "unknown":  # a real commit of the sources
            g = run(["git", "-C", ARGS.source, "cat-file", "-e", m.group(2) + "^{commit}"])
            self.assertEqual(g.returncode, 0, g.stdout)

    def test_table1_and_report_from_the_installed_prefix(self):
        work = os.path.join(self.tmp, "work")
        ds = os.path.join(work, "ds")
        r = run([self.exe, "dataset", "synth", "--out", ds, "--frames", "3"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(len([f for f in os.listdir(ds) if f.startswith("frame_")]), 3)
        out = os.path.join(work, "t1")
        r = run([self.exe, "table1", "--dataset", ds, "--repeats", "1", "--warmup", "0", "--out", out, "--quiet"],
                cwd=self.tmp)
        # 0, or 3 when a row is invalid (cold rows on a file system that cannot evict): both leave the results.
        self.assertIn(r.returncode, (0, 3), r.stdout)
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        rows = res["rows"]
        self.assertGreaterEqual(len(rows), 12)
        # The paper's figures (compiled in) are those of the installed copy the report scripts read.
        with open(os.path.join(self.prefix, "share/xrdbench/paper/table1.csv")) as f:
            paper = f.read()
        with_paper = [row for row in rows if row.get("paper")]
        self.assertGreaterEqual(len(with_paper), 12, "paper figures missing from results.json")
        for row in with_paper:
            self.assertIn(("%g" % row["paper"]["median_fps"]).rstrip("0").rstrip("."), paper)
        with open(os.path.join(out, "table1.md")) as f:
            md = f.read()
        for row in rows[:3]:
            self.assertIn(row["label"] if "label" in row else row["id"], md)
        rep = os.path.join(work, "report")
        r = run([self.exe, "report", os.path.join(out, "results.json"), "--out", rep], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(os.path.join(rep, "report.md")) as f:
            report_md = f.read()
        with open(os.path.join(rep, "report.html")) as f:
            report_html = f.read()
        self.assertTrue(report_html.lstrip().lower().startswith("<!doctype html"))
        self.assertIn("table1.png", report_md)
        self.assertTrue(os.path.getsize(os.path.join(rep, "table1.png")) > 1000)

    def test_no_fallback_to_the_sources(self):
        # A copy of the prefix without its report script must say so, naming the copy, not use the sources'.
        copy = os.path.join(self.tmp, "copy")
        shutil.copytree(self.prefix, copy, symlinks=True)
        os.remove(os.path.join(copy, "share/xrdbench/reports/report.py"))
        r = run([os.path.join(copy, "bin", "xrdbench"), "report", "nothing.json", "--out", self.tmp])
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn(os.path.join(copy, "share/xrdbench/reports/report.py"), r.stdout)
        self.assertNotIn(ARGS.source, r.stdout)

    def test_man_page_has_every_command_and_option(self):
        with open(os.path.join(self.prefix, "share/man/man1/xrdbench.1")) as f:
            page = f.read()
        self.assertTrue(page.startswith(".TH XRDBENCH 1"))
        top = run([self.exe, "--help"]).stdout
        names = re.findall(r"^  (\S+(?: \S+)?)\s{2,}", top.split("Commands:")[1], re.M)
        self.assertGreaterEqual(len(names), 10)
        for name in names:
            self.assertIn(".SS xrdbench " + name, page)
            for opt in set(re.findall(r"--[a-z0-9][a-z0-9-]*", run([self.exe] + name.split() + ["--help"]).stdout)):
                self.assertIn(opt, page, name)
        if shutil.which("man"):
            r = run(["man", "-l", "-P", "cat", os.path.join(self.prefix, "share/man/man1/xrdbench.1")])
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("table1", r.stdout)

    def complete(self, *words):
        script = os.path.join(self.prefix, "share/bash-completion/completions/xrdbench")
        words_q = " ".join("'%s'" % w for w in (self.exe,) + words)
        cmd = 'source "%s"; COMP_WORDS=(%s); COMP_CWORD=%d; _xrdbench; printf "%%s\\n" "${COMPREPLY[@]}"' % (
            script, words_q, len(words))
        r = run(["bash", "-c", cmd])
        self.assertEqual(r.returncode, 0, r.stdout)
        return r.stdout.split()

    def test_bash_completion(self):
        self.assertEqual(self.complete("tab"), ["table1"])
        self.assertIn("integrate", self.complete(""))
        self.assertIn("--version", self.complete("--"))
        self.assertEqual(self.complete("cbf", "in"), ["info"])
        self.assertEqual(self.complete("table1", "--rep"), ["--repeats"])
        self.assertEqual(sorted(self.complete("integrate", "--f")), ["--flat", "--float64"])
        self.assertIn("--drop-caches", self.complete("cache", "evict", "--"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--cmake", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    ARGS, rest = p.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
