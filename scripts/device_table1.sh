#!/usr/bin/env bash
# On the device machine (H100, 16 cores): Table 1 on a 1202-frame synthetic Pilatus3 2M dataset, the paper's size.
# Needs the bundle from scripts/make_bundle.sh (carried as bundle/). Writes results.json, table1.md, the trace and
# the log under $OUT (default out/device-table1); reports/ turns them into figures here afterwards:
#   xrdbench report reports/results/h100/results.json --out reports/results/h100/report
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device-table1}
FRAMES=${XRD_FRAMES:-1202}
REPEATS=${XRD_REPEATS:-5}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
mkdir -p "$OUT"
source scripts/device_env.sh device_table1 || exit 1
{
  echo "== devices"; $B devices
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$(nproc)"
  echo "== table1 (repeats $REPEATS)"
  $B table1 --dataset "$DATA" --repeats "$REPEATS" --device opencl --drop-caches \
     --out /tmp/xrd-table1 --trace "$OUT/trace.json" "$@"
  echo "table1 exit status: $?"
} 2>&1 | tee "$OUT/log.txt"
cp /tmp/xrd-table1/results.json /tmp/xrd-table1/table1.md "$OUT/" 2>/dev/null
[ -f "$OUT/trace.json" ] && gzip -f "$OUT/trace.json"
ls -l "$OUT"
