#!/usr/bin/env bash
# Byte-offset decoding speed, ours vs fabio's Cython decoder, in one run on the same two Pilatus3 2M frames: the
# real LaB6 frame (shared/fixtures/real, 60k 16-bit escapes) and its escape-dense version (scripts/
# make_dense_frame.sh: counts x 3.65, 195k 16-bit escapes). Ours: xrdbench_micro's BM_decode_scalar and
# BM_decode_kernel/<kernel> rows (every kernel this CPU runs); fabio: fabio.compression.decByteOffset
# (/usr/bin/python3, on the frame's payload after warm-up calls) with the peers' tuned malloc (GLIBC_TUNABLES as
# in shared/peers: fabio at its best). The two alternate in ROUNDS rounds (ours, then fabio), so a change of load
# on a shared machine hits both; each round gives a median CPU time per decoder (ours: of 3 repetitions; fabio:
# of CALLS calls), and the table shows the median over the rounds, their min-max, and fabio/ours per round
# (median, min-max). Builds nothing.
#   scripts/bench_decode_vs_fabio.sh BUILD_DIR [ROUNDS] [CALLS]   # e.g. build/release; ROUNDS >= 5 (default 7),
#                                                                  # CALLS >= 20 (default 60)
# XRD_SHARED_DIR (default ../shared beside the repository) locates fixtures/real/; XRD_BENCH_FILTER replaces the
# benchmark filter; XRD_BENCH_BASELINE=DIR (a folder with harness/xrdbench_micro, e.g. a copy of an older build)
# adds that build's rows, labelled "before: <kernel>", run in the same rounds (before/after in one window).
# CPU time, not wall time: the fairer figure on a shared, busy machine (the load is printed).
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$1
rounds=${2:-7}
calls=${3:-60}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${XRD_SHARED_DIR:-$repo/../shared}
frame=$shared/fixtures/real/pilatus3x2m_lab6_300_00_0001p.cbf
micro=$build/harness/xrdbench_micro
xrdbench=$build/harness/xrdbench
# Arguments first: their errors do not depend on the build or the shared folder.
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 5 ] || { echo "error: ROUNDS must be an integer >= 5 (got $rounds)" >&2; exit 1; }
[[ "$calls" =~ ^[0-9]+$ ]] && [ "$calls" -ge 20 ] || { echo "error: CALLS must be an integer >= 20 (got $calls)" >&2; exit 1; }
[ -x "$micro" ] || { echo "error: $micro not found or not executable (build the xrdbench_micro target first)" >&2; exit 1; }
[ -x "$xrdbench" ] || { echo "error: $xrdbench not found or not executable (build the xrdbench target first)" >&2; exit 1; }
baseline=${XRD_BENCH_BASELINE:-}
[ -z "$baseline" ] || [ -x "$baseline/harness/xrdbench_micro" ] || {
  echo "error: XRD_BENCH_BASELINE=$baseline: no executable $baseline/harness/xrdbench_micro" >&2; exit 1; }
[ -f "$frame" ] || { echo "error: $frame not found (set XRD_SHARED_DIR to the shared/ folder)" >&2; exit 1; }
export XRD_SHARED_DIR=$shared

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XRD_SHARED_DIR=$shared bash "$repo/scripts/make_dense_frame.sh" "$xrdbench" "$tmp/lab6_dense.cbf" >&2

# fabio, one round: median CPU ms of CALLS calls per frame, as JSON.
cat >"$tmp/fabio_round.py" <<'PY'
import json, re, statistics, sys, time
import fabio
import fabio.compression

calls, out = int(sys.argv[1]), sys.argv[2]
res = {"version": fabio.version}
for name, path in (a.split("=", 1) for a in sys.argv[3:]):
    data = open(path, "rb").read()
    start = data.index(b"\x0c\x1a\x04\xd5")
    header = data[:start].decode("latin-1")
    size = int(re.search(r"X-Binary-Size:\s*(\d+)", header).group(1))
    n = int(re.search(r"X-Binary-Number-of-Elements:\s*(\d+)", header).group(1))
    raw = data[start + 4:start + 4 + size]
    for _ in range(5):  # warm, like Google Benchmark's loop: same payload, allocations made once
        fabio.compression.decByteOffset(raw, n, "int32")
    cpu = []
    for _ in range(calls):
        c0 = time.process_time()
        fabio.compression.decByteOffset(raw, n, "int32")
        cpu.append(time.process_time() - c0)
    res[name] = {"cpu_ms": statistics.median(cpu) * 1e3, "bytes": size, "pixels": n}
json.dump(res, open(out, "w"))
PY

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
run_micro() {  # BINARY OUT.json
  "$1" --benchmark_filter="${XRD_BENCH_FILTER:-BM_decode_(scalar|kernel/[a-z0-9]+)/int32/}" \
    --benchmark_repetitions=3 --benchmark_min_time=0.1 \
    --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$2" \
    --benchmark_out_format=json >/dev/null
}
for r in $(seq 1 "$rounds"); do
  run_micro "$micro" "$tmp/micro_$r.json"
  [ -z "$baseline" ] || run_micro "$baseline/harness/xrdbench_micro" "$tmp/before_$r.json"
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=2000000000:glibc.malloc.trim_threshold=4000000000 \
    /usr/bin/python3 "$tmp/fabio_round.py" "$calls" "$tmp/fabio_$r.json" "lab6=$frame" "lab6-dense=$tmp/lab6_dense.cbf"
  echo "round $r/$rounds done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

/usr/bin/python3 - "$rounds" "$calls" "$tmp" "$frame" "$load_after" <<'PY'
import json, statistics, sys

rounds, calls, tmp, frame, load_after = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ours = {}   # (frame, decoder) -> [cpu ms per round]
fab = {}    # frame -> [cpu ms per round]
version = "?"
import os
def runs(r):  # (label prefix, benchmarks) of round r: ours, then the baseline build's if any
    yield "", json.load(open(f"{tmp}/micro_{r}.json"))["benchmarks"]
    if os.path.exists(f"{tmp}/before_{r}.json"):
        yield "before: ", json.load(open(f"{tmp}/before_{r}.json"))["benchmarks"]

for r in range(1, rounds + 1):
    for prefix, benches in runs(r):
        for b in benches:
            if b.get("aggregate_name") != "median":
                continue
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
            run = b["run_name"]
            if run.startswith("BM_decode_kernel/scalar/"):
                continue  # the same code as BM_decode_scalar, reached through the kernel table
            name, fr = run.rsplit("/", 1)
            name = name.replace("BM_decode_kernel/", "").replace("BM_decode_scalar", "scalar (reference)")
            name = prefix + name.replace("/int32", "")
            ours.setdefault((fr, name), []).append(b["cpu_time"] * scale)
    with open(f"{tmp}/fabio_{r}.json") as f:
        d = json.load(f)
        version = d.pop("version")
        for fr, v in d.items():
            fab.setdefault(fr, []).append(v["cpu_ms"])

def med(x):
    return statistics.median(x)

print(f"fabio {version} (tuned malloc) and xrdbench_micro alternating in {rounds} rounds; CPU ms per decode: median "
      f"over the rounds [min-max]; fabio/this: per round, median [min-max]. Load after: {load_after}")
for fr in ("lab6", "lab6-dense"):
    f = fab[fr]
    print(f"\n{fr}:")
    print(f"| decoder (int32) | CPU ms | [min-max] | fabio / this | [min-max] |")
    print(f"| --- | ---: | ---: | ---: | ---: |")
    print(f"| fabio {version} decByteOffset | {med(f):.3f} | {min(f):.3f}-{max(f):.3f} | 1.00 | |")
    rows = sorted(((k[1], v) for k, v in ours.items() if k[0] == fr), key=lambda kv: -med(kv[1]))
    for name, v in rows:
        ratio = [a / b for a, b in zip(f, v)]
        print(f"| {name} | {med(v):.3f} | {min(v):.3f}-{max(v):.3f} | {med(ratio):.2f} | "
              f"{min(ratio):.2f}-{max(ratio):.2f} |")
    by_name = dict(rows)
    for name, v in rows:  # the same kernel in the baseline build, round by round (same window, paired)
        old = by_name.get("before: " + name)
        if old:
            ratio = [a / b for a, b in zip(old, v)]
            print(f"  before / after, {name}: {med(ratio):.2f} [{min(ratio):.2f}-{max(ratio):.2f}]")
    sc = dict(rows).get("scalar (reference)")
    if sc:
        for name, v in rows:
            if name != "scalar (reference)" and not name.startswith("before: "):
                ratio = [a / b for a, b in zip(sc, v)]
                print(f"  scalar / {name}: {med(ratio):.2f} [{min(ratio):.2f}-{max(ratio):.2f}]")
PY
