#!/usr/bin/env bash
# On the GPU machine: issue 12's figures. For pilatus3-2m and eiger2-4m (synthetic datasets of the preset's shape):
# batch fps of every row from `table1` (same session), then `realtime --find-max` for the best CPU and the best GPU
# strategy (max sustainable rate, its ratio to the batch fps) and a paced run at 250 Hz (p99 latency).
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
CPU_STRATEGIES=${XRD_CPU:-pipeline fused}
GPU_STRATEGIES=${XRD_GPU:-opencl-batched opencl pool}
mkdir -p "$OUT"
source bundle/env.sh
if [ -w /etc ] && [ ! -f /etc/OpenCL/vendors/nvidia.icd ]; then
  mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
fi
B=bundle/bin/xrdbench
export XRD_COMMIT=${XRD_COMMIT:-$(cat bundle/COMMIT 2>/dev/null || echo unknown)}
# The best row of a table1 results file among the given strategies (valid rows only, by median fps).
best() {
  python3 - "$1" "${@:2}" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
ok = [r for r in rows if r["valid"] and r["strategy"] in sys.argv[2:] and r["source"] == "MEM"]
r = max(ok, key=lambda r: r["fps"]["median"]) if ok else None
print("%s %s %s %s" % (r["strategy"], r.get("readers") or 0, r["integrator"], r["fps"]["median"]) if r else "")
PY
}
{
  echo "== devices"; $B devices
  for det in $DETECTORS; do
    DATA=/tmp/xrd-rt-$det-$FRAMES
    echo "== dataset $det: $FRAMES frames -> $DATA"
    [ -f "$DATA/manifest.json" ] || $B dataset synth --detector "$det" --out "$DATA" --frames "$FRAMES" --threads "$(nproc)"
    echo "== table1 on $det (hot rows of our strategies, repeats $REPEATS)"
    $B table1 --dataset "$DATA" --repeats "$REPEATS" --device opencl --no-write --out "$OUT/table1-$det" \
      --rows sequential-cpu-MEM,pool-4-gpu-MEM,opencl-gpu-MEM,pipeline-cpu-MEM,fused-cpu-MEM,opencl-batched-4-gpu-MEM
    for kind in cpu gpu; do
      if [ $kind = cpu ]; then set -- $CPU_STRATEGIES; else set -- $GPU_STRATEGIES; fi
      read -r s readers integ fps <<<"$(best "$OUT/table1-$det/results.json" "$@")"
      [ -n "${s:-}" ] || { echo "no valid $kind row on $det"; continue; }
      echo "== realtime $det: best $kind row $s (readers $readers, $integ integration) at $fps fps batch"
      args=(--dataset "$DATA" --strategy "$s" --integrator "$integ" --device opencl --detector "$det")
      [ "$readers" != 0 ] && args+=(--readers "$readers")
      $B realtime "${args[@]}" --rate 250 --duration "$DURATION" --find-max --trial-s "$TRIAL_S" \
        --out "$OUT/realtime-$det-$kind"
      echo "realtime exit status: $?"
    done
  done
} 2>&1 | tee "$OUT/log.txt"
ls -lR "$OUT" | head -40
