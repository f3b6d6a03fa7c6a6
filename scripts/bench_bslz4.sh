#!/usr/bin/env bash
# CPU decode of one Eiger2 4M bitshuffle-LZ4 frame: ours (xrdbench_micro's BM_bslz4_decode, every kernel, 1 and 2
# threads) against h5py + the bitshuffle HDF5 plugin reading the same frame and bitshuffle.decompress_lz4 on its raw
# chunk (Debian's python3-h5py and bitshuffle, /usr/bin/python3), alternating in ROUNDS rounds of the same run.
# Prints ms per frame (median over rounds, min-max of the round medians), MB/s in (compressed) and out
# (uncompressed), and our speed-up over each peer (targets: >= 3x h5py, >= 2x bitshuffle.decompress_lz4).
#   bash scripts/bench_bslz4.sh [ROUNDS]        # default 3; BUILD=build/release; OMP_NUM_THREADS for the peers
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
BUILD=${BUILD:-build/release}
X=$BUILD/harness/xrdbench
M=$BUILD/harness/xrdbench_micro
[ -x "$X" ] && [ -x "$M" ] || { echo "bench_bslz4: build xrdbench and xrdbench_micro first ($BUILD)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$X" dataset synth --out "$TMP/eiger" --frames 1 --detector eiger2-4m --format h5 --frames-per-file 0 \
  -j "$(nproc)" >/dev/null
F=$TMP/eiger/synth_master.h5

cat >"$TMP/peers.py" <<'PY'
import json, struct, sys, time
import numpy, h5py
import bitshuffle, bitshuffle.h5  # noqa: F401 (the plugin is found by HDF5 itself; the module for decompress_lz4)
path, reps = sys.argv[1], int(sys.argv[2])
f = h5py.File(path, "r")
ds = f["/entry/data/data"]
_, h, w = ds.shape
out = numpy.empty((1, h, w), ds.dtype)
mask, chunk = ds.id.read_direct_chunk((0, 0, 0))
nbytes, block = struct.unpack(">QI", chunk[:12])
raw = numpy.frombuffer(chunk[12:], numpy.uint8)
def median(fn):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append(time.perf_counter() - t0)
    t.sort()
    return t[len(t) // 2]
res = {
    "h5py_read_direct": median(lambda: ds.read_direct(out, numpy.s_[0:1])),
    "h5py_getitem": median(lambda: ds[0]),
    "bitshuffle_decompress_lz4": median(lambda: bitshuffle.decompress_lz4(raw, (h, w), ds.dtype, block // ds.dtype.itemsize)),
}
ref = bitshuffle.decompress_lz4(raw, (h, w), ds.dtype, block // ds.dtype.itemsize)
assert numpy.array_equal(ref, ds[0])
print(json.dumps({"s": res, "in": len(chunk), "out": int(nbytes), "pixels": int(h * w)}))
PY

for r in $(seq 1 "$ROUNDS"); do
  XRD_BSLZ4_FILE=$F "$M" --benchmark_filter='BM_bslz4_decode/eiger2_4m_u16' --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 --benchmark_format=json >"$TMP/ours_$r.json"
  /usr/bin/python3 "$TMP/peers.py" "$F" 30 >"$TMP/peers_$r.json"
done

/usr/bin/python3 - "$TMP" "$ROUNDS" <<'PY'
import json, sys, statistics
tmp, rounds = sys.argv[1], int(sys.argv[2])
ours, peers, size = {}, {}, None
for r in range(1, rounds + 1):
    for b in json.load(open(f"{tmp}/ours_{r}.json"))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("eiger2_4m_u16/")[1].replace("/real_time", "")
        ours.setdefault(name, []).append(b["real_time"] if b["time_unit"] == "ms" else b["real_time"] / 1e6)
    p = json.load(open(f"{tmp}/peers_{r}.json"))
    size = (p["in"], p["out"], p["pixels"])
    for k, v in p["s"].items():
        peers.setdefault(k, []).append(v * 1e3)
cin, cout, pixels = size
print(f"one Eiger2 4M frame (synthetic, uint16): {pixels} pixels, chunk {cin / 1e6:.3f} MB "
      f"({cin / pixels:.3f} bytes/pixel), {cout / 1e6:.3f} MB uncompressed; {rounds} rounds")
print(f"{'decoder':44s} {'ms/frame':>9s} {'spread':>15s} {'MB/s in':>9s} {'MB/s out':>9s}")
def row(name, v):
    m = statistics.median(v)
    print(f"{name:44s} {m:9.3f} {min(v):7.3f}-{max(v):<7.3f} {cin / m / 1e3:9.0f} {cout / m / 1e3:9.0f}")
    return m
med = {}
for k, v in ours.items():
    med["xrdbench " + k] = row("xrdbench " + k, v)
for k, v in peers.items():
    med[k] = row(k, v)
best1 = min((v, k) for k, v in med.items() if k.startswith("xrdbench") and "threads:1" in k)
best2 = min((v, k) for k, v in med.items() if k.startswith("xrdbench") and "threads:" in k)
for label, (t, k) in (("1 thread", best1), ("best", best2)):
    print(f"speed-up of {k} ({label}): {med['h5py_read_direct'] / t:.2f}x h5py read_direct (target 3x), "
          f"{med['h5py_getitem'] / t:.2f}x h5py ds[i], "
          f"{med['bitshuffle_decompress_lz4'] / t:.2f}x bitshuffle.decompress_lz4 (target 2x)")
PY
