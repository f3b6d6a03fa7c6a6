"""Reading results.json files (schema "xrdbench-results/1", docs/results-schema.md) for reports and comparisons.

Readers check what they use and ignore unknown keys. A file that is not a results file, or lacks a key the reports
need, raises ResultsError with the file and the key named, so the commands can exit 2 with a clear message.
"""
import csv
import json
import os

SCHEMA = "xrdbench-results/1"
REALTIME_FPS = 250.0  # Pilatus3 2M frame rate
STAGES = ("read", "md5", "decode", "integrate", "write", "wait")  # profiler.hpp's stage names, pipeline order
PAPER_ROW_IDS = (
    "sequential-cpu-SSD", "sequential-gpu-SSD", "sequential-cpu-MEM", "sequential-gpu-MEM",
    "pool-1-gpu-MEM", "pool-2-gpu-MEM", "pool-3-gpu-MEM", "pool-4-gpu-MEM", "pool-6-gpu-MEM",
    "pool-12-gpu-MEM", "pool-24-gpu-MEM", "opencl-gpu-MEM",
)
# Settings that change the work done per frame: two files that differ here did not measure the same thing.
WORKLOAD_SETTINGS = ("bins", "unit", "split", "verify_md5", "write")
# Dataset facts that identify the data (the path may differ from machine to machine).
DATASET_KEYS = ("frames", "bytes", "width", "height")
# manifest.json keys (of `xrdbench dataset synth`) that describe the content, not where or how fast it was made.
MANIFEST_KEYS = ("seed", "frames", "width", "height", "total_bytes", "files", "geometry", "mask")


class ResultsError(Exception):
    """A file that cannot be read as xrdbench-results/1."""


def _require(obj, key, types, where):
    if not isinstance(obj, dict) or key not in obj:
        raise ResultsError("%s: missing key '%s'" % (where, key))
    value = obj[key]
    if types is not None and not isinstance(value, types):
        raise ResultsError("%s: key '%s' should be %s, got %s" % (where, key, _type_names(types), type(value).__name__))
    return value


def _type_names(types):
    types = types if isinstance(types, tuple) else (types,)
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


_NUM = (int, float)


class Row:
    """One row of a results file, with the fields the reports use."""

    def __init__(self, j, where):
        self.raw = j
        self.id = _require(j, "id", str, where)
        where = "%s row '%s'" % (where, self.id)
        self.strategy = _require(j, "strategy", str, where)
        self.label = j.get("label") or self.id
        self.readers = j.get("readers")
        self.integrator = _require(j, "integrator", str, where)
        self.source = _require(j, "source", str, where)
        self.device = j.get("device") or ""
        self.device_is_cpu_opencl = bool(j.get("device_is_cpu_opencl", False))
        fps = _require(j, "fps", dict, where)
        self.fps_median = _require(fps, "median", _NUM + (type(None),), where + " fps")
        self.fps_mad = fps.get("mad") or 0.0
        self.fps_runs = [float(v) for v in (fps.get("runs") or []) if isinstance(v, _NUM)]
        self.frames = j.get("frames")
        self.failed_frames = j.get("failed_frames") or 0
        self.errors = j.get("errors") or []
        self.residency_before = j.get("residency_before")
        self.validated = bool(j.get("validated", False))
        self.max_rel_diff = j.get("max_rel_diff")
        self.valid = bool(_require(j, "valid", bool, where))
        self.invalid_reasons = list(j.get("invalid_reasons") or [])
        stages = j.get("stages_ms") or {}
        self.stages_ms = {k: float(v) for k, v in stages.items() if isinstance(v, _NUM)}
        paper = j.get("paper")
        self.paper_fps = paper.get("median_fps") if isinstance(paper, dict) else None
        self.paper_mad = paper.get("mad_fps") if isinstance(paper, dict) else None

    @property
    def has_fps(self):
        return isinstance(self.fps_median, _NUM) and self.fps_median > 0

    def validity_text(self, max_chars=None):
        """'valid', or 'INVALID: reasons'; with max_chars, the first reason cut to that length and a count of the rest."""
        if self.valid:
            return "valid"
        reasons = self.invalid_reasons or ["no reason given"]
        if max_chars is None:
            return "INVALID: " + "; ".join(reasons)
        first = reasons[0] if len(reasons[0]) <= max_chars else reasons[0][:max_chars - 3] + "..."
        return "INVALID: " + first + (" (+%d more)" % (len(reasons) - 1) if len(reasons) > 1 else "")


class Results:
    """One results file: machine, dataset, settings and rows."""

    def __init__(self, j, path):
        self.path = path
        where = path
        schema = j.get("schema") if isinstance(j, dict) else None
        if schema != SCHEMA:
            raise ResultsError("%s: not an xrdbench results file (schema %r, expected %r)" % (where, schema, SCHEMA))
        self.raw = j
        self.created = j.get("created", "")
        self.command = j.get("command", "")
        self.machine = _require(j, "machine", dict, where)
        self.dataset = _require(j, "dataset", dict, where)
        self.settings = _require(j, "settings", dict, where)
        self.interrupted = bool(j.get("interrupted", False))
        self.rows = [Row(r, where) for r in _require(j, "rows", list, where)]
        seen = set()
        for r in self.rows:
            if r.id in seen:
                raise ResultsError("%s: row id '%s' appears twice" % (where, r.id))
            seen.add(r.id)
        self.label = machine_label(self.machine)

    def row(self, row_id):
        return next((r for r in self.rows if r.id == row_id), None)

    def calibration(self, key):
        """machine.calibration[key] as a positive float, or None."""
        cal = self.machine.get("calibration")
        v = cal.get(key) if isinstance(cal, dict) else None
        return float(v) if isinstance(v, _NUM) and v > 0 else None


def load(path):
    """Reads and checks one results file. Raises ResultsError with a clear message."""
    try:
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
    except OSError as e:
        raise ResultsError("%s: cannot read: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise ResultsError("%s: not valid JSON: %s" % (path, e))
    return Results(j, path)


def load_all(paths):
    """Loads several files; machines with the same label get a ' #2', ' #3' suffix so figures tell them apart."""
    out = [load(p) for p in paths]
    counts = {}
    for r in out:
        counts[r.label] = counts.get(r.label, 0) + 1
        if counts[r.label] > 1:
            r.label = "%s #%d" % (r.label, counts[r.label])
    return out


def machine_label(m):
    """Short machine name for legends: hostname, or the CPU model and core count."""
    host = m.get("hostname")
    if host:
        return str(host)
    cpu = m.get("cpu_model") or "unknown CPU"
    return "%s (%s cores)" % (cpu, m.get("cores", "?"))


def gpu_name(m):
    """The first non-CPU OpenCL device, else the first device, else 'none'."""
    devs = [d for d in (m.get("opencl") or []) if isinstance(d, dict)]
    gpus = [d for d in devs if str(d.get("type", "")).upper() != "CPU"]
    d = (gpus or devs or [None])[0]
    return d.get("device", "?") if d else "none"


def dataset_mismatches(a, b):
    """What makes two files' datasets or workloads differ: a list of 'key: a vs b' (empty when comparable)."""
    out = []
    for k in DATASET_KEYS:
        if a.dataset.get(k) != b.dataset.get(k):
            out.append("dataset.%s: %r vs %r" % (k, a.dataset.get(k), b.dataset.get(k)))
    ma, mb = a.dataset.get("manifest"), b.dataset.get("manifest")
    if isinstance(ma, dict) and isinstance(mb, dict):
        for k in MANIFEST_KEYS:
            if k in ma and k in mb and ma[k] != mb[k]:
                out.append("dataset.manifest.%s differs" % k)
    for k in WORKLOAD_SETTINGS:
        if a.settings.get(k) != b.settings.get(k):
            out.append("settings.%s: %r vs %r" % (k, a.settings.get(k), b.settings.get(k)))
    return out


def row_mismatches(a, b):
    """Row attributes that must agree for two rows with the same id to be compared."""
    out = []
    for k in ("strategy", "readers", "integrator", "source"):
        if getattr(a, k) != getattr(b, k):
            out.append("%s: %r vs %r" % (k, getattr(a, k), getattr(b, k)))
    return out


def row_ids(results):
    """Every row id of the files, in the order they first appear."""
    ids = {}
    for res in results:
        for r in res.rows:
            ids.setdefault(r.id, None)
    return list(ids)


def stage_names(stage_dicts):
    """The profiler's stages in pipeline order, then any other stage key found in these stages_ms dicts."""
    extra = {k for d in stage_dicts for k in d} - set(STAGES)
    return list(STAGES) + sorted(extra)


def paper_values(results, paper_csv):
    """{row id: (median_fps, mad_fps)} of the paper: the CSV's rows, overridden by the results' own 'paper' objects."""
    out = dict(paper_csv)
    for res in results:
        for r in res.rows:
            if r.paper_fps:
                out[r.id] = (r.paper_fps, r.paper_mad or 0.0)
    return out


def fmt_fps(v, mad=None):
    """fps as the paper prints it (no decimals from 100, one from 10, else two), with '± MAD' when given."""
    if v is None:
        return "-"
    d = 0 if v >= 100 else (1 if v >= 10 else 2)
    return "%.*f" % (d, v) if mad is None else "%.*f ± %.*f" % (d, v, d, mad)


def default_paper_csv():
    """The paper's Table 1: $XRD_PAPER_TABLE when set, else data/paper/table1.csv of the repository (reports/ is in
    it), else the installed copy beside the installed scripts (<prefix>/share/xrdbench/paper/table1.csv)."""
    env = os.environ.get("XRD_PAPER_TABLE")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", "data", "paper", "table1.csv"))
    installed = os.path.normpath(os.path.join(here, "..", "paper", "table1.csv"))
    return repo if os.path.exists(repo) or not os.path.exists(installed) else installed


def load_paper_csv(path):
    """The paper's Table 1 as {row id: (median_fps, mad_fps)}; {} when the file is absent."""
    if not path or not os.path.exists(path):
        return {}
    out = {}
    with open(path, encoding="utf-8") as f:
        lines = [ln for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    for rec in csv.DictReader(lines):
        strategy = rec["strategy"].strip().lower()
        integrator = rec["integrator"].strip().lower()
        source = rec["source"].strip().upper()
        readers = rec["readers"].strip()
        rid = "%s-%s-%s" % (strategy, integrator, source)
        if readers.isdigit():
            rid = "%s-%s-%s-%s" % (strategy, readers, integrator, source)
        out[rid] = (float(rec["median_fps"]), float(rec["mad_fps"]))
    return out
