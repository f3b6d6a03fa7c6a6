#!/usr/bin/env bash
# Fuzz the CBF reader and the bitshuffle-LZ4 decoder (libFuzzer, clang, ASan+UBSan): build the `fuzz` preset, run the committed corpus, then
# SECONDS (default 60) of new inputs. Prints the executions and whether anything was found; exits non-zero on a crash.
#   bash scripts/fuzz.sh          # 60 s
#   bash scripts/fuzz.sh 600      # longer
# A crashing input is kept as build/fuzz/findings/crash-*; replay it with: build/fuzz/tests/fuzz/fuzz_cbf FILE
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
JOBS=${JOBS:-$(nproc)}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$JOBS" --target fuzz_cbf >/dev/null
FUZZER=build/fuzz/tests/fuzz/fuzz_cbf
OUT=build/fuzz/findings
rm -rf "$OUT" && mkdir -p "$OUT/corpus"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Inputs up to 16 KiB; a reader must refuse large images before allocating, so 512 MB of RSS is plenty.
FLAGS=(-max_len=16384 -rss_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix="$OUT/")

echo "== fuzz_cbf: committed corpus (tests/fuzz/corpus, $(ls tests/fuzz/corpus | wc -l) files)"
status=0
"$FUZZER" "${FLAGS[@]}" -runs=0 tests/fuzz/corpus >"$OUT/corpus.log" 2>&1 || status=$?
if [ $status -ne 0 ]; then
  tail -40 "$OUT/corpus.log"
  echo "== fuzz_cbf: the committed corpus CRASHES (exit $status); see $OUT/"
  exit 1
fi
grep -E "stat::number_of_executed_units" "$OUT/corpus.log" | sed 's/^/   /'

echo "== fuzz_cbf: ${SECS}s of new inputs"
"$FUZZER" "${FLAGS[@]}" -max_total_time="$SECS" "$OUT/corpus" tests/fuzz/corpus >"$OUT/fuzz.log" 2>&1 || status=$?
execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$OUT/fuzz.log" | awk '{print $2}' | tail -1)
cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$OUT/fuzz.log" | tail -1)
echo "   executions: ${execs:-?}   coverage: ${cov:-?}   new corpus inputs: $(ls "$OUT/corpus" | wc -l)"
if [ $status -ne 0 ] || ls "$OUT"/crash-* "$OUT"/leak-* "$OUT"/timeout-* "$OUT"/oom-* >/dev/null 2>&1; then
  grep -E "ERROR|SUMMARY|==[0-9]+==|runtime error" "$OUT/fuzz.log" | head -20 || true
  echo "== fuzz_cbf: FOUND a problem (exit $status): $(ls "$OUT" | grep -E '^(crash|leak|timeout|oom)-' | tr '\n' ' ')"
  exit 1
fi
echo "== fuzz_cbf: nothing found"

# The bitshuffle-LZ4 decoder: its committed seeds, then BSLZ4_SECS (default 30) of new inputs.
BSECS=${BSLZ4_SECS:-30}
cmake --build --preset fuzz -j"$JOBS" --target fuzz_bslz4 >/dev/null
BFUZZER=build/fuzz/tests/fuzz/fuzz_bslz4
BOUT=build/fuzz/findings_bslz4
rm -rf "$BOUT" && mkdir -p "$BOUT/corpus"
echo "== fuzz_bslz4: committed seeds + ${BSECS}s of new inputs"
bstatus=0
"$BFUZZER" "${FLAGS[@]/#-artifact_prefix=*/-artifact_prefix=$BOUT/}" -max_total_time="$BSECS" "$BOUT/corpus" \
  tests/fuzz/corpus_bslz4 >"$BOUT/fuzz.log" 2>&1 || bstatus=$?
execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$BOUT/fuzz.log" | awk '{print $2}' | tail -1)
echo "   executions: ${execs:-?}   new corpus inputs: $(ls "$BOUT/corpus" | wc -l)"
if [ $bstatus -ne 0 ] || ls "$BOUT"/crash-* "$BOUT"/leak-* "$BOUT"/timeout-* "$BOUT"/oom-* >/dev/null 2>&1; then
  grep -E "ERROR|SUMMARY|==[0-9]+==|runtime error" "$BOUT/fuzz.log" | head -20 || true
  echo "== fuzz_bslz4: FOUND a problem (exit $bstatus); see $BOUT/"
  exit 1
fi
echo "== fuzz_bslz4: nothing found"
