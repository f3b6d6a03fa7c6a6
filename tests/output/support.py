"""Shared helpers of the output tests: run xrdbench, make a small synthetic dataset, read pattern files with h5py
(Debian's python3-h5py, run by /usr/bin/python3: what an XRD-CT user's own scripts would use)."""
import glob
import os
import subprocess
import tempfile

import h5py
import numpy as np

XRDBENCH = os.environ.get("XRDBENCH", "")
SKIP = 77  # ctest's SKIP_RETURN_CODE for these scripts


def run(*args, check=True, timeout=600, **kw):
    """Runs xrdbench with args; returns the CompletedProcess (text). check: the exit status must be 0."""
    p = subprocess.run([XRDBENCH] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("xrdbench %s -> %d\n%s\n%s" % (" ".join(map(str, args)), p.returncode, p.stdout,
                                                           p.stderr))
    return p


_datasets = {}


def synth(frames=6, seed=7):
    """A synthetic dataset folder of `frames` frames (made once per process)."""
    key = (frames, seed)
    if key not in _datasets:
        d = tempfile.mkdtemp(prefix="xrd_output_ds_")
        run("dataset", "synth", "--out", d, "--frames", frames, "--seed", seed, "--threads", 2)
        _datasets[key] = d
    return _datasets[key]


def frames_of(ds):
    return sorted(glob.glob(os.path.join(ds, "frame_*.cbf")))


def reference_h5(ds, bins, out_dir, files=None):
    """`xrdbench integrate` of every frame (float64, the fast engine): the per-frame reference of the tests."""
    out = os.path.join(out_dir, "reference_%d.h5" % bins)
    if not os.path.exists(out):
        run("integrate", "--poni", os.path.join(ds, "geometry.poni"), "--mask", os.path.join(ds, "mask.cbf"),
            "--bins", bins, "--float64", "--quiet", "--out", out, *(files or frames_of(ds)))
    return read(out)


def read(path):
    """The NXdata of a pattern file as numpy arrays, frames flattened (rotation-major for a scan)."""
    with h5py.File(path, "r") as f:
        entry = f[f.attrs["default"]]
        nxdata = entry[entry.attrs["default"]]
        signal = nxdata[nxdata.attrs["signal"]]
        bins = signal.shape[-1]
        out = {
            "shape": signal.shape,
            "intensity": signal[()].reshape(-1, bins).astype(np.float64),
            "sigma": nxdata["intensity_errors"][()].reshape(-1, bins).astype(np.float64),
            "count": nxdata["count"][()].reshape(-1, bins).astype(np.float64),
            "valid": nxdata["valid"][()].reshape(-1).astype(bool),
            "radial": nxdata["radial"][()],
            "sources": [s.decode() if isinstance(s, bytes) else s for s in nxdata["source_files"][()]],
        }
    return out


def compare_rows(testcase, got, ref, frames, rtol=1e-5, what=""):
    """Every frame in `frames`: intensity, sigma and count of `got` equal `ref`'s to rtol (on bins with count > 0.5;
    float32 storage keeps ~7 digits), none all zeros, valid set."""
    for i in frames:
        testcase.assertTrue(got["valid"][i], "%s frame %d not marked valid" % (what, i))
        m = ref["count"][i] > 0.5
        testcase.assertTrue(m.any())
        for key in ("intensity", "sigma", "count"):
            a, b = got[key][i][m], ref[key][i][m]
            testcase.assertTrue(np.all(np.isfinite(a)), "%s frame %d %s has NaN" % (what, i, key))
            err = np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-30))
            testcase.assertLessEqual(err, rtol, "%s frame %d %s differs by %.3g relative" % (what, i, key, err))
        testcase.assertFalse(np.all(got["intensity"][i] == 0), "%s frame %d is all zeros" % (what, i))
