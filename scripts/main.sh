#!/usr/bin/env bash
# The README's main command: installs what is missing, builds xrdbench (Release), makes a small synthetic Pilatus3
# 2M dataset, runs the paper's Table 1 (+ our strategies) on it, makes the report, and prints the table.
#   bash scripts/main.sh                       # 60 frames, 5 repeats, results in out/
#   XRD_FRAMES=1202 bash scripts/main.sh       # the paper's dataset size (3 GB)
#   bash scripts/main.sh --device opencl:nvidia --rows ...   # extra arguments go to `xrdbench table1`
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FRAMES=${XRD_FRAMES:-60}
REPEATS=${XRD_REPEATS:-5}
OUT=${XRD_OUT:-out}

bash scripts/setup.sh
echo "== build (release)"
cmake --preset release >/dev/null
cmake --build --preset release -j"$JOBS" --target xrdbench
BIN=build/release/harness/xrdbench

DATA="$OUT/synth-$FRAMES"
if "$BIN" dataset verify "$DATA" --no-md5 >/dev/null 2>&1; then
  echo "== dataset: reusing $DATA ($FRAMES frames)"
else
  echo "== dataset: $FRAMES synthetic Pilatus3 2M frames -> $DATA"
  rm -rf "$DATA"
  "$BIN" dataset synth --out "$DATA" --frames "$FRAMES"
fi

echo "== Table 1 ($REPEATS runs per row) -> $OUT/table1"
# A fresh table each time: table1 would add to (or, for another dataset size, refuse) a results.json left there.
rm -rf "$OUT/table1"
status=0
"$BIN" table1 --dataset "$DATA" --repeats "$REPEATS" --out "$OUT/table1" "$@" >/dev/null || status=$?
# 3: some row is invalid or not validated (table1.md and the report say which and why): the report is still made.
if [ "$status" = 3 ]; then
  echo "== table1: some rows are invalid or not validated (see $OUT/table1/table1.md)"
elif [ "$status" != 0 ]; then
  exit "$status"
fi

if "$BIN" report --help >/dev/null 2>&1; then
  echo "== report -> $OUT/report"
  "$BIN" report "$OUT/table1/results.json" --out "$OUT/report"
fi
echo
cat "$OUT/table1/table1.md"
