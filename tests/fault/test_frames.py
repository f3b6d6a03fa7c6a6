#!/usr/bin/python3
"""Fault injection: frames that cannot be used, for every strategy (`xrdbench run`).

  - a frame without read permission (as the user nobody when root: root reads every file);
  - a dangling symbolic link in place of a frame;
  - an empty first frame, and a first frame of another shape (the shape comes from the other frames);
  - a frame deleted while the run is going on;
  - no good frame at all (a clear error before measuring, exit 1).
Each: exit status 3 (the row is invalid), the bad frame named in results.json's first reason and errors, every other
frame's pattern in patterns/ROW.h5 equal to the same frame of a clean run, no crash.
"""
import os
import shutil

import faultlib as F

tmp = F.init()
base = F.make_dataset(os.path.join(tmp, "clean"), frames=6)
env = dict(os.environ, POCL_CACHE_DIR=os.path.join(tmp, "pocl"), HOME=tmp)
os.makedirs(env["POCL_CACHE_DIR"], mode=0o777, exist_ok=True)
os.chmod(env["POCL_CACHE_DIR"], 0o777)
device = F.device_available()
names = F.strategies(device)
if not device:
    print("note: no OpenCL device: opencl and opencl-batched are not exercised here")
COMMON = ["--repeats", "2", "--warmup", "1", "--bins", "100", "--unit", "2th_deg", "--readers", "2", "--quiet",
          "--device", "opencl" if device else "cpu"]

clean_out = os.path.join(tmp, "clean_out")
r = F.xrd(["run", "--dataset", base, "--strategy", "sequential", "--out", clean_out] + COMMON, env=env)
F.status(r, 0, "clean run")
clean = F.patterns(clean_out, "sequential-cpu-MEM")


def copy_dataset(name):
    d = os.path.join(tmp, name)
    shutil.copytree(base, d)
    os.chmod(d, 0o755)
    return d


def check_row(case, strategy, out, bad_frame, r, reason_words=()):
    what = "%s, %s" % (case, strategy)
    F.status(r, 3, what)
    j = F.results(out, what)
    if not j or not F.check(len(j["rows"]) == 1, "%s: %d rows" % (what, len(j["rows"]))):
        return
    row = j["rows"][0]
    name = "frame_%05d.cbf" % bad_frame
    F.check(row["failed_frames"] >= 1, "%s: failed_frames %s" % (what, row["failed_frames"]))
    F.check(any(name in e["file"] for e in row["errors"]), "%s: errors do not name %s: %s" % (what, name,
                                                                                            row["errors"]))
    head = row["invalid_reasons"][0] if row["invalid_reasons"] else ""
    F.check("failed" in head and name in head, "%s: first reason does not name the frame: %r" % (what, head))
    for w in reason_words:
        F.check(w in head, "%s: first reason lacks %r: %r" % (what, w, head))
    F.check("mask" not in head, "%s: the reason blames the mask: %r" % (what, head))
    good = [i for i in range(clean.shape[0]) if i != bad_frame]
    F.check_patterns(out, row, clean, good, what)


# 1. A frame that cannot be read (permission).
for s in names:
    d = copy_dataset("unreadable_" + s)
    os.chmod(os.path.join(d, "frame_00002.cbf"), 0)
    out = os.path.join(tmp, "unreadable_out_" + s)
    r = F.xrd(["run", "--dataset", d, "--strategy", s, "--out", out] + COMMON, prefix=F.as_nobody(), env=env)
    check_row("unreadable frame", s, out, 2, r, ["Permission denied"])

# 2. A dangling symbolic link in place of a frame.
for s in names:
    d = copy_dataset("dangling_" + s)
    os.unlink(os.path.join(d, "frame_00003.cbf"))
    os.symlink(os.path.join(d, "gone.cbf"), os.path.join(d, "frame_00003.cbf"))
    out = os.path.join(tmp, "dangling_out_" + s)
    r = F.xrd(["run", "--dataset", d, "--strategy", s, "--out", out] + COMMON, env=env)
    check_row("dangling link", s, out, 3, r)

# 3. An empty first frame.
for s in names:
    d = copy_dataset("empty_first_" + s)
    open(os.path.join(d, "frame_00000.cbf"), "w").close()
    out = os.path.join(tmp, "empty_first_out_" + s)
    r = F.xrd(["run", "--dataset", d, "--strategy", s, "--out", out] + COMMON, env=env)
    check_row("empty first frame", s, out, 0, r)

# 4. A first frame of another shape: the other frames set the shape, the odd one is reported.
for s in names:
    d = copy_dataset("odd_first_" + s)
    F.encode(os.path.join(d, "frame_00000.cbf"), F.frame_pixels(0, 90, 70))
    out = os.path.join(tmp, "odd_first_out_" + s)
    r = F.xrd(["run", "--dataset", d, "--strategy", s, "--out", out] + COMMON, env=env)
    check_row("first frame of another shape", s, out, 0, r, ["90 x 70"])

# 5. A frame deleted during the run: enough frames and repeats that the timed runs come after the deletion.
big = F.make_dataset(os.path.join(tmp, "vanish_base"), frames=60)
big_clean_out = os.path.join(tmp, "vanish_clean_out")
r = F.xrd(["run", "--dataset", big, "--strategy", "sequential", "--out", big_clean_out] + COMMON, env=env)
F.status(r, 0, "clean run (60 frames)")
clean = F.patterns(big_clean_out, "sequential-cpu-MEM")
for s in names:
    d = os.path.join(tmp, "vanish_" + s)
    shutil.copytree(big, d)
    out = os.path.join(tmp, "vanish_out_" + s)
    args = ["run", "--dataset", d, "--strategy", s, "--out", out, "--repeats", "30", "--warmup", "1", "--bins", "100",
            "--unit", "2th_deg", "--readers", "2", "--device", "opencl" if device else "cpu"]
    p, cmd = F.spawn(args, env=env)
    lines = F.wait_for_line(p, "dataset:")  # the frames are listed: delete one of them now
    F.check(lines is not None, "frame deleted during the run, %s: no dataset line" % s)
    os.unlink(os.path.join(d, "frame_00041.cbf"))
    r = F.finish_proc(p, cmd, lines or [])
    check_row("frame deleted during the run", s, out, 41, r)

# 6. No good frame at all: a clear error before measuring.
d = os.path.join(tmp, "no_good")
os.makedirs(d)
shutil.copy(os.path.join(base, "geometry.poni"), d)
for i in range(3):
    open(os.path.join(d, "frame_%05d.cbf" % i), "w").close()
r = F.xrd(["run", "--dataset", d, "--strategy", "sequential", "--out", os.path.join(tmp, "no_good_out")] + COMMON,
          env=env)
F.status(r, 1, "no good frame")
F.check("no good frame" in r.err and "frame_00000.cbf" in r.err, "no good frame: message %r" % r.err)

F.rmtree(tmp)
F.finish()
