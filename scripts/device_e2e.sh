#!/usr/bin/env bash
# Issue 15 on the GPU machine: opencl-batched end to end from the page cache, with the host-to-device bound measured
# by the same invocation (run/table1 measure it before and after the rows: results.json "h2d_bound", and the
# "% of the host-to-device bound" lines), with the sinogram written and with --no-write, alternating; then (PART
# all) Table 1 with every row, whose table1.md prints the bound and each GPU row's share of it.
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT (default out/device-e2e).
#   bash scripts/device_e2e.sh [hot|all]     XRD_FRAMES (1202), XRD_ROUNDS (3), XRD_REPEATS (5)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-e2e}
FRAMES=${XRD_FRAMES:-1202}
ROUNDS=${XRD_ROUNDS:-3}
REPEATS=${XRD_REPEATS:-5}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
PART=${1:-hot}
mkdir -p "$OUT"
source scripts/device_env.sh device_e2e || exit 1
{
  echo "== machine"; nproc; lscpu | grep -E 'Model name' ; free -g | head -2; df -T /tmp | tail -1
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || timeout 200 $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)" >/dev/null
  du -sh "$DATA"
  echo "== the HDF5 sink alone (patterns/s it absorbs; harness/bench_h5sink.cpp)"
  bundle/bin/xrdbench_micro --benchmark_filter='BM_NxWriter|BM_H5FileSink' --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$OUT/h5sink.json" --benchmark_out_format=json 2>&1 |
    grep -E 'median|cv'
  for r in $(seq 1 "$ROUNDS"); do
    for w in write no-write; do
      extra=""; [ $w = no-write ] && extra=--no-write
      echo "== round $r: opencl-batched, $w, $REPEATS runs"
      timeout 120 $B run --dataset "$DATA" --strategy opencl-batched --device opencl --repeats "$REPEATS" \
        --warmup 1 $extra --out "/tmp/e2e-$w-$r" 2>&1 | grep -vE '^\s*$|\[[=> ]*\]' | tail -12
      cp "/tmp/e2e-$w-$r/results.json" "$OUT/hot-$w-$r.json" 2>/dev/null
    done
  done
  if [ "$PART" = all ]; then
    echo "== table1 (every row, repeats 3)"
    timeout 420 $B table1 --dataset "$DATA" --repeats 3 --device opencl --drop-caches --out /tmp/e2e-table1 \
      2>&1 | grep -vE '\[[=> ]*\]' | tail -60
    cp /tmp/e2e-table1/results.json "$OUT/table1-results.json" 2>/dev/null
    cp /tmp/e2e-table1/table1.md "$OUT/table1.md" 2>/dev/null
  fi
} 2>&1 | tee "$OUT/log.txt"
