#!/usr/bin/env bash
# The GPU machine's figures of this wave, in parts that each fit one 10-minute device command (the machine keeps
# /tmp while it stays warm, so the datasets are made once):
#   table1    Table 1 on 1202 synthetic Pilatus3 2M frames (scripts/device_table1.sh, 3 repeats), then the CPU
#             decoders (byte-offset kernels, bitshuffle-LZ4) as micro-benchmarks on the machine's Xeon
#   bench     the OpenCL chain benchmarks (scripts/device_bench.sh) and the bitshuffle-LZ4 device decoder
#   realtime  scripts/device_realtime.sh (max sustainable rate, p99 at 250 Hz; pilatus3-2m and eiger2-4m)
#   mpi       scripts/device_mpi.sh cpu + gpu (ranks against threads)
# Needs the bundle (scripts/make_bundle.sh) carried as bundle/. Writes under $OUT/<part>.
set -uo pipefail
cd "$(dirname "$0")/.."
PART=${1:?usage: device_h200.sh table1|bench|realtime|mpi}
OUT=${OUT:-out/device-h200}
mkdir -p "$OUT/$PART"
source scripts/device_env.sh device_h200 || exit 1
case "$PART" in
  table1)
    OUT="$OUT/table1" XRD_REPEATS=${XRD_REPEATS:-3} timeout 420 bash scripts/device_table1.sh
    timeout 90 bundle/bin/xrdbench_micro --benchmark_filter='BM_decode_kernel|BM_bslz4_decode|BM_bslz4_vs' \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_out="$OUT/table1/cpu_decoders.json" --benchmark_out_format=json 2>&1 | tail -40
    ;;
  bench)
    OUT="$OUT/bench" timeout 420 bash scripts/device_bench.sh
    XRD_BENCH_DEVICE=opencl:nvidia timeout 60 bundle/bin/xrdbench_micro --benchmark_filter='BM_bslz4_ocl' \
      --benchmark_out="$OUT/bench/bslz4_ocl.json" --benchmark_out_format=json 2>&1 | tail -10
    ;;
  realtime) OUT="$OUT/realtime" timeout 560 bash scripts/device_realtime.sh ;;
  mpi)
    OUT="$OUT/mpi" timeout 270 bash scripts/device_mpi.sh cpu
    OUT="$OUT/mpi" timeout 270 bash scripts/device_mpi.sh gpu
    ;;
  *) echo "device_h200: unknown part $PART" >&2; exit 2 ;;
esac
ls -lR "$OUT/$PART" | head -30
