#!/usr/bin/env bash
# Builds what the device machine runs (it has drivers and base libraries, no compiler, no Boost, no oneTBB):
#   bundle/bin/     xrdbench, xrdbench_micro and the OpenCL test binaries (Release, rpath $ORIGIN/../lib)
#   bundle/lib/     the shared libraries they need beyond glibc, libstdc++ and the OpenCL ICD loader
#   bundle/shared/  the fixtures the tests and benchmarks read (set XRD_SHARED_DIR to it)
#   bundle/env.sh   `source bundle/env.sh` sets LD_LIBRARY_PATH and XRD_SHARED_DIR
# Then: run with carry=["bundle"] and `bash scripts/device_bench.sh` (bundle/ is gitignored).
#   bash scripts/make_bundle.sh          # build dir: build-bundle (XRD_BUNDLE_BUILD to change it)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${XRD_BUNDLE_BUILD:-build-bundle}
JOBS=${JOBS:-$(nproc)}
SHARED=${XRD_SHARED_DIR:-../shared}
TARGETS=(xrdbench xrdbench_micro test_ocl_decode test_ocl_engine)

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DXRD_BUILD_TESTS=ON -DXRD_BUILD_BENCH=ON \
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath,\$ORIGIN/../lib" >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"

rm -rf bundle
mkdir -p bundle/bin bundle/lib bundle/shared/fixtures
for t in "${TARGETS[@]}"; do
  f=$(find "$BUILD" -type f -name "$t" -perm -u+x | head -n 1)
  [ -n "$f" ] || { echo "make_bundle: $t was not built" >&2; exit 1; }
  cp "$f" bundle/bin/
  strip --strip-unneeded "bundle/bin/$t"
done

# Every library the binaries load, except the base system the device machine has (glibc, libstdc++, libgcc) and
# the OpenCL ICD loader (the driver's own must be used).
base='/(ld-linux[^/]*|libc|libm|libpthread|libdl|librt|libresolv|libstdc\+\+|libgcc_s|libOpenCL)\.so'
for b in bundle/bin/*; do ldd "$b"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -Ev "$base" | while read -r lib; do cp -L "$lib" bundle/lib/; done

cp -r "$SHARED/fixtures/cbf" "$SHARED/fixtures/real" "$SHARED/fixtures/pilatus2m_mask.cbf" bundle/shared/fixtures/
mkdir -p bundle/shared/paper && cp "$SHARED/paper/table1.csv" "$SHARED/paper/facts.md" bundle/shared/paper/  # table1 needs it
git rev-parse --short HEAD > bundle/COMMIT 2>/dev/null || echo unknown > bundle/COMMIT  # no .git travels
cat > bundle/env.sh <<'EOF'
# source bundle/env.sh: the bundle's libraries and fixtures
_xrd_bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LD_LIBRARY_PATH="$_xrd_bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export XRD_SHARED_DIR="$_xrd_bundle/shared"
EOF
echo "make_bundle: $(du -sh bundle | cut -f1) in bundle/ (carry limit 64 MiB)"
ls -l bundle/bin bundle/lib
