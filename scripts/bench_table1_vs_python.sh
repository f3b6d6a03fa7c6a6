#!/usr/bin/env bash
# Issue 14's pipeline target, measured in one run on this machine: the best CPU row of `xrdbench table1` (hot, bbox,
# 1000 bins q_nm^-1) against the paper's Python pipeline on the same frames (fabio read -> pyFAI integrate1d
# bbox/csr/cython with the mask -> h5py: `shared/peers/bench_peers.py` step f, with the default and the tuned malloc):
# Python, then table1's hot CPU rows, then Python again; the ratio is our best row over the faster Python figure.
#   bash scripts/bench_table1_vs_python.sh [BUILD_DIR] [FRAMES] [REPEATS]     (default build/release 60 5)
# Needs pyFAI (bash scripts/setup.sh --peers). Writes under OUT (default out/table1-vs-python): the dataset, both
# Python results.json, table1's results.json / table1.md, summary.md. XRD_SHARED_DIR locates shared/peers.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build/release}
FRAMES=${2:-60}
REPEATS=${3:-5}
OUT=${OUT:-out/table1-vs-python}
shared=${XRD_SHARED_DIR:-$repo/../shared}
peers=$shared/peers/bench_peers.py
B=$BUILD/harness/xrdbench
[ -x "$B" ] || { echo "error: $B not found (build first)" >&2; exit 1; }
[ -f "$peers" ] || { echo "error: $peers not found (set XRD_SHARED_DIR)" >&2; exit 1; }
/usr/bin/python3 -c "import pyFAI" 2>/dev/null || { echo "error: pyFAI missing: bash scripts/setup.sh --peers" >&2; exit 1; }
mkdir -p "$OUT"
DATA=$OUT/data
[ -f "$DATA/manifest.json" ] || "$B" dataset synth --out "$DATA" --frames "$FRAMES" >/dev/null
# What bench_peers.py reads besides the frames: the mask as EDF, dataset_stats.json.
/usr/bin/python3 - "$DATA" <<'PY'
import json, os, sys
import fabio, numpy
d = sys.argv[1]
m = fabio.open(os.path.join(d, "mask.cbf")).data
fabio.edfimage.EdfImage(data=(m != 0).astype(numpy.int8)).write(os.path.join(d, "mask.edf"))
if not os.path.exists(os.path.join(d, "dataset_stats.json")):
    json.dump({}, open(os.path.join(d, "dataset_stats.json"), "w"))
PY
TUNED="glibc.malloc.mmap_threshold=2000000000:glibc.malloc.trim_threshold=4000000000"  # the peers' tuned malloc
python_pass() {  # step f alone, as bench_peers.py's own passes run it: default malloc, then tuned (a child each)
  echo "== Python pipeline ($1): bench_peers.py step f, 3 repeats; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  mkdir -p "$OUT/$1"
  /usr/bin/python3 "$peers" --data "$DATA" --repeats 3 --skip a,b,c,d,e,g,cold --out "$OUT/$1" --tmp "$OUT/tmp" \
    --child-json "$OUT/$1/default.json" --tag default 2>&1 | grep -E '^\s*f ' || true
  GLIBC_TUNABLES=$TUNED /usr/bin/python3 "$peers" --data "$DATA" --repeats 3 --skip a,b,c,d,e,g,cold --out "$OUT/$1" \
    --tmp "$OUT/tmp" --child-json "$OUT/$1/tuned.json" --tag "GLIBC_TUNABLES=$TUNED" 2>&1 | grep -E '^\s*f ' || true
}
python_pass python-before
echo "== xrdbench table1, hot CPU rows, $REPEATS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$OUT/table1"
"$B" table1 --dataset "$DATA" --rows sequential-cpu-MEM,pipeline-cpu-MEM,fused-cpu-MEM --repeats "$REPEATS" \
  --device cpu --out "$OUT/table1" --quiet >/dev/null
python_pass python-after
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, os, sys
out = sys.argv[1]
py = []
for tag in ("python-before", "python-after"):
    for part in ("default", "tuned"):
      for r in json.load(open(os.path.join(out, tag, part + ".json")))["results"]:
        if r.get("step") == "f":
          py.append((tag, part, r["median_fps"], r))
t1 = json.load(open(os.path.join(out, "table1", "results.json")))
ours = [(r["id"], r["fps"]["median"], r["fps"]["mad"], r["valid"]) for r in t1["rows"]]
print("| measurement | fps (median) |")
print("| --- | ---: |")
for tag, malloc, fps, _ in py:
    print(f"| Python pipeline, {tag}, {malloc} malloc | {fps:.2f} |")
for rid, fps, mad, valid in ours:
    print(f"| `{rid}` (MAD {mad:.1f}){'' if valid else ' INVALID'} | {fps:.1f} |")
best_py = max(f for _, _, f, _ in py)
best = max((fps for _, fps, _, valid in ours if valid), default=0)
print(f"\nbest valid row / faster Python figure: {best:.1f} / {best_py:.2f} = **{best / best_py:.1f}x** (target 15x)")
PY
