#!/usr/bin/python3
"""`xrdbench run --dark/--flat` with a float32 dark (.npy, numpy) and a float64 flat (HDF5, h5py) on a 2-frame
synthetic dataset: the row's patterns (OUT/patterns/*.h5, read back with h5py) equal `xrdbench integrate`'s with the
same files, differ from the patterns without them, and a dark of the wrong shape is refused naming the file.

usage: check_run_dark_flat.py XRDBENCH
"""
import glob
import os
import subprocess
import sys
import tempfile

import h5py
import numpy

exe = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="xrdbench_dark_")


def run(*args, ok=True):
    r = subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if ok and r.returncode != 0:
        sys.exit("FAIL: xrdbench %s exited %d:\n%s" % (" ".join(args), r.returncode, r.stdout))
    return r


ds = os.path.join(tmp, "ds")
run("dataset", "synth", "--out", ds, "--frames", "2")
H, W = 1679, 1475
rng = numpy.random.default_rng(5)
dark = (3.25 + rng.random((H, W))).astype(numpy.float32)
flat = (0.8 + 0.4 * rng.random((H, W))).astype(numpy.float64)
numpy.save(os.path.join(tmp, "dark.npy"), dark)
with h5py.File(os.path.join(tmp, "flat.h5"), "w") as f:
    f["/calib/flat"] = flat
dark_arg, flat_arg = os.path.join(tmp, "dark.npy"), os.path.join(tmp, "flat.h5") + "::/calib/flat"

out = os.path.join(tmp, "run")
run("run", "--dataset", ds, "--strategy", "sequential", "--repeats", "1", "--warmup", "0", "--dark", dark_arg,
    "--flat", flat_arg, "--out", out, "--quiet")
patterns = glob.glob(os.path.join(out, "patterns", "*.h5"))
assert len(patterns) == 1, patterns
frames = sorted(glob.glob(os.path.join(ds, "frame_*.cbf")))
ref = os.path.join(tmp, "ref.h5")
common = ["--poni", os.path.join(ds, "geometry.poni"), "--mask", os.path.join(ds, "mask.cbf"), "--quiet"]
run("integrate", *common, "--dark", dark_arg, "--flat", flat_arg, "--out", ref, *frames)
plain = os.path.join(tmp, "plain.h5")
run("integrate", *common, "--out", plain, *frames)
with h5py.File(patterns[0]) as a, h5py.File(ref) as b, h5py.File(plain) as c:
    ia, ib, ic = (x["entry/integrate/intensity"][()].astype(numpy.float64) for x in (a, b, c))
assert ia.shape == ib.shape == (2, 1000), (ia.shape, ib.shape)
ok = ib != 0
rel = numpy.abs(ia - ib)[ok] / numpy.abs(ib)[ok]
assert rel.max() < 1e-5, "run and integrate differ: %g" % rel.max()
diff = numpy.abs(ib - ic)[ok] / numpy.maximum(numpy.abs(ic)[ok], 1e-30)
assert numpy.median(diff) > 1e-3, "the dark and flat changed nothing: %g" % numpy.median(diff)

numpy.save(os.path.join(tmp, "small.npy"), dark[:10, :10])
r = run("run", "--dataset", ds, "--strategy", "sequential", "--repeats", "1", "--warmup", "0", "--dark",
        os.path.join(tmp, "small.npy"), "--out", os.path.join(tmp, "bad"), "--quiet", ok=False)
assert r.returncode != 0 and "small.npy" in r.stdout and "the dark image is 10 x 10 pixels (NPY)" in r.stdout, r.stdout
print("ok: run == integrate to %.2g with a float dark (.npy) and flat (HDF5); median change vs none %.3g" %
      (rel.max(), numpy.median(diff)))
