#!/usr/bin/env bash
# Byte-offset decoding speed, ours vs fabio's Cython decoder, in one run on the same two Pilatus3 2M frames: the
# real LaB6 frame (shared/fixtures/real, 60k 16-bit escapes) and its escape-dense version (scripts/
# make_dense_frame.sh: counts x 3.65, 195k 16-bit escapes). Ours: xrdbench_micro's BM_decode_scalar and
# BM_decode_kernel/<kernel> rows (Google Benchmark, every kernel this CPU runs, median of repetitions); fabio:
# fabio.compression.decByteOffset (/usr/bin/python3, median over many calls on the frame's payload after warm-up
# calls), run with the peers' tuned malloc (GLIBC_TUNABLES as in shared/peers: fabio at its best). Builds nothing.
#   scripts/bench_decode_vs_fabio.sh BUILD_DIR [CALLS]     # e.g. build/release; CALLS >= 50 (default 200)
# XRD_SHARED_DIR (default ../shared beside the repository) locates fixtures/real/; XRD_BENCH_FILTER replaces the
# benchmark filter. Figures: median CPU time (the fairer one on a shared, busy machine), wall time, p10-p90 of fabio.
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$1
calls=${2:-200}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${XRD_SHARED_DIR:-$repo/../shared}
frame=$shared/fixtures/real/pilatus3x2m_lab6_300_00_0001p.cbf
micro=$build/harness/xrdbench_micro
xrdbench=$build/harness/xrdbench
[ -x "$micro" ] || { echo "error: $micro not found or not executable (build the xrdbench_micro target first)" >&2; exit 1; }
[ -x "$xrdbench" ] || { echo "error: $xrdbench not found or not executable (build the xrdbench target first)" >&2; exit 1; }
[ -f "$frame" ] || { echo "error: $frame not found (set XRD_SHARED_DIR to the shared/ folder)" >&2; exit 1; }
[ "$calls" -ge 50 ] || { echo "error: CALLS must be >= 50 (got $calls)" >&2; exit 1; }
export XRD_SHARED_DIR=$shared

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XRD_SHARED_DIR=$shared bash "$repo/scripts/make_dense_frame.sh" "$xrdbench" "$tmp/lab6_dense.cbf" >&2

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
"$micro" --benchmark_filter="${XRD_BENCH_FILTER:-BM_decode_(scalar|kernel/[a-z0-9]+)/int32/}" \
  --benchmark_repetitions=10 --benchmark_min_time=0.2 \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$tmp/micro.json" \
  --benchmark_out_format=json >/dev/null

GLIBC_TUNABLES=glibc.malloc.mmap_threshold=2000000000:glibc.malloc.trim_threshold=4000000000 \
/usr/bin/python3 - "$calls" "$tmp/micro.json" "lab6=$frame" "lab6-dense=$tmp/lab6_dense.cbf" <<'PY'
import json, re, statistics, sys, time
import fabio
import fabio.compression

calls, micro = int(sys.argv[1]), sys.argv[2]
frames = [a.split("=", 1) for a in sys.argv[3:]]

def fabio_ms(path):
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
    cpu.sort()
    return size, n, statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3, cpu[len(cpu) // 10] * 1e3, \
        cpu[len(cpu) * 9 // 10] * 1e3

rows = {}
with open(micro) as f:
    for b in json.load(f)["benchmarks"]:
        if b.get("aggregate_name") not in ("median", "stddev"):
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        r = rows.setdefault(b["run_name"], {})
        r[b["aggregate_name"]] = (b["real_time"] * scale, b["cpu_time"] * scale)

print(f"fabio {fabio.version} with the peers' tuned malloc, {calls} calls; ours: median of 10 repetitions")
for name, path in frames:
    size, n, fw, fc, p10, p90 = fabio_ms(path)
    print(f"\n{name}: {path} ({size} bytes compressed, {n} pixels)")
    print(f"{'decoder':44s} {'cpu ms':>8s} {'(sd)':>7s} {'wall ms':>8s} {'fabio/this cpu':>15s} {'wall':>6s}")
    print(f"{'fabio.compression.decByteOffset int32':44s} {fc:8.3f} {'':7s} {fw:8.3f} {1.0:15.2f} {1.0:6.2f}"
          f"   (cpu p10-p90 {p10:.3f}-{p90:.3f})")
    for run, r in rows.items():
        if not run.endswith("/" + name):
            continue
        w, c = r["median"]
        sd = r.get("stddev", (0, 0))[1]
        shown = run[:-len(name) - 1]
        print(f"{shown:44s} {c:8.3f} {sd:7.3f} {w:8.3f} {fc / c:15.2f} {fw / w:6.2f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
