"""Shared by the report tests: where things are, running report/compare (through xrdbench or the scripts) and
doctoring the results fixtures (tests/data/results_machine{A,B}.json)."""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
REPORTS = os.path.join(REPO, "reports")
DATA = os.path.join(REPO, "tests", "data")
FIXTURE_A = os.path.join(DATA, "results_machineA.json")
FIXTURE_B = os.path.join(DATA, "results_machineB.json")
PYTHON = "/usr/bin/python3"

# Set by take_xrdbench_arg(): run `xrdbench report|compare` instead of the scripts.
XRDBENCH = None


def take_xrdbench_arg():
    """Removes '--xrdbench PATH' from sys.argv (before unittest sees it)."""
    global XRDBENCH
    if "--xrdbench" in sys.argv:
        i = sys.argv.index("--xrdbench")
        XRDBENCH = sys.argv[i + 1]
        del sys.argv[i:i + 2]


def run(command, *args, env=None):
    """Runs 'report' or 'compare'; returns (exit status, stdout + stderr)."""
    if XRDBENCH:
        argv = [XRDBENCH, command] + list(args)
    else:
        argv = [PYTHON, os.path.join(REPORTS, command + ".py")] + list(args)
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def load(path=FIXTURE_A):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def row(doc, row_id):
    return next(r for r in doc["rows"] if r["id"] == row_id)


def slower(doc, row_id, factor):
    """A copy where the row's time per frame is multiplied by factor (fps divided by it), runs included."""
    d = copy.deepcopy(doc)
    r = row(d, row_id)
    r["fps"]["runs"] = [v / factor for v in r["fps"]["runs"]]
    r["fps"]["median"] /= factor
    r["fps"]["mad"] /= factor
    return d


class TempDir:
    """A temporary folder; write(name, doc) puts a JSON document in it and returns its path."""

    def __init__(self):
        self._t = tempfile.TemporaryDirectory(prefix="xrdbench_reports_")
        self.path = self._t.name

    def write(self, name, doc):
        p = os.path.join(self.path, name)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(doc, f) if not isinstance(doc, str) else f.write(doc)
        return p

    def cleanup(self):
        self._t.cleanup()
