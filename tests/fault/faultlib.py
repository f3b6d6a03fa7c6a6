"""Shared helpers of the fault-injection suite (tests/fault/test_*.py, registered with ctest by tests/tests_fault.cmake).

Each test script runs the real `xrdbench` executable on small real datasets (CBF frames written with numpy pixels and
`xrdbench cbf encode`, a pyFAI PONI, a CBF mask), injects one fault of the environment (a frame removed or made
unreadable, an unwritable folder, two runs into one folder, a signal at a chosen moment, a process limit) and asserts:
  - the exit status is the documented one (run/table1: 0 valid, 3 a row invalid, 130 interrupted, 1 error before
    measuring);
  - nothing crashed: no death by signal, no sanitizer report, no `terminate called`;
  - every finished result is on disk and readable: results.json parses and follows the schema, each row's
    patterns/<row>.h5 opens with h5py, and every frame a row reduced equals the same frame of a clean run (which
    xrdbench itself validated against its reference), within 1e-5 relative.
Usage of a test script: /usr/bin/python3 tests/fault/test_NAME.py PATH/TO/xrdbench
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy
import h5py

W, H = 173, 131  # small frames: every strategy runs in milliseconds
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "terminate called",
                   "Segmentation fault", "core dumped")

XRD = None
FAILURES = []


def init():
    """Reads the xrdbench path from argv; returns a fresh temporary folder (world-writable, for the setpriv cases)."""
    global XRD
    if len(sys.argv) < 2:
        sys.exit("usage: %s PATH/TO/xrdbench" % sys.argv[0])
    XRD = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="xrd_fault_")
    os.chmod(tmp, 0o777)
    return tmp


def check(cond, what):
    """Records a failed assertion (the script goes on, and exits 1 at the end)."""
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def finish():
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def frame_pixels(i, w=W, h=H):
    """A powder-like frame: rings on a background, a gap row at -1, a bad pixel at -2, a hot pixel (32-bit escape)."""
    y, x = numpy.mgrid[0:h, 0:w]
    r = numpy.hypot(x + 0.5 - w * 0.45, y + 0.5 - h * 0.55)
    v = 20 + 200 * numpy.exp(-r / 40)
    for r0 in (25.0, 47.0, 70.0):
        v += (300.0 + 40.0 * i) * numpy.exp(-0.5 * ((r - r0) / 1.5) ** 2)
    rng = numpy.random.default_rng(i + 1)
    px = (v + rng.integers(0, 13, size=v.shape)).astype(numpy.int32)
    if h > 60:
        px[60, :] = -1
    px[min(10, h - 1), min(10, w - 1)] = -2
    px[min(90, h - 1), min(120, w - 1)] = (1 << 20) + 7
    return px


def encode(path, px):
    raw = path + ".i32le"
    px.astype("<i4").tofile(raw)
    h, w = px.shape
    r = subprocess.run([XRD, "cbf", "encode", "--width", str(w), "--height", str(h), raw, path],
                       capture_output=True, text=True)
    os.unlink(raw)
    if r.returncode != 0:
        raise RuntimeError("cbf encode failed: " + r.stderr)


def make_dataset(folder, frames=6, w=W, h=H):
    """folder/frame_00000.cbf ..., geometry.poni (pyFAI version 2), mask.cbf (2 masked pixels)."""
    os.makedirs(folder, exist_ok=True)
    for i in range(frames):
        encode(os.path.join(folder, "frame_%05d.cbf" % i), frame_pixels(i, w, h))
    with open(os.path.join(folder, "geometry.poni"), "w") as f:
        f.write("poni_version: 2\nDetector: Detector\n"
                'Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172, "max_shape": [%d, %d]}\n'
                "Distance: 0.05\nPoni1: %.9f\nPoni2: %.9f\nRot1: 0\nRot2: 0\nRot3: 0\nWavelength: 1e-10\n"
                % (h, w, h * 0.55 * 172e-6, w * 0.45 * 172e-6))
    mask = numpy.zeros((h, w), numpy.int32)
    mask[5, 7] = 1
    mask[min(100, h - 1), min(150, w - 1)] = 1
    encode(os.path.join(folder, "mask.cbf"), mask)
    for name in os.listdir(folder):
        os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(folder, 0o755)
    return folder


class Result:
    def __init__(self, rc, out, err, cmd):
        self.rc, self.out, self.err, self.cmd = rc, out, err, cmd

    def __repr__(self):
        return "rc=%s cmd=%s\n--- stderr ---\n%s" % (self.rc, " ".join(self.cmd), self.err[-3000:])


def as_nobody():
    """A command prefix that drops root to the user nobody (root reads every file and ignores RLIMIT_NPROC), or
    [] when not root."""
    if os.geteuid() != 0:
        return []
    nobody = pwd.getpwnam("nobody")
    return ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups"]


def xrd(args, prefix=(), timeout=300, env=None):
    cmd = list(prefix) + [XRD] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return Result(r.returncode, r.stdout, r.stderr, cmd)


def no_crash(r, what):
    """Exit by status, not by a signal; no sanitizer report; no std::terminate."""
    ok = check(r.rc is not None and r.rc >= 0 and r.rc not in (134, 136, 139), "%s: died (%r)" % (what, r))
    for mark in SANITIZER_MARKS:
        ok &= check(mark not in r.err, "%s: '%s' on stderr (%r)" % (what, mark, r))
    return ok


def status(r, expected, what):
    no_crash(r, what)
    exp = expected if isinstance(expected, (tuple, list, set)) else (expected,)
    return check(r.rc in exp, "%s: exit status %s, expected %s (%r)" % (what, r.rc, expected, r))


def results(out, what):
    """results.json of an output folder, parsed and checked for the keys every reader needs; None when absent."""
    path = os.path.join(out, "results.json")
    if not check(os.path.exists(path), "%s: no results.json in %s" % (what, out)):
        return None
    with open(path) as f:
        j = json.load(f)
    check(j.get("schema") == "xrdbench-results/1", "%s: schema %r" % (what, j.get("schema")))
    for k in ("created", "command", "machine", "dataset", "settings", "rows", "interrupted"):
        check(k in j, "%s: results.json lacks %s" % (what, k))
    ids = [r["id"] for r in j.get("rows", [])]
    check(len(ids) == len(set(ids)), "%s: duplicate row ids %s" % (what, ids))
    leftovers = [n for n in os.listdir(out) if ".tmp" in n]
    check(not leftovers, "%s: temporary files left in %s: %s" % (what, out, leftovers))
    return j


def patterns(out, row_id):
    """The intensity array (frames x bins) of a row's HDF5, read with h5py: a scan's (rotation, translation, bins)
    signal is flattened rotation-major and cut to the frames (one source_files name each)."""
    with h5py.File(os.path.join(out, "patterns", row_id + ".h5"), "r") as f:
        d = f["entry/integrate"]
        a = numpy.array(d["intensity"])
        return a.reshape(-1, a.shape[-1])[:d["source_files"].shape[0]]


def check_patterns(out, row, clean, good_frames, what):
    """The row's HDF5 opens; every frame in good_frames equals the clean run's pattern (1e-5 relative)."""
    try:
        got = patterns(out, row["id"])
    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
        check(False, "%s: %s.h5 cannot be read: %s" % (what, row["id"], e))
        return
    check(got.shape == clean.shape, "%s: %s.h5 has shape %s, the clean run %s" % (what, row["id"], got.shape,
                                                                                  clean.shape))
    if got.shape != clean.shape:
        return
    for i in good_frames:
        a, b = got[i].astype(float), clean[i].astype(float)
        scale = max(1e-30, float(numpy.max(numpy.abs(b))))
        diff = float(numpy.max(numpy.abs(a - b))) / scale
        check(numpy.all(numpy.isfinite(a)) and diff <= 1e-5,
              "%s: frame %d of %s differs from the clean run (%.3g relative)" % (what, i, row["id"], diff))


def device_available():
    r = xrd(["devices", "--json"])
    try:
        return r.rc == 0 and len(json.loads(r.out)) > 0
    except ValueError:
        return False


def strategies(with_device):
    names = ["sequential", "pool", "pipeline", "fused"]
    if with_device:
        names += ["opencl", "opencl-batched"]
    return names


def spawn(args, prefix=(), env=None):
    """xrdbench in the background, stderr piped line by line (for signals at a chosen moment)."""
    cmd = list(prefix) + [XRD] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                            env=env), cmd


def wait_for_line(proc, needle, timeout=120):
    """Reads stderr until a line contains needle; returns the lines read (needle found last) or None."""
    lines = []
    t0 = time.time()
    while time.time() - t0 < timeout:
        line = proc.stderr.readline()
        if not line:
            return None
        lines.append(line)
        if needle in line:
            return lines
    return None


def wait_signal_caught(proc, signum, timeout=60):
    """Waits until the process catches signum (its SigCgt mask in /proc), i.e. its handler is installed."""
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:") and (int(line.split()[1], 16) >> (signum - 1)) & 1:
                        return True
        except OSError:
            pass
        time.sleep(0.002)
    return False


def finish_proc(proc, cmd, earlier_lines=(), timeout=300):
    out, err = proc.communicate(timeout=timeout)
    return Result(proc.returncode, out, "".join(earlier_lines) + err, cmd)


def rmtree(p):
    shutil.rmtree(p, ignore_errors=True)
