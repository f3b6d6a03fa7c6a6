"""SIGINT, SIGTERM and SIGHUP during `run`, `table1` and `integrate`, early and later in the run: the process exits
130, every HDF5 file it was writing opens with h5py, the frames marked valid equal the reference, the others are
NaN; results.json says interrupted. Usage: test_interrupt.py --xrdbench EXE"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

import support

BINS = 100


def wait_for(predicate, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


class Interrupt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xrd_interrupt_")
        cls.ds = support.synth(6)
        cls.ref = support.reference_h5(cls.ds, BINS, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def interrupt(self, args, ready, sig, delay):
        """Starts xrdbench args, waits until ready() holds, sleeps delay, sends sig; returns (exit status, stderr)."""
        p = subprocess.Popen([support.XRDBENCH] + [str(a) for a in args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for(lambda: ready() or p.poll() is not None), "never got ready")
            self.assertIsNone(p.poll(), "ended before the signal: make the run longer")
            time.sleep(delay)
            p.send_signal(sig)
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, err

    def check_file(self, path, frames_of_row):
        """The file opens; valid rows equal the reference frame they came from, the others are NaN."""
        got = support.read(path)
        valid = np.flatnonzero(got["valid"])
        for i in valid:
            one = {k: got[k][i:i + 1] if k in ("intensity", "sigma", "count", "valid") else got[k] for k in got}
            ref = {k: self.ref[k][frames_of_row(i):frames_of_row(i) + 1] if k in ("intensity", "sigma", "count",
                                                                             "valid") else self.ref[k]
                   for k in self.ref}
            support.compare_rows(self, one, ref, [0], what="%s row %d" % (path, i))
        invalid = np.flatnonzero(~got["valid"])
        self.assertTrue(np.isnan(got["intensity"][invalid]).all(), "%s: invalid rows must be NaN" % path)
        return len(valid)

    def test_run(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            for delay in (0.0, 0.4):
                with self.subTest(signal=sig.name, delay=delay):
                    out = tempfile.mkdtemp(dir=self.tmp)
                    rc, err = self.interrupt(
                        ["run", "--dataset", self.ds, "--strategy", "pipeline", "--out", out, "--bins", BINS,
                         "--repeats", 500, "--warmup", 0, "--device", "cpu", "--quiet"],
                        lambda: glob.glob(os.path.join(out, "patterns", "*.h5")), sig, delay)
                    self.assertEqual(rc, 130, err)
                    with open(os.path.join(out, "results.json")) as f:
                        self.assertIs(json.load(f)["interrupted"], True)
                    files = glob.glob(os.path.join(out, "patterns", "*.h5"))
                    self.assertEqual(len(files), 1)
                    self.check_file(files[0], lambda i: i)

    def test_table1(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            for delay in (0.0, 0.5):
                with self.subTest(signal=sig.name, delay=delay):
                    out = tempfile.mkdtemp(dir=self.tmp)
                    rc, err = self.interrupt(
                        ["table1", "--dataset", self.ds, "--out", out, "--bins", BINS, "--repeats", 300,
                         "--warmup", 0, "--device", "cpu", "--quiet", "--rows",
                         "sequential-cpu-MEM,fused-cpu-MEM,pipeline-cpu-MEM"],
                        lambda: glob.glob(os.path.join(out, "patterns", "*.h5")), sig, delay)
                    self.assertEqual(rc, 130, err)
                    with open(os.path.join(out, "results.json")) as f:
                        self.assertIs(json.load(f)["interrupted"], True)
                    files = glob.glob(os.path.join(out, "patterns", "*.h5"))
                    self.assertGreaterEqual(len(files), 1)
                    for path in files:
                        self.check_file(path, lambda i: i)

    def test_integrate(self):
        frames = support.frames_of(self.ds) * 150  # 900 frames: long enough to be interrupted
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            for delay in (0.0, 0.5):
                with self.subTest(signal=sig.name, delay=delay):
                    out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "scan.h5")
                    rc, err = self.interrupt(
                        ["integrate", "--poni", os.path.join(self.ds, "geometry.poni"), "--mask",
                         os.path.join(self.ds, "mask.cbf"), "--bins", BINS, "--threads", 2, "--out", out] + frames,
                        lambda: os.path.exists(out), sig, delay)
                    self.assertEqual(rc, 130, err)
                    self.assertIn("interrupted", err)
                    n = self.check_file(out, lambda i: i % 6)
                    self.assertLess(n, len(frames))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--xrdbench", required=True)
    args, rest = ap.parse_known_args()
    support.XRDBENCH = args.xrdbench
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
