"""Reading results.json files (schema "xrdbench-results/1", docs/results-schema.md) for reports and comparisons.

Readers check what they use and ignore unknown keys. A file that is not a results file, or lacks a key the reports
need, raises ResultsError with the file and the key named, so the commands can exit 2 with a clear message.
"""
import csv
import gc
import json
import math
import os

SCHEMA = "xrdbench-results/1"
REALTIME_FPS = 250.0  # Pilatus3 2M frame rate
STAGES = ("read", "md5", "decode", "integrate", "write", "wait")  # profiler.hpp's stage names, pipeline order
PAPER_ROW_IDS = (
    "sequential-cpu-SSD", "sequential-gpu-SSD", "sequential-cpu-MEM", "sequential-gpu-MEM",
    "pool-1-gpu-MEM", "pool-2-gpu-MEM", "pool-3-gpu-MEM", "pool-4-gpu-MEM", "pool-6-gpu-MEM",
    "pool-12-gpu-MEM", "pool-24-gpu-MEM", "opencl-gpu-MEM",
)
# Noise warnings (the same rules as harness/environment.cpp's noise_warnings(), docs/results-schema.md): a row whose
# MAD is above this fraction of its median, or whose 1-minute load average (before or after it) was above the number
# of CPUs online, is flagged as hyperfine flags outliers: its figure may not be repeatable.
NOISE_MAD_RATIO = 0.05
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


def _finite(v):
    """v as a float when it is a finite JSON number (not true/false), else None."""
    if isinstance(v, bool) or not isinstance(v, _NUM):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _number_text(v):
    """How a bad number reads in a message: 'NaN', 'Infinity', '-5', 'a string'."""
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, float) and math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, _NUM) and not isinstance(v, bool):
        return repr(v)
    return _type_names(type(v))


def _text(j, key, default=""):
    """j[key] when it is a string, else default (a report never prints a list where it expects a name)."""
    v = j.get(key)
    return v if isinstance(v, str) else default


def fps_problem(fps):
    """Why an fps object cannot be used as a measurement, or None when it can (finite median > 0, finite MAD >= 0,
    finite runs >= 0). A median of null means the row did not run; 0 means no frame was processed."""
    med = fps.get("median")
    if med is None:
        return "no fps: the row did not run"
    f = _finite(med)
    if f is None:
        return "fps.median is %s, not a finite number" % _number_text(med)
    if f < 0:
        return "fps.median is negative (%s)" % _number_text(med)
    if f == 0:
        return "fps.median is 0: no frame was processed"
    mad = fps.get("mad", 0)
    if mad is not None and (_finite(mad) is None or _finite(mad) < 0):
        return "fps.mad is %s, not a finite number >= 0" % _number_text(mad)
    runs = fps.get("runs")
    if runs is not None and not isinstance(runs, list):
        return "fps.runs is %s, not an array" % _type_names(type(runs))
    for i, v in enumerate(runs or []):
        if _finite(v) is None or _finite(v) < 0:
            return "fps.runs[%d] is %s, not a finite number >= 0" % (i, _number_text(v))
    return None


class Row:
    """One row of a results file, with the fields the reports use.

    Numbers a report formats are checked here: a row whose fps is null, 0, negative or not finite (JSON has no NaN or
    Infinity, but Python's reader accepts them) gets fps_problem set, has_fps False, and is invalid with that reason,
    whatever its "valid" key says. With strict=True (compare), such a non-finite or negative figure raises
    ResultsError instead: a comparison of bad figures is bad input."""

    def __init__(self, j, where, strict=False):
        self.raw = j
        if not isinstance(j, dict):
            raise ResultsError("%s: a row should be an object, got %s" % (where, _type_names(type(j))))
        self.id = _require(j, "id", str, where)
        where = "%s row '%s'" % (where, self.id)
        self.where = where
        self.strategy = _require(j, "strategy", str, where)
        self.label = _text(j, "label") or self.id
        readers = j.get("readers")
        self.readers = readers if isinstance(readers, int) and not isinstance(readers, bool) else None
        self.integrator = _require(j, "integrator", str, where)
        self.source = _require(j, "source", str, where)
        self.device = _text(j, "device")
        self.device_is_cpu_opencl = j.get("device_is_cpu_opencl") is True
        fps = _require(j, "fps", dict, where)
        _require(fps, "median", _NUM + (type(None),), where + " fps")
        self.fps_problem = fps_problem(fps)
        # A figure that is not a number >= 0 (NaN, Infinity, negative, not a number): always worth a word, unlike a
        # row that did not run (null) or processed nothing (0), which its invalid_reasons already explain.
        self.fps_bad_number = bool(self.fps_problem) and fps.get("median") is not None and \
            not self.fps_problem.endswith("no frame was processed")
        if strict and self.fps_bad_number:
            raise ResultsError("%s: %s (expected a finite number >= 0)" % (where, self.fps_problem))
        self.fps_median = _finite(fps.get("median")) if self.fps_problem is None else None
        self.fps_mad = (_finite(fps.get("mad")) or 0.0) if self.fps_problem is None else 0.0
        self.fps_runs = [float(v) for v in (fps.get("runs") or [])] if self.fps_problem is None else []
        frames = j.get("frames")
        self.frames = frames if isinstance(frames, int) and not isinstance(frames, bool) else None
        failed = j.get("failed_frames")
        self.failed_frames = failed if isinstance(failed, int) and not isinstance(failed, bool) else 0
        errors = j.get("errors")
        self.errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        self.residency_before = _finite(j.get("residency_before"))
        self.validated = j.get("validated") is True
        self.max_rel_diff = _finite(j.get("max_rel_diff"))
        self.valid_in_file = bool(_require(j, "valid", bool, where))
        reasons = j.get("invalid_reasons")
        self.invalid_reasons = [str(x) for x in reasons] if isinstance(reasons, list) else []
        if self.fps_problem and (self.valid_in_file or not self.invalid_reasons or self.fps_bad_number):
            self.invalid_reasons.append(self.fps_problem)
        self.valid = self.valid_in_file and self.fps_problem is None
        stages = j.get("stages_ms")
        stages = stages if isinstance(stages, dict) else {}
        self.stages_ms = {str(k): f for k, f in ((k, _finite(v)) for k, v in stages.items()) if f is not None and f >= 0}
        # What the HDF5 sink cost per run (rows that wrote their sinogram; docs/results-schema.md "sink"): the
        # finite figures >= 0 only, {} when absent or malformed.
        sink = j.get("sink")
        sink = sink if isinstance(sink, dict) else {}
        self.sink = {str(k): f for k, f in ((k, _finite(v)) for k, v in sink.items()) if f is not None and f >= 0}
        paper = j.get("paper")
        self.paper_fps = _finite(paper.get("median_fps")) if isinstance(paper, dict) else None
        self.paper_mad = _finite(paper.get("mad_fps")) if isinstance(paper, dict) else None
        if self.paper_fps is not None and self.paper_fps <= 0:
            self.paper_fps = None
        if self.paper_mad is not None and self.paper_mad < 0:
            self.paper_mad = None  # drawn as an error bar: never negative
        la = j.get("load_average")
        self.load_before = _load_triplet(la.get("before")) if isinstance(la, dict) else None
        self.load_after = _load_triplet(la.get("after")) if isinstance(la, dict) else None

    @property
    def has_fps(self):
        return self.fps_median is not None

    @property
    def load_max_1min(self):
        """The larger 1-minute load average of before and after the row, or None when not recorded."""
        vals = [t[0] for t in (self.load_before, self.load_after) if t]
        return max(vals) if vals else None

    def validity_text(self, max_chars=None):
        """'valid', or 'INVALID: reasons'; with max_chars, the first reason cut to that length and a count of the rest."""
        if self.valid:
            return "valid"
        reasons = self.invalid_reasons or ["no reason given"]
        if max_chars is None:
            return "INVALID: " + "; ".join(reasons)
        first = reasons[0] if len(reasons[0]) <= max_chars else reasons[0][:max_chars - 3] + "..."
        return "INVALID: " + first + (" (+%d more)" % (len(reasons) - 1) if len(reasons) > 1 else "")


def _load_triplet(v):
    """[1 min, 5 min, 15 min] load averages as a tuple of floats, or None."""
    if not isinstance(v, list) or len(v) != 3:
        return None
    t = tuple(_finite(x) for x in v)
    return t if all(x is not None and x >= 0 for x in t) else None


class Results:
    """One results file: machine, dataset, settings and rows. strict: see Row."""

    def __init__(self, j, path, strict=False):
        self.path = path
        where = path
        schema = j.get("schema") if isinstance(j, dict) else None
        if schema != SCHEMA:
            raise ResultsError("%s: not an xrdbench results file (schema %s, expected %r)" % (
                where, repr(schema)[:80], SCHEMA))
        self.raw = j
        self.created = _text(j, "created")
        self.command = _text(j, "command")
        self.machine = _require(j, "machine", dict, where)
        self.dataset = _require(j, "dataset", dict, where)
        self.settings = _require(j, "settings", dict, where)
        self.interrupted = j.get("interrupted") is True
        raw_rows = _require(j, "rows", list, where)
        self.rows = [Row(r, "%s rows[%d]" % (where, i) if not (isinstance(r, dict) and isinstance(r.get("id"), str))
                         else where, strict) for i, r in enumerate(raw_rows)]
        self._index = {}
        for r in self.rows:
            if r.id in self._index:
                raise ResultsError("%s: row id '%s' appears twice" % (where, r.id))
            self._index[r.id] = r
        self.label = machine_label(self.machine)

    @property
    def rows(self):
        return self._rows

    @rows.setter
    def rows(self, rows):
        """Replacing the rows (compare --rows) keeps the id index in step."""
        self._rows = list(rows)
        self._index = {r.id: r for r in self._rows}

    def row(self, row_id):
        """The row with this id, or None (a dict lookup: reports stay linear in the rows)."""
        return self._index.get(row_id)

    def calibration(self, key):
        """machine.calibration[key] as a positive float, or None."""
        cal = self.machine.get("calibration")
        v = _finite(cal.get(key)) if isinstance(cal, dict) else None
        return v if v is not None and v > 0 else None


def load(path, strict=False):
    """Reads and checks one results file. Raises ResultsError with a clear message."""
    # The cyclic garbage collector is paused while a file becomes objects: JSON holds no cycles, and on a 60,000-row
    # file its repeated passes over millions of new objects cost more than the parsing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(path, strict)
    finally:
        if was_enabled:
            gc.enable()


def _load(path, strict):
    try:
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
    except OSError as e:
        raise ResultsError("%s: cannot read: %s" % (path, e.strerror or e))
    except UnicodeDecodeError as e:
        raise ResultsError("%s: not UTF-8 text (byte offset %d): not a results file" % (path, e.start))
    except ValueError as e:
        raise ResultsError("%s: not valid JSON: %s" % (path, e))
    except RecursionError:
        raise ResultsError("%s: not a results file: JSON nested too deeply" % path)
    return Results(j, path, strict)


def load_all(paths, strict=False):
    """Loads several files; machines with the same label get a ' #2', ' #3' suffix so figures tell them apart."""
    out = [load(p, strict) for p in paths]
    counts = {}
    for r in out:
        counts[r.label] = counts.get(r.label, 0) + 1
        if counts[r.label] > 1:
            r.label = "%s #%d" % (r.label, counts[r.label])
    return out


def machine_label(m):
    """Short machine name for legends: hostname, or the CPU model and core count."""
    host = m.get("hostname")
    if isinstance(host, str) and host:
        return host
    cpu = _text(m, "cpu_model") or "unknown CPU"
    return "%s (%s cores)" % (cpu, m.get("cores", "?"))


def opencl_devices(m):
    """machine.opencl's device objects ([] when absent or not an array)."""
    devs = m.get("opencl")
    return [d for d in devs if isinstance(d, dict)] if isinstance(devs, list) else []


def gpu_name(m):
    """The first non-CPU OpenCL device, else the first device, else 'none'."""
    devs = opencl_devices(m)
    gpus = [d for d in devs if str(d.get("type", "")).upper() != "CPU"]
    d = (gpus or devs or [None])[0]
    return _text(d, "device", "?") if d else "none"


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
    out = {k: (v, m if math.isfinite(m) and m >= 0 else 0.0) for k, (v, m) in paper_csv.items()
           if math.isfinite(v) and v > 0}
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


def machine_cpus(machine):
    """CPUs online (else the cores this process could use), or None."""
    for k in ("cpus_online", "cores"):
        v = machine.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def noise_warnings(row, machine):
    """Why this row's figure may be noisy: [] or sentences ('MAD is 7.2% of the median (> 5%)', 'machine busy: ...')."""
    out = []
    if row.has_fps and row.fps_mad > NOISE_MAD_RATIO * row.fps_median:
        out.append("spread: MAD is %.1f%% of the median (> %g%%)" % (100.0 * row.fps_mad / row.fps_median,
                                                                       100 * NOISE_MAD_RATIO))
    load, cpus = row.load_max_1min, machine_cpus(machine)
    if load is not None and cpus is not None and load > cpus:
        out.append("machine busy: 1-minute load average %.2f on %d CPUs" % (load, cpus))
    return out
