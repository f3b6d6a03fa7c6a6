#!/usr/bin/env bash
# Installs the Debian 12 packages xrdbench needs, only those missing. Idempotent; run as root (or with sudo).
#   bash scripts/setup.sh           # what the build, the tests and the reports need
#   bash scripts/setup.sh --peers   # also the peers the comparison scripts time beside us (pyFAI 0.21); the tests
#                                   # never need them
set -euo pipefail
PEERS=0
for arg in "$@"; do
  case "$arg" in
    --peers) PEERS=1 ;;
    -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown argument '$arg' (expected --peers)" >&2; exit 2 ;;
  esac
done
PKGS=(
  build-essential cmake pkg-config git
  libbenchmark-dev libtbb-dev libhdf5-dev hdf5-tools liblz4-dev
  libboost-program-options-dev catch2 nlohmann-json3-dev libssl-dev liburing-dev
  ocl-icd-opencl-dev opencl-headers opencl-clhpp-headers pocl-opencl-icd clinfo
  clang libclang-rt-14-dev
  python3-matplotlib python3-numpy python3-fabio python3-h5py python3-jsonschema python3-venv libtiff-dev bitshuffle
  libopenmpi-dev openmpi-bin
)
PEER_PKGS=(python3-pyfai)
if [ "$PEERS" = 1 ]; then PKGS+=("${PEER_PKGS[@]}"); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
