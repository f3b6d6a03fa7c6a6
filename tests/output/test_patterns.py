"""Every file the tool writes for the reduced data is read back (h5py) and compared with the reference:
- `run` with every strategy (OpenCL ones on whatever OpenCL device there is, PoCL here) and `table1`: every frame's
  intensity, sigma and count equal `integrate` on the same frame (1e-5 relative), no valid row all zeros;
- the file's NeXus structure: @default chain, NXdata with the scan (rotation x translation x radial) or frames,
  axes, units, valid flags, NaN rows for frames not reached, NXprocess with the PONI text and the mask's MD5;
- a bad frame in the middle: its row NaN and valid 0, the others equal to the reference;
- `--no-write`, `--scan-shape`, `integrate` text outputs (.csv header unit, .xy pyFAI-style, other suffixes refused).
Usage: test_patterns.py --xrdbench EXE"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest

import h5py
import numpy as np

import support
from support import run

BINS = 200
STRATEGIES = [("sequential", "cpu"), ("pool", "cpu"), ("pipeline", "cpu"), ("fused", "cpu"),
              ("opencl", "opencl"), ("opencl-batched", "opencl"), ("pool", "opencl")]


def has_opencl():
    """Whether `xrdbench devices --json` lists a device (a flat list of devices)."""
    p = run("devices", "--json", check=False)
    try:
        return p.returncode == 0 and len(json.loads(p.stdout)) > 0
    except ValueError:
        return False


def nxdata_problems(group):
    """The checks of silx's NXdata validation (silx.io.nxdata.is_valid_nxdata), without silx: signal present, axes
    one per dimension, each axis 1-D of its dimension's length, errors of the signal's shape."""
    problems = []
    if group.attrs.get("NX_class") != "NXdata":
        problems.append("NX_class is not NXdata")
    sig = group.attrs.get("signal")
    if sig not in group:
        return problems + ["signal %r missing" % sig]
    shape = group[sig].shape
    axes = [a.decode() if isinstance(a, bytes) else a for a in group.attrs.get("axes", [])]
    if len(axes) != len(shape):
        problems.append("axes %r for a %d-D signal" % (axes, len(shape)))
    for dim, name in enumerate(axes):
        if name == ".":
            continue
        if name not in group:
            problems.append("axis %s missing" % name)
        elif group[name].ndim != 1 or group[name].shape[0] != shape[dim]:
            problems.append("axis %s has shape %s, dimension %d is %d" % (name, group[name].shape, dim, shape[dim]))
        elif int(group.attrs.get(name + "_indices", dim)) != dim:
            problems.append("%s_indices is not %d" % (name, dim))
    if "%s_errors" % sig in group and group["%s_errors" % sig].shape != shape:
        problems.append("errors shape differs")
    return problems


class Patterns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xrd_output_")
        cls.ds = support.synth(6)
        cls.ref = support.reference_h5(cls.ds, BINS, cls.tmp)
        cls.opencl = has_opencl()
        cls.files = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_row(self, strategy, device, ds=None, extra=(), check=True):
        out = tempfile.mkdtemp(dir=self.tmp, prefix=strategy + "_")
        p = run("run", "--dataset", ds or self.ds, "--strategy", strategy, "--out", out, "--bins", BINS,
                "--repeats", 1, "--warmup", 0, "--device", device, "--quiet", *extra, check=False)
        if check:
            self.assertEqual(p.returncode, 0, p.stderr)
        return out, p

    def the_file(self, out):
        files = glob.glob(os.path.join(out, "patterns", "*.h5"))
        self.assertEqual(len(files), 1, files)
        return files[0]

    def test_every_strategy_writes_every_frame(self):
        for strategy, device in STRATEGIES:
            with self.subTest(strategy=strategy):
                if device == "opencl" and not self.opencl:
                    print("SKIP %s: no OpenCL device" % strategy, file=sys.stderr)
                    continue
                extra = ("--integrator", "gpu") if strategy == "pool" and device == "opencl" else ()
                out, _ = self.run_row(strategy, device, extra=extra)
                with open(os.path.join(out, "results.json")) as f:
                    row = json.load(f)["rows"][0]
                self.assertTrue(row["validated"], row.get("invalid_reasons"))
                self.assertTrue(row["valid"], row.get("invalid_reasons"))
                self.assertGreater(row["stages_ms"]["write"], 0)
                got = support.read(self.the_file(out))
                support.compare_rows(self, got, self.ref, range(6), what=strategy)
                self.assertEqual(got["sources"], support.frames_of(self.ds))

    def test_table1_writes_every_row(self):
        out = tempfile.mkdtemp(dir=self.tmp, prefix="table1_")
        rows = ["fused-cpu-MEM", "pipeline-cpu-MEM", "sequential-cpu-MEM"]
        if self.opencl:
            rows += ["opencl-gpu-MEM", "pool-2-gpu-MEM"]
        run("table1", "--dataset", self.ds, "--out", out, "--bins", BINS, "--repeats", 1, "--warmup", 0,
            "--device", "opencl" if self.opencl else "cpu", "--quiet", "--rows", ",".join(rows))
        files = sorted(glob.glob(os.path.join(out, "patterns", "*.h5")))
        self.assertEqual([os.path.basename(f) for f in files], sorted(r + ".h5" for r in rows))
        for f in files:
            support.compare_rows(self, support.read(f), self.ref, range(6), what=f)
        with open(os.path.join(out, "table1.md")) as f:
            self.assertIn("written to HDF5", f.read())

    def test_nexus_structure(self):
        out, _ = self.run_row("sequential", "cpu")
        path = self.the_file(out)
        with h5py.File(path, "r") as f:
            self.assertEqual(f.attrs["default"], "entry")
            entry = f["entry"]
            self.assertEqual(entry.attrs["NX_class"], "NXentry")
            self.assertEqual(entry.attrs["default"], "integrate")
            d = entry["integrate"]
            self.assertEqual(nxdata_problems(d), [])
            # The synthetic dataset is a scan of 41 translations per rotation: 6 frames fill 1 x 41 cells.
            self.assertEqual(d["intensity"].shape, (1, 41, BINS))
            self.assertEqual(list(d.attrs["axes"]), ["rotation", "translation", "radial"])
            with open(os.path.join(self.ds, "manifest.json")) as mf:
                scan = json.load(mf)["scan"]
            self.assertEqual(scan["translations"], 41)
            np.testing.assert_allclose(d["translation"][()], scan["translation"])
            np.testing.assert_allclose(d["rotation"][()], scan["rotation_deg"][:1])
            self.assertEqual(d["rotation"].attrs["units"], "deg")
            self.assertEqual(d["radial"].attrs["units"], "1/nm")
            self.assertEqual(d["radial"].attrs["pyfai_unit"], "q_nm^-1")
            valid = d["valid"][()].reshape(-1)
            self.assertEqual(list(valid[:6]), [1] * 6)
            self.assertFalse(valid[6:].any())
            inten = d["intensity"][()].reshape(-1, BINS)
            self.assertTrue(np.isnan(inten[6:]).all(), "cells not reached must be NaN")
            self.assertTrue(np.isnan(d["count"][()].reshape(-1, BINS)[6:]).all())
            self.assertEqual(d["intensity_errors"].shape, d["intensity"].shape)
            p = entry["process"]
            self.assertEqual(p.attrs["NX_class"], "NXprocess")
            for key in ("program", "version", "date", "reduction/commit"):
                self.assertTrue(p[key][()], key)
            with open(os.path.join(self.ds, "geometry.poni")) as g:
                self.assertEqual(p["geometry/data"][()].decode(), g.read())
            r = p["reduction"]
            self.assertEqual(r.attrs["NX_class"], "NXparameters")
            with open(os.path.join(self.ds, "mask.cbf"), "rb") as m:
                self.assertEqual(r["mask_md5"][()].decode(), hashlib.md5(m.read()).hexdigest())
            self.assertEqual(r["bins"][()], BINS)
            self.assertEqual(r["pixel_splitting"][()].decode(), "bbox")
            self.assertEqual(r["pyfai_unit"][()].decode(), "q_nm^-1")
            self.assertEqual(r["dark_file"][()].decode(), "none")
        try:  # silx's own NXdata validation, when silx is there
            from silx.io import nxdata  # noqa
        except ImportError:
            return
        with h5py.File(path, "r") as f:
            self.assertTrue(nxdata.is_valid_nxdata(f["entry/integrate"]))

    def test_bad_frame_in_the_middle(self):
        ds = os.path.join(self.tmp, "bad_ds")
        shutil.copytree(self.ds, ds)
        bad = support.frames_of(ds)[3]
        with open(bad, "r+b") as f:  # the byte-offset stream cut short: the frame cannot be decoded
            size = os.path.getsize(bad)
            f.truncate(size // 2)
        for strategy in ("sequential", "pipeline"):
            with self.subTest(strategy=strategy):
                out, p = self.run_row(strategy, "cpu", ds=ds, check=False)
                self.assertIn(p.returncode, (0, 3), p.stderr)
                got = support.read(self.the_file(out))
                self.assertFalse(got["valid"][3])
                self.assertTrue(np.isnan(got["intensity"][3]).all())
                self.assertTrue(np.isnan(got["sigma"][3]).all())
                support.compare_rows(self, got, self.ref, [0, 1, 2, 4, 5], what=strategy)

    def test_no_write(self):
        out, _ = self.run_row("sequential", "cpu", extra=("--no-write",))
        self.assertFalse(os.path.exists(os.path.join(out, "patterns")))
        with open(os.path.join(out, "results.json")) as f:
            self.assertIs(json.load(f)["settings"]["write"], False)

    def test_scan_shape_option(self):
        ds = os.path.join(self.tmp, "plain_ds")  # a plain folder: no manifest, the user gives the scan
        shutil.copytree(self.ds, ds)
        os.remove(os.path.join(ds, "manifest.json"))
        out, _ = self.run_row("sequential", "cpu", ds=ds,
                              extra=("--scan-shape", "2,3", "--scan-rotation", "0,90", "--scan-translation", "-1,1"))
        path = self.the_file(out)
        with h5py.File(path, "r") as f:
            d = f["entry/integrate"]
            self.assertEqual(d["intensity"].shape, (2, 3, BINS))
            np.testing.assert_allclose(d["rotation"][()], [0, 90])
            np.testing.assert_allclose(d["translation"][()], [-1, 0, 1])
            self.assertEqual(d["translation"].attrs["units"], "mm")
            self.assertEqual(nxdata_problems(d), [])
        support.compare_rows(self, support.read(path), self.ref, range(6), what="--scan-shape")
        out, _ = self.run_row("sequential", "cpu", ds=ds, extra=("--no-write",))
        _, p = self.run_row("sequential", "cpu", ds=ds, extra=("--scan-shape", "1,2"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("do not fit", p.stderr)
        # Without a manifest and without --scan-shape: frames x bins.
        out, _ = self.run_row("sequential", "cpu", ds=ds)
        with h5py.File(self.the_file(out), "r") as f:
            self.assertEqual(f["entry/integrate/intensity"].shape, (6, BINS))
            self.assertEqual(nxdata_problems(f["entry/integrate"]), [])

    def test_integrate_text_outputs(self):
        frame = support.frames_of(self.ds)[2]
        common = ["integrate", "--poni", os.path.join(self.ds, "geometry.poni"), "--mask",
                  os.path.join(self.ds, "mask.cbf"), "--bins", BINS, "--quiet"]
        csv = os.path.join(self.tmp, "one.csv")
        run(*common, "--out", csv, frame)
        with open(csv) as f:
            self.assertEqual(f.readline().strip(), "q_nm^-1,intensity,sigma,count")
        a = np.loadtxt(csv, delimiter=",", skiprows=1)
        m = self.ref["count"][2] > 0.5
        np.testing.assert_allclose(a[m, 1], self.ref["intensity"][2][m], rtol=1e-6)
        np.testing.assert_allclose(a[m, 3], self.ref["count"][2][m], rtol=1e-6)
        for suffix in (".xy", ".dat"):
            xy = os.path.join(self.tmp, "one" + suffix)
            run(*common, "--out", xy, frame)
            with open(xy) as f:
                header = [ln for ln in f if ln.startswith("#")]
            self.assertTrue(any("q_nm^-1" in ln for ln in header))
            self.assertTrue(any("Wavelength" in ln for ln in header))
            self.assertTrue(any("mask.cbf" in ln for ln in header))
            b = np.loadtxt(xy)
            self.assertEqual(b.shape, (BINS, 3))
            np.testing.assert_allclose(b[:, 0], self.ref["radial"], rtol=1e-7)
            np.testing.assert_allclose(b[m, 1], self.ref["intensity"][2][m], rtol=1e-7)
            np.testing.assert_allclose(b[m, 2], self.ref["sigma"][2][m], rtol=1e-7)
        p = run(*common, "--out", os.path.join(self.tmp, "one.txt"), frame, check=False)
        self.assertEqual(p.returncode, 2)
        for word in (".txt", ".csv", ".xy", ".dat", ".h5"):
            self.assertIn(word, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "one.txt")))


class PaperTable(unittest.TestCase):
    """The paper's Table 1 is in the repository: the report finds it there, without ../shared."""

    def test_report_finds_the_repository_copy(self):
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.path.insert(0, os.path.join(repo, "reports"))
        import xrdresults  # noqa: E402
        saved = os.environ.pop("XRD_PAPER_TABLE", None)
        try:
            path = xrdresults.default_paper_csv()
        finally:
            if saved is not None:
                os.environ["XRD_PAPER_TABLE"] = saved
        self.assertEqual(os.path.realpath(path), os.path.realpath(os.path.join(repo, "data", "paper", "table1.csv")))
        table = xrdresults.load_paper_csv(path)
        self.assertEqual(len(table), 12)
        self.assertEqual(table["pool-2-gpu-MEM"], (192.0, 7.0))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--xrdbench", required=True)
    args, rest = ap.parse_known_args()
    support.XRDBENCH = args.xrdbench
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
