#!/usr/bin/env bash
# Issue 15 on the GPU machine, one device command (< 8 minutes): the knobs left after reports/results/h200/e2e and
# cold, each against the bound measured by the same invocation.
#   gpu:  opencl-batched end to end from the page cache, --no-write, 14 readers, 5 runs per row: --batch x engines
#         (smaller batches: the pinned staging a batch was just written into is still in the L3 when the device reads
#         it); the H2D bound measured before and after the rows (results.json h2d_bound)
#   cold: fused, --drop-caches, O_DIRECT, --read-ahead x --threads (do fewer workers leave the disk more of the
#         machine?), XRD_DEBUG_READ_AHEAD=1 says how many frames came from the readers' ring; the disk's bound first
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT (default out/device-tune).
# final: opencl-batched with the defaults (written / --no-write), the disk's direct x2 rate alone and under a compute
#   load, then Table 1 with every row (the figures committed under reports/results/h200/).
# write: opencl-batched with the sinogram written, --sweep-readers XRD_READERS ("12,13,14"), and --no-write with the
#   default readers, alternating for XRD_ROUNDS rounds; XRD_DEBUG_SINK=1 prints, per run, the sink's file creation,
#   the delivering thread's waits, the writer's HDF5 time, the drain at close and the closing (harness/sinks.hpp).
#   Then opencl-batched cold (--drop-caches, --no-write): --sweep-read-methods XRD_METHODS ("pread,direct") x
#   --sweep-readers XRD_COLD_READERS ("2,3,4"), the disk's bound first: the readers read into pinned memory and the
#   device computes, so the CPU is left to the reads.
# coldgpu: the cold opencl-batched sweep alone (pread rows ask the disk for the files ahead: Options::cold).
# table1: Table 1 alone (every row, 3 runs, --drop-caches), as the end of final.
# slump: does the GPU row slow down inside the full Table 1 because of the process or of the machine? opencl-batched
#   (sinogram written, defaults, 5 runs) in a fresh process and the page cache's copy rate (`cache read` of the warm
#   dataset, 14 threads) before Table 1 and right after it, with /proc/vmstat and /proc/meminfo snapshots.
#   bash scripts/device_tune.sh [all|gpu|cold|final|write|coldgpu|table1|slump]   XRD_FRAMES (1202), XRD_BATCH ("8,12,16"), XRD_ENGINES ("2,3"),
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
  if [ "$PART" = write ]; then
    echo "== write: opencl-batched, sinogram written x readers, and --no-write, 5 runs each, XRD_ROUNDS rounds"
    for r in $(seq 1 "${XRD_ROUNDS:-2}"); do
      rm -rf "/tmp/xrd-w-$r" "/tmp/xrd-nw-$r"
      XRD_DEBUG_SINK=1 timeout 150 $B run --dataset "$DATA" --strategy opencl-batched --device opencl --repeats 5 \
        --warmup 1 --sweep-readers "${XRD_READERS:-12,13,14}" --out "/tmp/xrd-w-$r" 2>&1 | grep -E 'fps|bound|\[sink\]'
      cp "/tmp/xrd-w-$r/results.json" "$OUT/write-$r.json"
      timeout 90 $B run --dataset "$DATA" --strategy opencl-batched --device opencl --repeats 5 --warmup 1 \
        --no-write --out "/tmp/xrd-nw-$r" 2>&1 | grep -E 'fps|bound'
      cp "/tmp/xrd-nw-$r/results.json" "$OUT/no-write-$r.json"
    done
    uptime
  fi
  if [ "$PART" = write ] || [ "$PART" = coldgpu ]; then
    echo "== opencl-batched cold: read methods x readers (bound first)"
    rm -rf /tmp/xrd-cold-gpu
    T timeout "${XRD_COLD_S:-200}" $B run --dataset "$DATA" --strategy opencl-batched --device opencl --cache cold \
      --drop-caches --no-write --repeats 3 --warmup 0 --sweep-read-methods "${XRD_METHODS:-pread,direct}" \
      --sweep-readers "${XRD_COLD_READERS:-2,3,4}" --out /tmp/xrd-cold-gpu 2>&1 | grep -vE '\[[=> ]*\]' | tail -30
    cp /tmp/xrd-cold-gpu/results.json "$OUT/cold_gpu_sweep.json"
    python3 scripts/cold_pct.py "$OUT/cold_gpu_sweep.json" | tee "$OUT/cold_gpu_summary.txt"
  fi
  if [ "$PART" = final ]; then
    echo "== e2e: opencl-batched with the defaults, sinogram written and --no-write, 5 runs each, XRD_ROUNDS rounds"
    for w in $(for r in $(seq 1 "${XRD_ROUNDS:-1}"); do echo "write-$r no-write-$r"; done); do
      extra=""; case $w in no-write*) extra=--no-write ;; esac
      rm -rf "/tmp/xrd-e2e-$w"
      timeout 90 $B run --dataset "$DATA" --strategy opencl-batched --device opencl --repeats 5 --warmup 1 $extra \
        --out "/tmp/xrd-e2e-$w" 2>&1 | grep -E 'fps|bound'
      cp "/tmp/xrd-e2e-$w/results.json" "$OUT/e2e-$w.json"
    done
    [ -n "${XRD_SKIP_DISK:-}" ] || {
    echo "== the disk alone and under a compute load (fused, hot, 12 threads, on another dataset)"
    LOAD=/tmp/xrd-synth-load
    [ -f "$LOAD/manifest.json" ] || $B dataset synth --out "$LOAD" --frames 240 --threads "$(nproc)" >/dev/null
    $B cache warm "$LOAD" >/dev/null
    $B cache evict "$DATA" >/dev/null; $B cache read "$DATA" --method direct --threads 2 | grep -E 'read '
    timeout 60 $B run --dataset "$LOAD" --strategy fused --threads 12 --repeats 200 --warmup 0 --no-write --quiet \
      --device cpu --out /tmp/xrd-load >/dev/null 2>&1 &
    LP=$!; sleep 4
    $B cache evict "$DATA" >/dev/null; $B cache read "$DATA" --method direct --threads 2 | grep -E 'read '
    kill $LP 2>/dev/null; wait $LP 2>/dev/null
    }
  fi
  probe() {  # slump: the GPU row in its own process, and the page cache's copy rate, labelled $1
    echo "== probe $1: cache read (warm, 14 threads), then opencl-batched written, 5 runs"; uptime
    grep -E '^(nr_free_pages|nr_file_pages|nr_dirty|compact_stall|compact_fail|pgmajfault|thp_fault_alloc|thp_fault_fallback) ' /proc/vmstat > "$OUT/vmstat-$1.txt"
    grep -E 'MemFree|Cached|Dirty|AnonHugePages|FileHugePages|Mlocked' /proc/meminfo >> "$OUT/vmstat-$1.txt"
    cat /proc/buddyinfo >> "$OUT/vmstat-$1.txt"
    $B cache warm "$DATA" >/dev/null
    $B cache read "$DATA" --method pread --threads 14 | grep -E 'read '
    rm -rf "/tmp/xrd-probe-$1"
    timeout 100 $B run --dataset "$DATA" --strategy opencl-batched --device opencl --repeats 5 --warmup 1 \
      --out "/tmp/xrd-probe-$1" 2>&1 | grep -E 'fps|bound'
    cp "/tmp/xrd-probe-$1/results.json" "$OUT/probe-$1.json"
  }
  if [ "$PART" = slump ]; then
    echo "== the disk's queue limits, transparent huge pages"
    for f in max_segments max_segment_size max_sectors_kb max_hw_sectors_kb nr_requests scheduler; do
      echo "$f: $(cat /sys/block/vda/queue/$f 2>/dev/null)"; done
    cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag
    probe before
  fi
  if [ "$PART" = final ] || [ "$PART" = table1 ] || [ "$PART" = slump ]; then
    echo "== table1, every row, 3 runs, --drop-caches"
    rm -rf /tmp/xrd-table1
    T timeout "${XRD_TABLE1_S:-380}" $B table1 --dataset "$DATA" --repeats 3 --device opencl --drop-caches \
      --out /tmp/xrd-table1 2>&1 | grep -vE '\[[=> ]*\]' | tail -40
    cp /tmp/xrd-table1/results.json "$OUT/table1-results.json"; cp /tmp/xrd-table1/table1.md "$OUT/table1.md"
  fi
  [ "$PART" = slump ] && probe after
} 2>&1 | tee "$OUT/log.txt"
[ -f "$OUT/cold_sweep.json" ] && python3 scripts/cold_pct.py "$OUT/cold_sweep.json" | tee "$OUT/cold_summary.txt"
exit 0
