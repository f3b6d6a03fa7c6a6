#!/usr/bin/env bash
# On a device machine with several GPUs (nvidia-h200-x2: 2 H200, 32 cores): the runs of issue 16 that need more
# than the one-GPU machine, in one device command (about 8 minutes):
#   1. opencl-batched in one process: --device opencl (one GPU) against --device opencl:all (every GPU of the host);
#   2. opencl-batched on 1 and 2 MPI ranks with --device opencl:local-rank (rank i -> GPU i mod count);
#   3. scripts/device_mpi.sh mix (fused, ranks x threads filling the machine) and realtime (the stream fanned out
#      round-robin over 1, 2, 4 ranks, 250 Hz then --find-max).
# Needs the bundle (scripts/make_bundle.sh, with bundle/ompi) carried as bundle/. Everything it writes goes into
# $OUT/x2-PART.tar.gz (one file: the device tool returns few files per call). XRD_FRAMES (300) frames.
#   bash scripts/device_x2.sh gpus       # 1, 2 and mix (about 7 minutes)
#   bash scripts/device_x2.sh realtime   # 3's realtime part (about 4 minutes; reuses the dataset while warm)
set -uo pipefail
cd "$(dirname "$0")/.."
PART=${1:?usage: device_x2.sh gpus|realtime}
OUT=${OUT:-out}
W=/tmp/x2-$PART
rm -rf "$W" && mkdir -p "$W"
source scripts/device_env.sh device_x2 || exit 1
FRAMES=${XRD_FRAMES:-300}
DATA=/tmp/xrd-synth-$FRAMES
CORES=$(nproc)
[ -f "$DATA/manifest.json" ] || timeout 120 $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$CORES" >/dev/null
OUT_MPI="$W/mpi"
if [ "$PART" = gpus ]; then
{
  echo "cores $CORES"; nvidia-smi -L 2>&1
  $B devices --json > "$W/devices.json" 2>&1
  for dev in opencl opencl:all; do
    echo "== opencl-batched --device $dev"
    timeout 60 $B run --dataset "$DATA" --strategy opencl-batched --integrator gpu --device "$dev" --repeats 3 \
      --no-write --out "$W/one-process-${dev/:/-}" 2>&1 | grep -v '^\s*$' | tail -4
  done
} > "$W/log.txt" 2>&1
OUT="$OUT_MPI" XRD_FRAMES=$FRAMES XRD_DATA=$DATA XRD_GPU_RANKS="1 2" XRD_CASE_S=120 XRD_PART_S=100 \
  timeout 150 bash scripts/device_mpi.sh gpu >> "$W/log.txt" 2>&1
OUT="$OUT_MPI" XRD_FRAMES=$FRAMES XRD_DATA=$DATA XRD_MIX_RANKS="1 2 4 8 16 32" XRD_CASE_S=90 XRD_PART_S=120 \
  timeout 170 bash scripts/device_mpi.sh mix >> "$W/log.txt" 2>&1
else
OUT="$OUT_MPI" XRD_FRAMES=$FRAMES XRD_DATA=$DATA XRD_RT_RANKS="1 2 4" XRD_CASE_S=80 XRD_PART_S=150 \
  timeout 200 bash scripts/device_mpi.sh realtime >> "$W/log.txt" 2>&1
fi
mkdir -p "$OUT" && tar czf "$OUT/x2-$PART.tar.gz" -C /tmp "x2-$PART"
tail -30 "$W/log.txt"
