#!/usr/bin/env bash
# Command (b) of the README: install what is missing, build everything, and run every test; then the sanitizer stage
# (scripts/sanitize.sh: the readers' and the console tool's tests under ASan + UBSan, and every fuzz target for a
# short time). SANITIZE=0 skips that stage. The reference data (weights and logits from torchvision) is generated in
# the build tree by the first test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" -DEFFICIENTNET_BUILD_TESTS=ON
(cd "$build" && ctest --output-on-failure --timeout 1800 -j "${JOBS:-$(nproc)}" "$@")
if [ "${SANITIZE:-1}" != 0 ]; then
  BUILD_DIR=$build "$root/scripts/sanitize.sh"
fi
