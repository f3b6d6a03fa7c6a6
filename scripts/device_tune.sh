#!/usr/bin/env bash
# Issue 15 on the GPU machine, one device command (< 8 minutes): the knobs left after reports/results/h200/e2e and
# cold, each against the bound measured by the same invocation.
#   gpu:  opencl-batched end to end from the page cache, --no-write, 14 readers, 5 runs per row: --batch x engines
#         (smaller batches: the pinned staging a batch was just written into is still in the L3 when the device reads
#         it); the H2D bound measured before and after the rows (results.json h2d_bound)
#   cold: fused, --drop-caches, O_DIRECT, --read-ahead x --threads (do fewer workers leave the disk more of the
#         machine?), XRD_DEBUG_READ_AHEAD=1 says how many frames came from the readers' ring; the disk's bound first
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT (default out/device-tune).
#   bash scripts/device_tune.sh [all|gpu|cold]   XRD_FRAMES (1202), XRD_BATCH ("8,12,16"), XRD_ENGINES ("2,3"),
#   XRD_IN_FLIGHT ("2": pinned staging slots per engine),
#   XRD_THREADS ("2,4,8,16"), XRD_READ_AHEAD ("0,2"), XRD_METHODS ("direct"), XRD_GPU_S / XRD_COLD_S (time limits)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-tune}
FRAMES=${XRD_FRAMES:-1202}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
PART=${1:-all}
mkdir -p "$OUT"
source scripts/device_env.sh device_tune.sh || exit 1
T() { /usr/bin/time -f "  [time] %e s wall, %U s user, %S s sys, %P CPU" "$@"; }
{
  echo "== machine"; nproc; lscpu | grep -E 'Model name|Socket|NUMA|L3'; free -g | head -2; df -T /tmp | tail -1
  uname -r; uptime
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || T $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)" >/dev/null
  du -sh "$DATA"
  if [ "$PART" = all ] || [ "$PART" = gpu ]; then
    echo "== gpu: opencl-batched, batch x engines, --no-write, 5 runs"
    rm -rf /tmp/xrd-tune-gpu
    T timeout "${XRD_GPU_S:-150}" $B run --dataset "$DATA" --strategy opencl-batched --device opencl --no-write \
      --repeats 5 --warmup 1 --sweep-batch "${XRD_BATCH:-8,12,16}" --sweep-engines "${XRD_ENGINES:-2,3}" \
      --sweep-in-flight "${XRD_IN_FLIGHT:-2}" \
      --out /tmp/xrd-tune-gpu
    echo "gpu sweep exit status: $?"
    cp /tmp/xrd-tune-gpu/results.json "$OUT/gpu_sweep.json"
    uptime
  fi
  if [ "$PART" = all ] || [ "$PART" = cold ]; then
    echo "== cold: fused, read-ahead x threads (bound first)"
    rm -rf /tmp/xrd-tune-cold
    XRD_DEBUG_READ_AHEAD=1 T timeout "${XRD_COLD_S:-220}" $B run --dataset "$DATA" --strategy fused --cache cold \
      --drop-caches --no-write --device cpu --repeats 3 --warmup 0 --sweep-read-methods "${XRD_METHODS:-direct}" \
      --sweep-read-ahead "${XRD_READ_AHEAD:-0,2}" --sweep-threads "${XRD_THREADS:-2,4,8,16}" --out /tmp/xrd-tune-cold
    echo "cold sweep exit status: $?"
    cp /tmp/xrd-tune-cold/results.json "$OUT/cold_sweep.json"
    uptime
  fi
} 2>&1 | tee "$OUT/log.txt"
[ -f "$OUT/cold_sweep.json" ] && python3 scripts/cold_pct.py "$OUT/cold_sweep.json" | tee "$OUT/cold_summary.txt"
exit 0
