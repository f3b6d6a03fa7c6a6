#!/usr/bin/env bash
# Fuzz the input readers (libFuzzer, clang, ASan+UBSan): build the `fuzz` preset, then for each target run its
# committed corpus, then SECONDS (default 60) of new inputs. Targets: fuzz_cbf (CBF reader + decoders, corpus
# tests/fuzz/corpus), fuzz_poni (PONI parser, tests/fuzz/corpus_poni), fuzz_mask (mask reader, tests/fuzz/corpus_mask),
# fuzz_bslz4 (bitshuffle-LZ4 chunk decoder, tests/fuzz/corpus_bslz4).
# Prints the executions and whether anything was found; exits non-zero on a crash.
#   bash scripts/fuzz.sh               # 60 s per target
#   bash scripts/fuzz.sh 600           # longer
#   TARGETS=fuzz_poni bash scripts/fuzz.sh 30
# A crashing input is kept as build/fuzz/findings/TARGET/crash-*; replay it with: build/fuzz/tests/fuzz/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
JOBS=${JOBS:-$(nproc)}
TARGETS=${TARGETS:-fuzz_cbf fuzz_poni fuzz_mask fuzz_bslz4}

cmake --preset fuzz >/dev/null
# shellcheck disable=SC2086
cmake --build --preset fuzz -j"$JOBS" --target $TARGETS >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

corpus_of() {
  case "$1" in
    fuzz_cbf) echo tests/fuzz/corpus ;;
    fuzz_poni) echo tests/fuzz/corpus_poni ;;
    fuzz_mask) echo tests/fuzz/corpus_mask ;;
    fuzz_bslz4) echo tests/fuzz/corpus_bslz4 ;;
  esac
}

failed=0
for T in $TARGETS; do
  FUZZER=build/fuzz/tests/fuzz/$T
  SEEDS=$(corpus_of "$T")
  OUT=build/fuzz/findings/$T
  rm -rf "$OUT" && mkdir -p "$OUT/corpus"
  # Inputs up to 16 KiB; a reader must refuse large images before allocating, so 512 MB of RSS is plenty.
  FLAGS=(-max_len=16384 -rss_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix="$OUT/")

  echo "== $T: committed corpus ($SEEDS, $(ls "$SEEDS" | wc -l) files)"
  status=0
  "$FUZZER" "${FLAGS[@]}" -runs=0 "$SEEDS" >"$OUT/corpus.log" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    tail -40 "$OUT/corpus.log"
    echo "== $T: the committed corpus CRASHES (exit $status); see $OUT/"
    failed=1
    continue
  fi
  grep -E "stat::number_of_executed_units" "$OUT/corpus.log" | sed 's/^/   /'

  echo "== $T: ${SECS}s of new inputs"
  "$FUZZER" "${FLAGS[@]}" -max_total_time="$SECS" "$OUT/corpus" "$SEEDS" >"$OUT/fuzz.log" 2>&1 || status=$?
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$OUT/fuzz.log" | awk '{print $2}' | tail -1)
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$OUT/fuzz.log" | tail -1)
  echo "   executions: ${execs:-?}   coverage: ${cov:-?}   new corpus inputs: $(ls "$OUT/corpus" | wc -l)"
  if [ $status -ne 0 ] || ls "$OUT"/crash-* "$OUT"/leak-* "$OUT"/timeout-* "$OUT"/oom-* >/dev/null 2>&1; then
    grep -E "ERROR|SUMMARY|==[0-9]+==|runtime error|uncaught" "$OUT/fuzz.log" | head -20 || true
    echo "== $T: FOUND a problem (exit $status): $(ls "$OUT" | grep -E '^(crash|leak|timeout|oom)-' | tr '\n' ' ')"
    failed=1
    continue
  fi
  echo "== $T: nothing found"
done
exit $failed
