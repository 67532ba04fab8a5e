#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the project builds and tests with, if any are missing.
# Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libtorch-dev nlohmann-json3-dev libopencv-dev
  libdnnl-dev   # the CPU engine's oneDNN, the one Debian's LibTorch links (core/src/engine/cpu)
  ocl-icd-opencl-dev   # Debian's oneDNN CMake package requires OpenCL (its GPU runtime) to load at all
  libcurl4-openssl-dev libssl-dev   # efficientnet-cli download (optional: the build goes on without them)
  qt6-base-dev
  qt6-multimedia-dev   # names the cameras in the desktop app (optional: without it the box offers indices)
  dpkg-dev file   # cpack -G DEB computes the dependencies with dpkg-shlibdeps, finding the ELF files with file
  nsis   # makensis: the NSIS installer script is compiled by the package_nsis test
  g++-mingw-w64-x86-64-posix   # the Windows build check (tests/windows): MinGW-w64 compiles the sources for Windows
  python3-torch python3-torchvision python3-numpy python3-pil   # the reference implementation for the tests
  pybind11-dev python3-dev python3-pytest   # the Python package (python/) and its tests
  python3-venv python3-setuptools python3-wheel   # its offline pip install (the README's, and python_wheel)
  clang libclang-rt-14-dev   # the sanitizer build and the libFuzzer targets (scripts/sanitize.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "bootstrap: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
