"""Disk full while writing HDF5 (a small tmpfs, as root): `integrate` and `run` end with a clear error naming the
file and saying "No space left on device", never a signal (they died with SIGSEGV in HDF5's shutdown before); `run`
keeps results.json (the row marked failed, with the reason); no temporary file is left behind.
Exits 77 (ctest SKIP) with a SKIP line when not root or when tmpfs cannot be mounted.
Usage: test_disk_full.py --xrdbench EXE"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support

MOUNT = None


def mount_tmpfs(size_kib):
    d = tempfile.mkdtemp(prefix="xrd_full_")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kib, "tmpfs", d], capture_output=True,
                       text=True)
    if p.returncode != 0:
        os.rmdir(d)
        return None, p.stderr.strip()
    return d, ""


def fill(mount, leave_kib):
    """Fills the tmpfs but `leave_kib` KiB."""
    st = os.statvfs(mount)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(mount, "filler"), "wb") as f:
        f.write(b"\0" * max(0, free - leave_kib * 1024))


class DiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ds = support.synth(6)

    def setUp(self):
        for name in os.listdir(MOUNT):
            p = os.path.join(MOUNT, name)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)

    def leftovers(self):
        return [p for p in glob.glob(os.path.join(MOUNT, "**", "*"), recursive=True) if ".tmp" in p]

    def test_integrate(self):
        fill(MOUNT, 96)
        out = os.path.join(MOUNT, "scan.h5")
        p = support.run("integrate", "--poni", os.path.join(self.ds, "geometry.poni"), "--bins", 4000, "--quiet",
                        "--out", out, *(support.frames_of(self.ds) * 4), check=False)
        self.assertEqual(p.returncode, 1, "exit status %d (negative: killed by a signal)\n%s" % (p.returncode,
                                                                                                 p.stderr))
        self.assertIn("scan.h5", p.stderr)
        self.assertIn("No space left on device", p.stderr)
        self.assertNotIn("Segmentation", p.stderr)
        self.assertEqual(self.leftovers(), [])

    def test_run_keeps_results(self):
        fill(MOUNT, 128)
        out = os.path.join(MOUNT, "out")
        p = support.run("run", "--dataset", self.ds, "--strategy", "sequential", "--out", out, "--bins", 8000,
                        "--repeats", 1, "--warmup", 0, "--device", "cpu", "--quiet", check=False)
        self.assertEqual(p.returncode, 3, "exit status %d (negative: killed by a signal)\n%s" % (p.returncode,
                                                                                                 p.stderr))
        with open(os.path.join(out, "results.json")) as f:
            row = json.load(f)["rows"][0]
        self.assertFalse(row["valid"])
        reasons = " ".join(row["invalid_reasons"])
        self.assertIn("No space left on device", reasons)
        self.assertIn("sequential-cpu-MEM.h5", reasons)
        self.assertEqual(self.leftovers(), [])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--xrdbench", required=True)
    args, rest = ap.parse_known_args()
    support.XRDBENCH = args.xrdbench
    if os.geteuid() != 0:
        print("SKIP: not root: cannot mount a small tmpfs to fill")
        sys.exit(support.SKIP)
    MOUNT, why = mount_tmpfs(1024)
    if MOUNT is None:
        print("SKIP: cannot mount a tmpfs (%s)" % why)
        sys.exit(support.SKIP)
    try:
        prog = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
        ok = prog.result.wasSuccessful()
    finally:
        subprocess.run(["umount", MOUNT])
        os.rmdir(MOUNT)
    sys.exit(0 if ok else 1)
