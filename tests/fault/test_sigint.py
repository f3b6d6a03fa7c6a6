#!/usr/bin/python3
"""Fault injection: Ctrl-C (SIGINT) at several points of `run` and `table1`, on a synthetic Pilatus 2M dataset (so
that each phase lasts long enough to be hit):
  - while the dataset loads (the matrix is built);
  - during the reference run;
  - during a row's timed runs;
  - in table1, after the first row finished (its row must be kept, its patterns readable).
Each: exit status 130, results.json readable with "interrupted": true and only finished rows, no temporary files,
no crash. (SIGTERM and SIGHUP: tests/output/test_interrupt.py.)
"""
import os
import signal
import time

import faultlib as F

tmp = F.init()
ds = os.path.join(tmp, "synth")
r = F.xrd(["dataset", "synth", "--out", ds, "--frames", "8", "--threads", "2"], timeout=600)
F.status(r, 0, "dataset synth")
COMMON = ["--bins", "500", "--device", "cpu"]


def interrupted(r, out, what, rows):
    F.status(r, 130, what)
    j = F.results(out, what)
    if j is None:
        return None
    F.check(j["interrupted"] is True, "%s: interrupted is %s" % (what, j["interrupted"]))
    got = [row["id"] for row in j["rows"]]
    F.check(got == rows, "%s: rows %s, expected %s" % (what, got, rows))
    return j


# 1. While the dataset loads.
out = os.path.join(tmp, "load")
p, cmd = F.spawn(["run", "--dataset", ds, "--strategy", "sequential", "--out", out, "--repeats", "3"] + COMMON)
# As soon as the handler is installed (before the dataset is read): the frames' headers and the matrix build follow.
F.check(F.wait_signal_caught(p, signal.SIGINT), "SIGINT while loading: the handler was never installed")
p.send_signal(signal.SIGINT)
interrupted(F.finish_proc(p, cmd), out, "SIGINT while loading", [])

# 2. During the reference run.
out = os.path.join(tmp, "reference")
p, cmd = F.spawn(["run", "--dataset", ds, "--strategy", "sequential", "--out", out, "--repeats", "3"] + COMMON)
lines = F.wait_for_line(p, "reference:")
F.check(lines is not None, "SIGINT during the reference: no reference line")
p.send_signal(signal.SIGINT)
interrupted(F.finish_proc(p, cmd, lines or []), out, "SIGINT during the reference", [])

# 3. During a row's timed runs.
out = os.path.join(tmp, "row")
p, cmd = F.spawn(["run", "--dataset", ds, "--strategy", "fused", "--out", out, "--repeats", "100"] + COMMON)
lines = F.wait_for_line(p, "reference:")
F.check(lines is not None, "SIGINT during a row: no reference line")
time.sleep(1.5)
p.send_signal(signal.SIGINT)
interrupted(F.finish_proc(p, cmd, lines or []), out, "SIGINT during a row", [])

# 4. table1, after the first row: that row is kept, with its patterns.
out = os.path.join(tmp, "table1")
p, cmd = F.spawn(["table1", "--dataset", ds, "--rows", "sequential-cpu-MEM,pipeline-cpu-MEM,fused-cpu-MEM",
                  "--out", out, "--repeats", "30", "--warmup", "1"] + COMMON)
lines = F.wait_for_line(p, "sequential-cpu-MEM ")
F.check(lines is not None, "SIGINT in table1: the first row never finished")
p.send_signal(signal.SIGINT)
j = interrupted(F.finish_proc(p, cmd, lines or []), out, "SIGINT in table1 after a row", ["sequential-cpu-MEM"])
if j:
    row = j["rows"][0]
    F.check(row["valid"] and row["validated"], "SIGINT in table1: the finished row is not valid: %s" % row)
    try:
        got = F.patterns(out, row["id"])
        F.check(got.shape == (8, 500) and bool((got == got).all()), "SIGINT in table1: patterns %s" % (got.shape,))
    except Exception as e:  # noqa: BLE001
        F.check(False, "SIGINT in table1: the finished row's patterns cannot be read: %s" % e)
    F.check(os.path.exists(os.path.join(out, "table1.md")), "SIGINT in table1: no table1.md")

F.rmtree(tmp)
F.finish()
