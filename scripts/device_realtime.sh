#!/usr/bin/env bash
# On the GPU machine: issue 12's figures. For pilatus3-2m and eiger2-4m (synthetic datasets of the preset's shape):
# batch fps of every row from `table1` (same session), then `realtime --find-max` for the best CPU strategy (fused)
# and the best GPU one (opencl-batched): max sustainable rate, its ratio to the batch fps, and a 250 Hz run (p99).
# Needs the bundle from scripts/make_bundle.sh (carried as bundle/). Writes under $OUT (default out/device-realtime):
# table1-<det>/results.json, realtime-<det>/results.json, log.txt; then, here:
#   xrdbench report out/device-realtime/realtime-*/results.json --out out/device-realtime/report
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-realtime}
FRAMES=${XRD_FRAMES:-200}        # dataset frames (they cycle in the paced runs)
REPEATS=${XRD_REPEATS:-3}
TRIAL_S=${XRD_TRIAL_S:-3}        # seconds per --find-max trial
DURATION=${XRD_DURATION:-10}     # seconds of the 250 Hz run
DETECTORS=${XRD_DETECTORS:-pilatus3-2m eiger2-4m}
CPU_STRATEGY=${XRD_CPU:-fused}
GPU_STRATEGY=${XRD_GPU:-opencl-batched}
mkdir -p "$OUT"
source scripts/device_env.sh device_realtime || exit 1
{
  echo "== devices"; $B devices
  for det in $DETECTORS; do
    DATA=/tmp/xrd-rt-$det-$FRAMES
    echo "== dataset $det: $FRAMES frames -> $DATA"
    [ -f "$DATA/manifest.json" ] || $B dataset synth --detector "$det" --out "$DATA" --frames "$FRAMES" --threads "$(nproc)"
    echo "== table1 on $det (repeats $REPEATS)"
    $B table1 --dataset "$DATA" --repeats "$REPEATS" --device opencl --no-write --out "$OUT/table1-$det"
    # The best CPU and GPU strategies of every table1 so far (README): fused and opencl-batched; XRD_CPU / XRD_GPU
    # change them. Their batch fps is in table1-<det>/table1.md, beside find-max's own batch run.
    for s in $CPU_STRATEGY $GPU_STRATEGY; do
      integ=cpu; [ "$s" = "$GPU_STRATEGY" ] && integ=gpu
      echo "== realtime $det: $s ($integ)"
      $B realtime --dataset "$DATA" --strategy "$s" --integrator "$integ" --device opencl --detector "$det" \
        --rate 250 --duration "$DURATION" --find-max --trial-s "$TRIAL_S" --out "$OUT/realtime-$det-$s"
      echo "realtime exit status: $?"
    done
  done
} 2>&1 | tee "$OUT/log.txt"
ls -lR "$OUT" | head -40
