#!/usr/bin/env bash
# Issue 15 on the GPU machine, in one device command: how fast the readers fill pinned staging, and the disk's bound.
#   1. a 1202-frame synthetic Pilatus3 2M dataset in /tmp (kept while the machine stays warm)
#   2. the H2D bound of this run (xrdbench_micro BM_OclBandwidth + the device chain from pinned memory)
#   3. why the readers are slow: `xrdbench cache read` (page cache -> a thread's buffer, no GPU) per method x threads,
#      plain and mlock'ed buffers, wall + CPU per file (/usr/bin/time for the whole process)
#   4. opencl-batched end to end from the page cache: read methods x readers x batch x pinned slots in flight
#   5. cold: the disk's bound (each method, thread counts) and fused cold with each method
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT (default out/device-readers).
# Stage limits: XRD_HOT_S, XRD_COLD_S (seconds).
# `device_readers.sh confirm`: the defaults chosen from that sweep (2 staging slots, 2 engines), 5 runs per row,
# readers x batch, the H2D bound of the same run; cold: the bound and fused with pread / direct / uring.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-readers}
FRAMES=${XRD_FRAMES:-1202}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
mkdir -p "$OUT"
source scripts/device_env.sh device_readers || exit 1
T() { /usr/bin/time -f "  [time] %e s wall, %U s user, %S s sys, %P CPU, %F major + %R minor faults" "$@"; }
PART=${1:-all}
if [ "$PART" = confirm ]; then
  {
    [ -f "$DATA/manifest.json" ] || T $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)" >/dev/null
    echo "== H2D bound (this run)"
    XRD_OCL_DEVICE=opencl timeout 60 bundle/bin/xrdbench_micro \
      --benchmark_filter='BM_OclBandwidth|BM_OclChain_Synth/batch:32/copy:0' \
      --benchmark_out="$OUT/h2d_bound_confirm.json" --benchmark_out_format=json 2>&1 | tail -3
    echo "== opencl-batched, defaults (2 slots, 2 engines), readers x batch, 5 runs"
    T timeout "${XRD_HOT_S:-120}" $B run --dataset "$DATA" --strategy opencl-batched --device opencl --no-write \
      --repeats 5 --warmup 1 --sweep-readers 14,16 --sweep-batch 16,24,32 --out "$OUT/confirm-hot"
    echo "== cold: bound + fused (direct without the page-cache readahead)"
    T timeout "${XRD_COLD_S:-130}" $B run --dataset "$DATA" --strategy fused --cache cold --drop-caches --no-write \
      --repeats 3 --warmup 0 --sweep-read-methods pread,direct,uring --out "$OUT/confirm-cold"
  } 2>&1 | tee "$OUT/log_confirm.txt"
  exit 0
fi
{
  echo "== machine"; nproc; lscpu | grep -E 'Model name|Socket|Core|Thread|NUMA node\(s\)|L3'; free -g | head -2
  df -T /tmp | tail -1; lsblk -d -o NAME,ROTA,SIZE,MODEL 2>/dev/null | head -5; uname -r
  cat /proc/sys/kernel/io_uring_disabled 2>/dev/null
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || T $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)" >/dev/null
  du -sh "$DATA"
  echo "== H2D bound (this run)"
  XRD_OCL_DEVICE=opencl timeout 60 bundle/bin/xrdbench_micro \
    --benchmark_filter='BM_OclBandwidth|BM_OclChain_Synth/batch:32/copy:0' \
    --benchmark_out="$OUT/h2d_bound.json" --benchmark_out_format=json 2>&1 | tail -4
  echo "== page cache -> buffer, no GPU (cache read, every file once)"
  $B cache warm "$DATA" >/dev/null
  for m in pread mmap uring; do
    for t in 1 8 14; do T $B cache read "$DATA" --method $m --threads $t | grep -E 'read |time'; done
  done
  T $B cache read "$DATA" --method pread --threads 14 --mlock | grep -E 'read |time'
  echo "== opencl-batched hot sweep (14 readers: methods x batch x staging slots x engines)"
  T timeout "${XRD_HOT_S:-180}" $B run --dataset "$DATA" --strategy opencl-batched --device opencl --no-write \
    --repeats 3 --warmup 1 --readers 14 --sweep-read-methods pread,mmap,uring --sweep-batch 16,48 \
    --sweep-in-flight 2,3 --sweep-engines 1,2 --out "$OUT/hot"
  echo "hot sweep exit status: $?"
  echo "== opencl-batched readers sweep"
  T timeout "${XRD_READERS_S:-70}" $B run --dataset "$DATA" --strategy opencl-batched --device opencl --no-write \
    --repeats 3 --warmup 1 --sweep-readers 8,16 --sweep-read-methods pread,mmap --batch 48 --out "$OUT/hot-readers"
  echo "readers sweep exit status: $?"
  echo "== cold: bound + fused with each method"
  T timeout "${XRD_COLD_S:-130}" $B run --dataset "$DATA" --strategy fused --cache cold --drop-caches --no-write \
    --repeats 3 --warmup 0 --sweep-read-methods pread,uring,direct --out "$OUT/cold"
  echo "cold sweep exit status: $?"
} 2>&1 | tee "$OUT/log.txt"
ls -l "$OUT" "$OUT"/hot* "$OUT"/cold 2>/dev/null | head -20
