#!/usr/bin/env bash
# Command (b) of the README: install what is missing, build everything, and run every test.
# The reference data (weights and logits from torchvision) is generated in the build tree by the first test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" -DEFFICIENTNET_BUILD_TESTS=ON
cd "$build"
ctest --output-on-failure --timeout 1800 -j "${JOBS:-$(nproc)}" "$@"
