#!/usr/bin/env bash
# The README's test command: installs what is missing, builds (release + ASan/UBSan), runs every test,
# then runs the libFuzzer target over its corpus under the sanitizers.
#   bash scripts/test.sh            # everything
#   XRD_SKIP_ASAN=1 bash scripts/test.sh   # release tests only (faster, for local iteration)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
bash scripts/setup.sh

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j"$JOBS"
echo "== release tests"
ctest --preset release -j"$JOBS" --timeout 600

if [ "${XRD_SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan+UBSan build"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$JOBS"
  echo "== ASan+UBSan tests"
  ctest --preset asan -j"$JOBS" --timeout 900
fi

if [ "${XRD_SKIP_FUZZ:-0}" != 1 ] && [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "== fuzz (libFuzzer, ASan+UBSan): every target, its corpus + ${XRD_FUZZ_SECONDS:-20}s of new inputs each"
  bash scripts/fuzz.sh "${XRD_FUZZ_SECONDS:-20}"
fi
echo "== all tests passed"
