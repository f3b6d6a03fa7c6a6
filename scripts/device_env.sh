# The environment every scripts/device_*.sh sets up on the device machine, in one place. Sourced (not run) from the
# repository root, after `cd "$(dirname "$0")/.."`:
#   source scripts/device_env.sh NAME || exit 1             # the bundle is required
#   XRD_BUNDLE_OPTIONAL=1 source scripts/device_env.sh NAME  # used when present (device_mpi.sh's dry run with XRD_BIN)
# It
#   - checks that bundle/ (scripts/make_bundle.sh, carried with carry=["bundle"]) is there, else says so naming NAME
#     and returns 1;
#   - sources bundle/env.sh: LD_LIBRARY_PATH to bundle/lib, XRD_SHARED_DIR to bundle/shared, the bundle's Open MPI
#     (PATH, OPAL_PREFIX, component paths) when it carries one;
#   - registers the NVIDIA OpenCL driver with the ICD loader (/etc/OpenCL/vendors/nvidia.icd: the driver is installed
#     but not registered on that machine), when /etc is writable and it is not registered yet; OCL_ICD_VENDORS, when
#     the caller set it, is left to the loader as it is;
#   - exports XRD_COMMIT (bundle/COMMIT, the commit the bundle was built from; results.json records it);
#   - sets B to the xrdbench to run: $XRD_BIN, else bundle/bin/xrdbench (absolute).
_xrd_env_name=${1:-device}
if [ ! -d bundle/bin ] && [ -z "${XRD_BUNDLE_OPTIONAL:-}" ]; then
  echo "$_xrd_env_name: no bundle/ (run scripts/make_bundle.sh and carry it)" >&2
  return 1
fi
[ -f bundle/env.sh ] && source bundle/env.sh
if [ -w /etc ] && [ ! -f /etc/OpenCL/vendors/nvidia.icd ]; then
  mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
fi
export XRD_COMMIT=${XRD_COMMIT:-$(cat bundle/COMMIT 2>/dev/null || echo unknown)}
B=${XRD_BIN:-$PWD/bundle/bin/xrdbench}
unset _xrd_env_name
