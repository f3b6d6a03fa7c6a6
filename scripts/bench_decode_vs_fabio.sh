#!/usr/bin/env bash
# Byte-offset decoding speed, ours vs fabio's Cython decoder, in one run on the same real Pilatus3 2M frame:
# xrdbench_micro's BM_decode_* (Google Benchmark, median of repetitions) and fabio.compression.decByteOffset
# (/usr/bin/python3, median over many calls on the frame's payload, after warm-up calls), side by side.
# Builds nothing.
#   scripts/bench_decode_vs_fabio.sh BUILD_DIR [CALLS]     # e.g. build/release; CALLS >= 50 (default 200)
# XRD_SHARED_DIR (default ../shared beside the repository) locates fixtures/real/. Figures: median wall and CPU
# time (CPU time is the fairer one on a shared, busy machine).
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$1
calls=${2:-200}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${XRD_SHARED_DIR:-$repo/../shared}
frame=$shared/fixtures/real/pilatus3x2m_lab6_300_00_0001p.cbf
micro=$build/harness/xrdbench_micro
[ -x "$micro" ] || { echo "error: $micro not found or not executable (build the xrdbench_micro target first)" >&2; exit 1; }
[ -f "$frame" ] || { echo "error: $frame not found (set XRD_SHARED_DIR to the shared/ folder)" >&2; exit 1; }
[ "$calls" -ge 50 ] || { echo "error: CALLS must be >= 50 (got $calls)" >&2; exit 1; }
export XRD_SHARED_DIR=$shared

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A short run (well under a minute even on a busy machine); XRD_BENCH_FILTER='BM_decode' adds every kernel.
"$micro" --benchmark_filter="${XRD_BENCH_FILTER:-BM_decode_(scalar|fast)}" --benchmark_repetitions=5 \
  --benchmark_min_time=0.2 \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$tmp/micro.json" \
  --benchmark_out_format=json >/dev/null

/usr/bin/python3 - "$frame" "$calls" "$tmp/micro.json" <<'PY'
import json, re, statistics, sys, time
import fabio
import fabio.compression

path, calls, micro = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
start = data.index(b"\x0c\x1a\x04\xd5")
header = data[:start].decode("latin-1")
size = int(re.search(r"X-Binary-Size:\s*(\d+)", header).group(1))
n = int(re.search(r"X-Binary-Number-of-Elements:\s*(\d+)", header).group(1))
raw = data[start + 4:start + 4 + size]

# Warm, like Google Benchmark's loop: same payload, output allocations already made once.
for _ in range(10):
    fabio.compression.decByteOffset(raw, n, "int32")
wall, cpu = [], []
for _ in range(calls):
    c0, t0 = time.process_time(), time.perf_counter()
    fabio.compression.decByteOffset(raw, n, "int32")
    wall.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
fabio_wall, fabio_cpu = statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3

rows = []
with open(micro) as f:
    for b in json.load(f)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        rows.append((b["run_name"], b["real_time"] * scale, b["cpu_time"] * scale, b.get("label", "")))

print(f"frame: {path} ({size} bytes compressed, {n} pixels); fabio {fabio.version}, {calls} calls")
print(f"{'decoder':44s} {'wall ms':>9s} {'cpu ms':>9s} {'fabio/this (wall)':>18s} {'(cpu)':>7s}")
print(f"{'fabio.compression.decByteOffset int32':44s} {fabio_wall:9.3f} {fabio_cpu:9.3f} {1.0:18.2f} {1.0:7.2f}")
for name, w, c, label in rows:
    shown = name + (f" [{label}]" if label else "")
    print(f"{shown:44s} {w:9.3f} {c:9.3f} {fabio_wall / w:18.2f} {fabio_cpu / c:7.2f}")
PY
