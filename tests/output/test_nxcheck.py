"""nexusformat's NeXus checker (nxcheck) on the pattern files of `run` (a scan) and `integrate` (frames): no error.
nxcheck comes from PyPI (test-only tool) in the venv build/venv-tests; when it is absent and cannot be installed there,
the test prints SKIP and exits 77. Usage: test_nxcheck.py --xrdbench EXE --venv DIR"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

import support


def nxcheck_path(venv):
    exe = os.path.join(venv, "bin", "nxcheck")
    if os.path.exists(exe):
        return exe
    try:
        if not os.path.exists(os.path.join(venv, "bin", "pip")):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=300)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "nexusformat"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as e:
        print("SKIP: nexusformat (nxcheck) cannot be installed in %s: %s" % (venv, e))
        sys.exit(support.SKIP)
    return exe


def check(exe, path):
    p = subprocess.run([exe, "-w", path], capture_output=True, text=True, timeout=300)
    text = p.stdout + p.stderr
    print("--- nxcheck %s (exit %d)\n%s" % (path, p.returncode, text))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours
    total = re.search(r"Total number of errors:\s*(\d+)", text)
    if not total:
        return p.returncode, ["no 'Total number of errors' line"]
    return p.returncode, [total.group(0)] if int(total.group(1)) else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xrdbench", required=True)
    ap.add_argument("--venv", required=True)
    args = ap.parse_args()
    support.XRDBENCH = args.xrdbench
    exe = nxcheck_path(args.venv)
    ds = support.synth(4)
    out = tempfile.mkdtemp(prefix="xrd_nxcheck_")
    support.run("run", "--dataset", ds, "--strategy", "sequential", "--out", out, "--bins", 100, "--repeats", 1,
                "--warmup", 0, "--device", "cpu", "--quiet")
    files = glob.glob(os.path.join(out, "patterns", "*.h5"))
    h5 = os.path.join(out, "integrate.h5")
    support.run("integrate", "--poni", os.path.join(ds, "geometry.poni"), "--mask", os.path.join(ds, "mask.cbf"),
                "--bins", 100, "--quiet", "--out", h5, *support.frames_of(ds))
    failed = False
    for path in files + [h5]:
        rc, errors = check(exe, path)
        if rc != 0 or errors:
            print("FAIL: %s: exit %d, %d error lines" % (path, rc, len(errors)))
            failed = True
    # silx's NXdata validation (what `silx view` uses to plot), when silx is in the venv too.
    py = os.path.join(args.venv, "bin", "python")
    code = ("import sys, h5py\nfrom silx.io import nxdata\n"
            "for p in sys.argv[1:]:\n"
            "    with h5py.File(p, 'r') as f:\n"
            "        g = f['entry/integrate']\n"
            "        ok = nxdata.is_valid_nxdata(g) and nxdata.get_default(f) is not None\n"
            "        print(p, 'silx NXdata valid' if ok else 'silx NXdata INVALID')\n"
            "        sys.exit(0 if ok else 1) if not ok else None\n")
    has_silx = subprocess.run([py, "-c", "import silx"], capture_output=True).returncode == 0
    if has_silx:
        p = subprocess.run([py, "-c", code] + files + [h5], capture_output=True, text=True, timeout=300)
        print(p.stdout + p.stderr)
        failed |= p.returncode != 0
    else:
        print("silx not in %s: its NXdata check not run (pip install silx there to add it)" % args.venv)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
