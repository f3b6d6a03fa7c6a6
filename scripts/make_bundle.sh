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

# Open MPI's runtime for `mpirun -n R bundle/bin/xrdbench ...` (scripts/device_mpi.sh) on machines without
# openmpi-bin: mpirun (orterun), orted, Open MPI's and PMIx's plugins and help files, laid out as Debian's /usr prefix
# under bundle/ompi so that OPAL_PREFIX relocates it (env.sh always puts it first on PATH); the
# libraries they load go to bundle/lib with the others.
OMPI_LIB=lib/x86_64-linux-gnu/openmpi/lib  # Debian's libdir, relative to its prefix /usr
PMIX=lib/x86_64-linux-gnu/pmix2
if [ -x /usr/bin/orterun ] && [ -d "/usr/$OMPI_LIB/openmpi3" ]; then
  mkdir -p bundle/ompi/bin "bundle/ompi/$OMPI_LIB" bundle/ompi/share "bundle/ompi/$PMIX"
  cp -L /usr/bin/orterun bundle/ompi/bin/mpirun
  cp -L /usr/bin/orted bundle/ompi/bin/orted
  cp -r "/usr/$OMPI_LIB/openmpi3" "bundle/ompi/$OMPI_LIB/"
  # One host needs shared memory only: no network transports (InfiniBand, OFI, UCX, PSM) nor OpenSHMEM, whose
  # libraries would fill the carry limit. device_mpi.sh selects btl self,vader and pml ob1.
  find "bundle/ompi/$OMPI_LIB/openmpi3" \( -name '*openib*' -o -name '*ofi*' -o -name '*ucx*' -o -name '*psm*' \
    -o -name 'mca_memheap_*' -o -name 'mca_scoll_*' -o -name 'mca_spml_*' -o -name 'mca_sshmem_*' \
    -o -name 'mca_atomic_*' \) -delete
  cp -r /usr/share/openmpi bundle/ompi/share/
  [ -d "/usr/$PMIX" ] && cp -r "/usr/$PMIX/lib" "/usr/$PMIX/share" "bundle/ompi/$PMIX/" 2>/dev/null
  find bundle/ompi -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null
  ompi_bins=(bundle/ompi/bin/* $(find bundle/ompi -name '*.so'))
else
  echo "make_bundle: no Open MPI here (openmpi-bin): the bundle carries no mpirun" >&2
  ompi_bins=()
fi

# Every library the binaries load, except the base system the device machine has (glibc, libstdc++, libgcc) and
# the OpenCL ICD loader (the driver's own must be used).
base='/(ld-linux[^/]*|libc|libm|libpthread|libdl|librt|libresolv|libstdc\+\+|libgcc_s|libOpenCL)\.so'
for b in bundle/bin/* "${ompi_bins[@]}"; do ldd "$b" 2>/dev/null; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
  sort -u | grep -Ev "$base" | while read -r lib; do cp -L "$lib" bundle/lib/; done

cp -r "$SHARED/fixtures/cbf" "$SHARED/fixtures/real" "$SHARED/fixtures/pilatus2m_mask.cbf" bundle/shared/fixtures/
mkdir -p bundle/shared/paper && cp "$SHARED/paper/table1.csv" "$SHARED/paper/facts.md" bundle/shared/paper/  # table1 needs it
git rev-parse --short HEAD > bundle/COMMIT 2>/dev/null || echo unknown > bundle/COMMIT  # no .git travels
cat > bundle/env.sh <<'EOF'
# source bundle/env.sh: the bundle's libraries and fixtures
_xrd_bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LD_LIBRARY_PATH="$_xrd_bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export XRD_SHARED_DIR="$_xrd_bundle/shared"
# Open MPI: the bundle's, always (xrdbench is linked against its libmpi; a machine's own mpirun of another build
# fails on PMIx symbols), relocated with OPAL_PREFIX, its plugins and PMIx's
# found through their component paths).
if [ -x "$_xrd_bundle/ompi/bin/mpirun" ]; then
  export PATH="$_xrd_bundle/ompi/bin:$PATH"
  export OPAL_PREFIX="$_xrd_bundle/ompi"
  export OMPI_MCA_mca_base_component_path="$_xrd_bundle/ompi/lib/x86_64-linux-gnu/openmpi/lib/openmpi3"
  export PMIX_MCA_mca_base_component_path="$_xrd_bundle/ompi/lib/x86_64-linux-gnu/pmix2/lib/pmix"
  export PMIX_INSTALL_PREFIX="$_xrd_bundle/ompi/lib/x86_64-linux-gnu/pmix2"
fi
EOF
echo "make_bundle: $(du -sh bundle | cut -f1) in bundle/ (carry limit 64 MiB)"
ls -l bundle/bin bundle/lib
