#!/usr/bin/env bash
# The sanitizer stage of the README's test command (scripts/test.sh runs it after the main tests): a second build with
# Clang, AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer targets (build-sanitize/, or
# $SANITIZE_BUILD_DIR), the tests that exercise the readers and the console tool's batch pipeline (label `sanitize`),
# then every fuzz target: saved crashers and hostile files replayed, then fuzzed for FUZZ_SMOKE_SECONDS (label `fuzz`).
# It reuses the main build's reference data ($BUILD_DIR/tests/reference), so run scripts/test.sh first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
main_build=${BUILD_DIR:-$root/build}
build=${SANITIZE_BUILD_DIR:-$root/build-sanitize}
jobs=${JOBS:-$(nproc)}
CC=${SANITIZE_CC:-clang} CXX=${SANITIZE_CXX:-clang++} \
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DEFFICIENTNET_FUZZ=ON -DEFFICIENTNET_BUILD_TESTS=ON \
        -DEFFICIENTNET_REFERENCE_DIR="$main_build/tests/reference" \
        -DFUZZ_SMOKE_SECONDS="${FUZZ_SMOKE_SECONDS:-20}" "$@"
cmake --build "$build" -j "$jobs" --target sanitize_targets
cd "$build"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The test executables: what LibTorch, Qt and OpenCV keep allocated until exit is not the project's leak, so leak
# checking is off for them; the fuzz targets check leaks per input (libFuzzer), with LibTorch's start-up suppressed.
ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure --timeout 1800 -j "$jobs" -L sanitize
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0" \
  ctest --output-on-failure --timeout 1800 -j "$jobs" -L fuzz
