#!/usr/bin/env bash
# Performance regression check for CI (docs/regression.md): a tiny synthetic dataset, a few Table 1 rows, then
# `xrdbench compare` against the committed baseline on the machine-independent figure (--normalize scalar-decode).
#
#   bash scripts/ci_regression.sh                    # check: 0 ok, 1 regression, 2 cannot compare, 3 cannot measure
#   bash scripts/ci_regression.sh --update-baseline  # measure and write reports/baselines/ci_baseline.json
#
# Environment: XRDBENCH (binary; default build/release/harness/xrdbench, built when missing), CI_FRAMES (32),
# CI_REPEATS (7), CI_ROWS (CPU rows, see below), CI_THRESHOLD (% slower that fails, 15), CI_OUT (out/ci_regression).
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=reports/baselines/ci_baseline.json
FRAMES=${CI_FRAMES:-32}
REPEATS=${CI_REPEATS:-7}
# CPU-only rows: no GPU or OpenCL driver needed, and the paper's sequential row plus our fastest designs.
ROWS=${CI_ROWS:-sequential-cpu-MEM,pipeline-cpu-MEM,fused-cpu-MEM}
THRESHOLD=${CI_THRESHOLD:-15}
OUT=${CI_OUT:-out/ci_regression}
SEED=1234
update=0

for arg in "$@"; do
  case "$arg" in
    --update-baseline) update=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci_regression: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# A step that fails means nothing was measured: exit 3 with its log, never 1 (which means "slower").
step() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "ci_regression: failed: $*" >&2
    tail -n 20 "$log" >&2
    exit 3
  fi
}

XRDBENCH=${XRDBENCH:-build/release/harness/xrdbench}
rm -rf "$OUT"
mkdir -p "$OUT"
if [ ! -x "$XRDBENCH" ]; then
  echo "== building xrdbench (release)"
  step "$OUT/build.log" cmake --preset release
  step "$OUT/build.log" cmake --build --preset release --target xrdbench -j"$(nproc)"
fi

echo "== dataset: $FRAMES synthetic Pilatus3 2M frames (seed $SEED) in $OUT/data"
step "$OUT/synth.log" "$XRDBENCH" dataset synth --out "$OUT/data" --frames "$FRAMES" --seed "$SEED"

echo "== rows $ROWS, $REPEATS repeats"
step "$OUT/table1.log" "$XRDBENCH" table1 --dataset "$OUT/data" --rows "$ROWS" --repeats "$REPEATS" --out "$OUT/run"
RESULTS="$OUT/run/results.json"
# The run's report, for a CI artifact (not needed for the verdict).
"$XRDBENCH" report "$RESULTS" --out "$OUT/report" >"$OUT/report.log" 2>&1 || echo "(report failed: $OUT/report.log)"

if [ "$update" = 1 ]; then
  mkdir -p "$(dirname "$BASELINE")"
  cp "$RESULTS" "$BASELINE"
  echo "== wrote $BASELINE; check it against itself:"
  "$XRDBENCH" compare "$BASELINE" "$RESULTS" --normalize scalar-decode --threshold "$THRESHOLD"
  exit 0
fi

if [ ! -f "$BASELINE" ]; then
  echo "ci_regression: no baseline at $BASELINE: run  bash scripts/ci_regression.sh --update-baseline" >&2
  exit 2
fi
echo "== compare with $BASELINE (normalized by the scalar decoder, threshold $THRESHOLD%)"
set +e
"$XRDBENCH" compare "$BASELINE" "$RESULTS" --normalize scalar-decode --threshold "$THRESHOLD" \
  --json "$OUT/compare.json"
rc=$?
set -e
echo "== results, comparison and logs kept in $OUT (exit $rc)"
exit $rc
