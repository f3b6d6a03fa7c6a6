#!/usr/bin/python3
"""Fault injection: the output folder (`--out`).

  - two runs into one folder, one after the other: both rows kept (the second is added), the earlier command listed
    in previous_runs; the same row run again replaces its row and says so;
  - two runs into one folder at the same time: the second is refused before measuring (exit 1, names the other pid),
    the first finishes and keeps its row;
  - a results.json measured another way (other --bins) or not a results file: refused before measuring, untouched;
  - an unwritable folder (not a folder; no permission, as the user nobody when root): refused before measuring;
  - a rename that fails (table1.md is a folder): the real reason (errno), not "Success"; results.json kept.
"""
import hashlib
import os

import faultlib as F

tmp = F.init()
ds = F.make_dataset(os.path.join(tmp, "ds"), frames=5)
COMMON = ["--repeats", "2", "--warmup", "1", "--bins", "100", "--unit", "2th_deg", "--device", "cpu"]


def run(out, strategy, extra=(), prefix=()):
    return F.xrd(["run", "--dataset", ds, "--strategy", strategy, "--out", out, "--quiet"] + COMMON + list(extra),
                 prefix=prefix)


def digest(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# 1. One after the other: rows added.
out = os.path.join(tmp, "seq")
F.status(run(out, "sequential"), 0, "first run")
r = run(out, "fused")
F.status(r, 0, "second run")
j = F.results(out, "two runs one after the other")
ids = [row["id"] for row in j["rows"]] if j else []
F.check(ids == ["sequential-cpu-MEM", "fused-cpu-MEM"], "two runs: rows %s" % ids)
F.check(j is not None and len(j.get("previous_runs", [])) == 1 and "sequential" in j["previous_runs"][0]["command"],
        "two runs: previous_runs %s" % (j or {}).get("previous_runs"))
clean = F.patterns(out, "sequential-cpu-MEM")
for row in (j or {}).get("rows", []):
    F.check_patterns(out, row, clean, range(clean.shape[0]), "two runs")
    F.check(row["valid"], "two runs: row %s invalid" % row["id"])
# The same row again: replaced in place, said on stderr.
r = F.xrd(["run", "--dataset", ds, "--strategy", "sequential", "--out", out] + COMMON)
F.status(r, 0, "same row again")
F.check("replaces" in r.err, "same row again: no note on stderr: %r" % r.err)
j = F.results(out, "same row again")
F.check(j is not None and [row["id"] for row in j["rows"]] == ["sequential-cpu-MEM", "fused-cpu-MEM"],
        "same row again: rows %s" % ([row["id"] for row in j["rows"]] if j else None))

# 2. At the same time: the second is refused before measuring; the first keeps its row.
out2 = os.path.join(tmp, "concurrent")
p, cmd = F.spawn(["run", "--dataset", ds, "--strategy", "pipeline", "--out", out2, "--repeats", "200", "--warmup",
                  "1", "--bins", "100", "--unit", "2th_deg", "--device", "cpu"])
lines = F.wait_for_line(p, "dataset:")  # the folder is locked before the dataset is loaded
F.check(lines is not None, "concurrent: the first run printed no dataset line")
r2 = run(out2, "fused")
first = F.finish_proc(p, cmd, lines or [])
F.status(r2, 1, "concurrent second run")
F.check("another xrdbench" in r2.err and str(p.pid) in r2.err, "concurrent: refusal says %r" % r2.err)
F.check("reference" not in r2.err, "concurrent: the refused run measured something")
F.status(first, 0, "concurrent first run")
j = F.results(out2, "concurrent")
F.check(j is not None and [row["id"] for row in j["rows"]] == ["pipeline-cpu-MEM"],
        "concurrent: rows %s" % ([row["id"] for row in j["rows"]] if j else None))

# 3. A results.json measured another way, or not a results file: refused, untouched.
before = digest(os.path.join(out, "results.json"))
r = F.xrd(["run", "--dataset", ds, "--strategy", "pool", "--out", out, "--quiet", "--repeats", "2", "--warmup", "1",
           "--bins", "50", "--unit", "2th_deg", "--device", "cpu"])
F.status(r, 1, "other settings")
F.check("settings.bins: 100 in the file, 50 now" in r.err, "other settings: message %r" % r.err)
F.check(digest(os.path.join(out, "results.json")) == before, "other settings: results.json changed")
bad = os.path.join(tmp, "bad")
os.makedirs(bad)
with open(os.path.join(bad, "results.json"), "w") as f:
    f.write("{ not json")
r = run(bad, "sequential")
F.status(r, 1, "not a results file")
F.check("results.json" in r.err and "untouched" in r.err, "not a results file: message %r" % r.err)
with open(os.path.join(bad, "results.json")) as f:
    F.check(f.read() == "{ not json", "not a results file: it was changed")

# 4. Unwritable output folders: refused before measuring.
a_file = os.path.join(tmp, "a_file")
open(a_file, "w").close()
r = run(os.path.join(a_file, "out"), "sequential")
F.status(r, 1, "out under a file")
F.check("Not a directory" in r.err or "not a directory" in r.err.lower(), "out under a file: %r" % r.err)
locked = os.path.join(tmp, "readonly")
os.makedirs(locked)
os.chmod(locked, 0o555)
r = F.xrd(["run", "--dataset", ds, "--strategy", "sequential", "--out", locked] + COMMON, prefix=F.as_nobody())
F.status(r, 1, "unwritable folder")
F.check("cannot be written: Permission denied" in r.err, "unwritable folder: message %r" % r.err)
F.check("reference" not in r.err, "unwritable folder: it measured before refusing")
# --no-write still needs results.json: refused the same way.
r = F.xrd(["run", "--dataset", ds, "--strategy", "sequential", "--out", locked, "--no-write"] + COMMON,
          prefix=F.as_nobody())
F.status(r, 1, "unwritable folder, --no-write")

# 5. A rename that fails after measuring: the real errno, the results already saved stay.
out5 = os.path.join(tmp, "rename")
os.makedirs(os.path.join(out5, "table1.md"))
r = F.xrd(["table1", "--dataset", ds, "--rows", "sequential-cpu-MEM", "--out", out5, "--quiet"] + COMMON)
F.status(r, 1, "rename onto a folder")
F.check("Is a directory" in r.err and "Success" not in r.err, "rename onto a folder: message %r" % r.err)
j = F.results(out5, "rename onto a folder") if os.path.exists(os.path.join(out5, "results.json")) else None
F.check(j is not None and len(j["rows"]) == 1, "rename onto a folder: the finished row was not kept")

F.rmtree(tmp)
F.finish()
