#!/usr/bin/env bash
# Installs the Debian 12 packages xrdbench needs, only those missing. Idempotent; run as root (or with sudo).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  libbenchmark-dev libtbb-dev libhdf5-dev hdf5-tools
  libboost-program-options-dev catch2 nlohmann-json3-dev libssl-dev
  ocl-icd-opencl-dev opencl-headers opencl-clhpp-headers pocl-opencl-icd clinfo
  clang libclang-rt-14-dev
  python3-matplotlib python3-numpy python3-fabio
)
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
