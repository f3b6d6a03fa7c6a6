#!/usr/bin/env bash
# Bitshuffle-LZ4 (Eiger2 4M NXmx) on the device machine, in one command (issue 18): the OpenCL bitshuffle-LZ4 tests on
# the GPU, the decode + integrate chain from pinned memory beside the host-to-device bound measured in the same
# batches (bench_ocl.cpp's BM_OclChain_Eiger4M_*, the byte-offset synthetic 2M chain beside it), then end to end:
# `table1 --rows` (opencl-batched, fused, pipeline, ...) on an Eiger2 4M NXmx dataset and on the same frames as CBF
# byte-offset files, made here in /tmp. Needs the bundle (scripts/make_bundle.sh) carried as bundle/, with
# test_bslz4_ocl added (make_bundle.sh does not build it):
#   bash scripts/make_bundle.sh && cmake --build build-bundle --target test_bslz4_ocl &&
#   cp build-bundle/tests/test_bslz4_ocl bundle/bin/ && strip --strip-unneeded bundle/bin/test_bslz4_ocl
# (bundle/ompi, for MPI only, can stay behind: the carry limit is 64 MiB with the tracked files). Writes under $OUT
# (default out/device-bslz4), at most 8 files: log.txt (all of it), bench_raw.json, bench_local_raw.json,
# table1_{h5,cbf}.json / .md.
#   XRD_FRAMES (default 150) frames per dataset; XRD_REPEATS (default 3) timed runs per row;
#   XRD_PARTS (default "tests bench table1"); XRD_KINDS (default "h5 cbf"): the datasets table1 runs on.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-bslz4}
FRAMES=${XRD_FRAMES:-150}
REPEATS=${XRD_REPEATS:-3}
mkdir -p "$OUT"
source scripts/device_env.sh device_bslz4 || exit 1
DEV=${XRD_OCL_DEVICE:-opencl:nvidia}
H5=/tmp/xrd-eiger4m-h5-$FRAMES
CBF=/tmp/xrd-eiger4m-cbf-$FRAMES
{
  echo "== devices"
  nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv 2>&1
  lscpu | grep -E 'Model name|^CPU\(s\)'
  $B devices --check "$DEV" || { echo "device_bslz4: $DEV unusable"; exit 1; }

  PARTS=${XRD_PARTS:-tests bench table1}
  if [[ " $PARTS " == *" tests "* ]]; then
    echo "== OpenCL bitshuffle-LZ4 tests on $DEV (both ways of reading the compressed bytes)"
    XRD_TEST_DEVICE=$DEV timeout 60 bundle/bin/test_bslz4_ocl 2>&1 | tail -n 3
    XRD_OCL_BSLZ4_SRC=local XRD_TEST_DEVICE=$DEV timeout 60 bundle/bin/test_bslz4_ocl 2>&1 | tail -n 3
  fi

  if [[ " $PARTS " == *" bench "* ]]; then
    echo "== chain benchmarks (Eiger2 4M bitshuffle-LZ4; synthetic 2M byte-offset beside it)"
    XRD_OCL_DEVICE=$DEV XRD_OCL_FRAMES=${XRD_OCL_FRAMES:-64} timeout 120 bundle/bin/xrdbench_micro \
      --benchmark_filter='BM_OclBandwidth|BM_OclChain_Eiger4M|BM_OclChain_Synth/batch:16/copy:0' \
      --benchmark_repetitions=3 --benchmark_out="$OUT/bench_raw.json" --benchmark_out_format=json 2>&1 |
      grep -v '^\*\*\*'
    echo "== the same with the compressed bytes staged in local memory (XRD_OCL_BSLZ4_SRC=local)"
    XRD_OCL_BSLZ4_SRC=local XRD_OCL_DEVICE=$DEV XRD_OCL_FRAMES=${XRD_OCL_FRAMES:-64} timeout 60 \
      bundle/bin/xrdbench_micro --benchmark_filter='BM_OclChain_Eiger4M_Bslz4_U16/batch:16/copy:0/wg:64' \
      --benchmark_repetitions=3 --benchmark_out="$OUT/bench_local_raw.json" --benchmark_out_format=json 2>&1 |
      grep -v '^\*\*\*'
  fi
  [[ " $PARTS " == *" table1 "* ]] || exit 0

  echo "== datasets: $FRAMES Eiger2 4M frames as NXmx (bitshuffle-LZ4, uint16: the preset's default) and as CBF (byte-offset)"
  [ -f "$H5/manifest.json" ] || timeout 60 $B dataset synth --out "$H5" --frames "$FRAMES" --detector eiger2-4m \
    --format h5 --threads "$(nproc)"
  [[ " ${XRD_KINDS:-h5 cbf} " != *" cbf "* ]] || [ -f "$CBF/manifest.json" ] || timeout 60 $B dataset synth --out "$CBF" --frames "$FRAMES" --detector eiger2-4m \
    --threads "$(nproc)"
  du -sb "$H5" "$CBF"

  # Our rows (opencl-batched with table1's default readers: every core but two) and the paper's one-frame GPU row.
  R=$(( $(nproc) - 2 )); [ $R -lt 2 ] && R=2
  ROWS=${XRD_ROWS:-opencl-batched-$R-gpu-MEM,opencl-gpu-MEM,fused-cpu-MEM,pipeline-cpu-MEM}
  for kind in ${XRD_KINDS:-h5 cbf}; do
    DS=$H5; [ $kind = cbf ] && DS=$CBF
    echo "== table1 --dataset $DS --rows $ROWS (repeats $REPEATS)"
    timeout 100 $B table1 --dataset "$DS" --rows "$ROWS" --repeats "$REPEATS" --device "$DEV" --no-write \
      --out "/tmp/xrd-bslz4-table1-$kind"
    echo "table1 exit status: $?"
    cp "/tmp/xrd-bslz4-table1-$kind/results.json" "$OUT/table1_$kind.json" 2>/dev/null
    cp "/tmp/xrd-bslz4-table1-$kind/table1.md" "$OUT/table1_$kind.md" 2>/dev/null
  done
} 2>&1 | tee "$OUT/log.txt"
ls -l "$OUT"
