#!/usr/bin/env bash
# Issue 15 on the GPU machine, one device command (< 8 minutes): cold rows against the disk's bound.
#   1. a 1202-frame synthetic Pilatus3 2M dataset in /tmp (kept while the machine stays warm)
#   2. `run fused --cache cold --drop-caches` over --read-ahead 0,1,2,4 x read methods pread,direct: the disk's
#      bound first (every method x 1..64 threads, the best), then the 8 rows
#   3. table1's cold rows (sequential CPU and GPU, fused) with --read-ahead auto, the bound measured again
#   4. every row as % of the bound of its own invocation (scripts/cold_pct.py)
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT (default out/device-cold).
# Shorter: XRD_REPEATS (default 3), XRD_FRAMES (1202), XRD_READ_AHEAD ("0,1,2,4"), XRD_METHODS ("pread,direct"),
# XRD_COLD_S / XRD_TABLE1_S (time limits of the two stages, seconds).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-cold}
FRAMES=${XRD_FRAMES:-1202}
REPEATS=${XRD_REPEATS:-3}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
mkdir -p "$OUT"
source scripts/device_env.sh device_cold.sh || exit 1
T() { /usr/bin/time -f "  [time] %e s wall, %U s user, %S s sys, %P CPU" "$@"; }
{
  echo "== machine"; nproc; lscpu | grep -E 'Model name|Flags' | sed 's/Flags:.*avx512f.*/Flags: avx512f yes/;s/Flags:.*/Flags: no avx512f/'
  df -T /tmp | tail -1; uname -r; uptime
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || T $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)" >/dev/null
  du -sh "$DATA"
  echo "== fused cold: read-ahead x read method (bound first)"
  rm -rf /tmp/xrd-cold-sweep
  T timeout "${XRD_COLD_S:-200}" $B run --dataset "$DATA" --strategy fused --cache cold --drop-caches --no-write \
    --device cpu --repeats "$REPEATS" --warmup 0 --sweep-read-methods "${XRD_METHODS:-pread,direct}" \
    --sweep-read-ahead "${XRD_READ_AHEAD:-0,1,2,4}" --out /tmp/xrd-cold-sweep
  echo "sweep exit status: $?"
  cp /tmp/xrd-cold-sweep/results.json "$OUT/fused_cold_sweep.json"
  uptime
  echo "== table1 cold rows (--read-ahead auto, --read-method direct for ours)"
  rm -rf /tmp/xrd-cold-table1
  T timeout "${XRD_TABLE1_S:-200}" $B table1 --dataset "$DATA" --rows sequential-cpu-SSD,sequential-gpu-SSD,fused-cpu-SSD \
    --device opencl --drop-caches --no-write --repeats "$REPEATS" --read-method direct --read-ahead auto \
    --out /tmp/xrd-cold-table1
  echo "table1 exit status: $?"
  cp /tmp/xrd-cold-table1/results.json "$OUT/table1_cold.json"
  cp /tmp/xrd-cold-table1/table1.md "$OUT/table1_cold.md" 2>/dev/null
  uptime
} 2>&1 | tee "$OUT/log.txt"
python3 scripts/cold_pct.py "$OUT/fused_cold_sweep.json" "$OUT/table1_cold.json" | tee "$OUT/summary.txt"
