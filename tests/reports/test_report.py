#!/usr/bin/python3
"""`xrdbench report` (reports/report.py) on the results fixtures: every file is written, PNGs are valid, report.html
is self-contained, tables hold the rows and their validity; bad input and a missing matplotlib exit 2.
Usage: test_report.py [--xrdbench PATH] (without it, the script runs directly)."""
import base64
import copy
import os
import re
import struct
import sys
import unittest
import zlib
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
support.take_xrdbench_arg()
from support import FIXTURE_A, FIXTURE_B, load, run  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data):
    """(width, height) of a complete, CRC-correct PNG; raises AssertionError otherwise."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG signature"
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, "bad CRC in chunk %r" % kind
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks, chunks
    w, h = struct.unpack(">II", data[16:24])
    return w, h


class Tags(HTMLParser):
    """Collects tags, img sources and any external reference; checks that elements are closed in order."""
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.imgs, self.external, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for k in ("src", "href"):
            if k in a and not a[k].startswith(("data:", "#")):
                self.external.append(a[k])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, self.stack[-3:]))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir()
        cls.out2 = os.path.join(cls.tmp.path, "two")
        cls.code2, cls.log2 = run("report", FIXTURE_A, FIXTURE_B, "--out", cls.out2)
        cls.out1 = os.path.join(cls.tmp.path, "one")
        cls.code1, cls.log1 = run("report", FIXTURE_A, "--out", cls.out1)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read(self, *parts, mode="r"):
        with open(os.path.join(*parts), mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            return f.read()

    def test_writes_every_file(self):
        self.assertEqual(self.code2, 0, self.log2)
        for name in ("table1.png", "table1_2.png", "pool_scaling.png", "stages.png", "stages_2.png",
                     "machines.png", "report.md", "report.html"):
            self.assertTrue(os.path.isfile(os.path.join(self.out2, name)), name + "\n" + self.log2)

    def test_one_file_has_no_machines_figure(self):
        self.assertEqual(self.code1, 0, self.log1)
        names = sorted(os.listdir(self.out1))
        self.assertEqual(names, ["pool_scaling.png", "report.html", "report.md", "stages.png", "table1.png"])

    def test_pngs_are_valid_and_readable_sizes(self):
        for name in os.listdir(self.out2):
            if name.endswith(".png"):
                with self.subTest(name):
                    w, h = png_size(self.read(self.out2, name, mode="rb"))
                    self.assertGreaterEqual(w, 800)
                    self.assertGreaterEqual(h, 400)
                    self.assertLess(max(w, h), 4000)

    def test_html_is_self_contained(self):
        page = self.read(self.out2, "report.html")
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        p = Tags()
        p.feed(page)
        p.close()
        self.assertEqual(p.errors, [])
        self.assertEqual(p.stack, [])
        self.assertEqual(p.external, [])
        pngs = [n for n in os.listdir(self.out2) if n.endswith(".png")]
        self.assertEqual(len(p.imgs), len(pngs))
        for src in p.imgs:
            self.assertTrue(src.startswith("data:image/png;base64,"))
            png_size(base64.b64decode(src.split(",", 1)[1]))
        text = "".join(p.text)
        for rid in ("sequential-cpu-SSD", "pool-24-gpu-MEM", "opencl-gpu-MEM", "fused-cpu-MEM",
                    "opencl-batched-gpu-MEM"):
            self.assertIn(rid, text)
        self.assertIn("gpu-node-h100", text)
        self.assertIn("NVIDIA H100 80GB HBM3", text)

    def test_markdown_tables_machines_and_validity(self):
        md = self.read(self.out2, "report.md")
        self.assertIn("## Machines", md)
        self.assertIn("| CPU | AMD EPYC | Intel(R) Xeon(R) Platinum 8480+ |", md)
        self.assertIn("scalar decode", md)
        for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
            self.assertTrue(os.path.isfile(os.path.join(self.out2, name)), name)
        # every row of both files is in a table, with its validity
        for path in (FIXTURE_A, FIXTURE_B):
            for r in load(path)["rows"]:
                self.assertRegex(md, r"\| %s \|" % re.escape(r["id"]))
        line = next(x for x in md.splitlines() if x.startswith("| sequential-gpu-SSD | Sequential"))
        self.assertIn("INVALID: cold row had 37% resident", line)
        self.assertIn("37.0%", line)
        line = next(x for x in md.splitlines() if x.startswith("| opencl-batched-gpu-MEM | Batched"))
        self.assertIn("no (3.1e-04)", line)
        self.assertIn("INVALID: output differs", line)
        line = next(x for x in md.splitlines() if x.startswith("| pool-2-gpu-MEM | Pool"))
        self.assertIn("| 208 ± 4 | 192 ± 7 | 1.09 |", line)

    def test_paper_values_come_from_the_csv_when_rows_lack_them(self):
        d = copy.deepcopy(load(FIXTURE_A))
        for r in d["rows"]:
            r["paper"] = None
        tmp = support.TempDir()
        try:
            src = tmp.write("nopaper.json", d)
            csv = os.path.join(tmp.path, "table1.csv")
            with open(csv, "w", encoding="utf-8") as f:
                f.write("# comment\nstrategy,readers,integrator,source,median_fps,mad_fps\nPool,2,GPU,MEM,192,7\n")
            code, out = run("report", src, "--out", os.path.join(tmp.path, "o"), "--paper", csv)
            self.assertEqual(code, 0, out)
            md = self.read(tmp.path, "o", "report.md")
            line = next(x for x in md.splitlines() if x.startswith("| pool-2-gpu-MEM | Pool"))
            self.assertIn("| 192 ± 7 |", line)
        finally:
            tmp.cleanup()

    def test_sparse_results_still_make_every_figure(self):
        # a CI-like file: two CPU rows, no pool rows, one that failed (no fps), no stages, no calibration, no OpenCL
        d = copy.deepcopy(load(FIXTURE_A))
        d["machine"].update(calibration=None, opencl=[], hostname="")
        d["rows"] = [r for r in d["rows"] if r["id"] in ("sequential-cpu-MEM", "fused-cpu-MEM")]
        failed = d["rows"][1]
        failed.update(valid=False, validated=False, max_rel_diff=None, failed_frames=100,
                      invalid_reasons=["100 frames failed"], stages_ms={})
        failed["fps"] = {"median": None, "mad": None, "runs": []}
        d["interrupted"] = True
        tmp = support.TempDir()
        try:
            out_dir = os.path.join(tmp.path, "o")
            code, out = run("report", tmp.write("sparse.json", d), FIXTURE_B, "--out", out_dir)
            self.assertEqual(code, 0, out)
            for name in ("table1.png", "pool_scaling.png", "stages.png", "machines.png", "report.html"):
                self.assertTrue(os.path.isfile(os.path.join(out_dir, name)), name)
            md = self.read(out_dir, "report.md")
            self.assertIn("interrupted", md)
            self.assertIn("AMD EPYC (2 cores)", md)  # no hostname: the CPU names the machine
            line = next(x for x in md.splitlines() if x.startswith("| fused-cpu-MEM | Fused"))
            self.assertIn("INVALID: 100 frames failed", line)
        finally:
            tmp.cleanup()

    def test_sink_figures_have_their_table(self):
        d = copy.deepcopy(load(FIXTURE_A))
        d["rows"][0]["sink"] = {"create_ms": 1.25, "waited_ms": 0.0, "writer_ms": 9.5, "drain_ms": 0.4,
                                "close_ms": 0.5, "max_queued": 48}
        d["rows"][1]["sink"] = "not an object"  # ignored, the report is still made
        tmp = support.TempDir()
        try:
            out_dir = os.path.join(tmp.path, "o")
            code, out = run("report", tmp.write("sink.json", d), "--out", out_dir)
            self.assertEqual(code, 0, out)
            md = self.read(out_dir, "report.md")
            self.assertIn("Sinogram written on", md)
            line = next(x for x in md.splitlines() if x.startswith("| %s | 1.25 |" % d["rows"][0]["id"]))
            self.assertIn("| 9.50 | 0.00 | 0.40 | 0.50 | 48 |", line)
            self.assertFalse(any(x.startswith("| %s | " % d["rows"][1]["id"]) and "1.25" in x for x in md.splitlines()))
            # Without any sink figures, no such section.
            d2 = copy.deepcopy(load(FIXTURE_A))
            for r in d2["rows"]:
                r.pop("sink", None)
            out2 = os.path.join(tmp.path, "o2")
            code, out = run("report", tmp.write("nosink.json", d2), "--out", out2)
            self.assertEqual(code, 0, out)
            self.assertNotIn("Sinogram written on", self.read(out2, "report.md"))
        finally:
            tmp.cleanup()

    def test_bad_input_exits_2(self):
        tmp = support.TempDir()
        try:
            for name, doc in (("schema.json", {"schema": "nope"}), ("broken.json", "{")):
                code, out = run("report", tmp.write(name, doc), "--out", os.path.join(tmp.path, "o"))
                self.assertEqual(code, 2, out)
                self.assertIn(name, out)
            code, out = run("report", FIXTURE_A)  # no --out
            self.assertEqual(code, 2, out)
            self.assertIn("--out", out)
        finally:
            tmp.cleanup()

    def test_missing_matplotlib_is_a_clear_error(self):
        # python3 -S skips site-packages, where Debian's matplotlib lives: the script must say what is missing
        tmp = support.TempDir()
        try:
            wrapper = os.path.join(tmp.path, "python3-no-site")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n")
            os.chmod(wrapper, 0o755)
            out_dir = os.path.join(tmp.path, "o")
            if support.XRDBENCH:
                code, out = run("report", FIXTURE_A, "--out", out_dir, env={"XRDBENCH_PYTHON": wrapper})
            else:
                import subprocess
                p = subprocess.run([wrapper, os.path.join(support.REPORTS, "report.py"), FIXTURE_A, "--out",
                                    out_dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                code, out = p.returncode, p.stdout.decode()
            self.assertEqual(code, 2, out)
            self.assertIn("matplotlib is missing", out)
            self.assertIn("python3-matplotlib", out)
        finally:
            tmp.cleanup()

    @unittest.skipUnless(support.XRDBENCH, "needs the xrdbench binary")
    def test_missing_python_is_a_clear_error(self):
        code, out = run("report", FIXTURE_A, "--out", "/nonexistent/x", env={"XRDBENCH_PYTHON": "/nonexistent/py"})
        self.assertEqual(code, 2, out)
        self.assertIn("/nonexistent/py is needed", out)

    @unittest.skipUnless(support.XRDBENCH, "needs the xrdbench binary")
    def test_scripts_dir_override(self):
        code, out = run("compare", FIXTURE_A, FIXTURE_A, env={"XRDBENCH_REPORTS_DIR": "/nonexistent/reports"})
        self.assertEqual(code, 2, out)
        self.assertIn("/nonexistent/reports/compare.py", out)
        code, out = run("compare", FIXTURE_A, FIXTURE_A, env={"XRDBENCH_REPORTS_DIR": support.REPORTS})
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
