#!/usr/bin/env bash
# Long fuzzing runs (the fuzz_* CTest tests only smoke-test each target for seconds). Needs the sanitizer build
# (scripts/sanitize.sh, or: CC=clang CXX=clang++ cmake -B build-sanitize -DEFFICIENTNET_FUZZ=ON ... and
# cmake --build build-sanitize --target fuzz_targets, then `ctest -R 'fuzz_seeds|hostile_data'` there once).
#
#   scripts/fuzz.sh [--minutes M] [--jobs J] [TARGET...]     (default: every target, 60 minutes each, one at a time)
#
# Each target keeps its corpus in build-sanitize/tests/fuzz/long/<target>/ between runs, so hours add up; a failing
# input lands there as crash-*/leak-*/oom-*/timeout-*. One Markdown table row per target is appended to
# build-sanitize/tests/fuzz/long/results.md: minutes, executions, executions/s, coverage (edges of the project's
# own code: LibTorch, OpenCV and Qt are not instrumented), features, corpus size, failures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SANITIZE_BUILD_DIR:-$root/build-sanitize}
minutes=60
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
fuzz=$build/tests/fuzz
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_unpickler fuzz_torch_zip fuzz_torch_legacy fuzz_safetensors fuzz_image
                                     fuzz_registry fuzz_labels fuzz_hub_config)
declare -A corpus=([fuzz_unpickler]=unpickler [fuzz_torch_zip]=torch_zip [fuzz_torch_legacy]=torch_legacy
                   [fuzz_safetensors]=safetensors [fuzz_image]=image [fuzz_registry]=registry [fuzz_labels]=labels
                   [fuzz_hub_config]=hub_config)
declare -A dict=([fuzz_unpickler]=pickle [fuzz_torch_zip]=zip [fuzz_torch_legacy]=pickle [fuzz_safetensors]=json
                 [fuzz_image]=image [fuzz_registry]=json [fuzz_labels]=json [fuzz_hub_config]=json)
long=$fuzz/long
mkdir -p "$long"
[ -f "$long/results.md" ] || echo "| target | minutes | executions | exec/s | coverage | features | corpus | failures | date |
|---|---|---|---|---|---|---|---|---|" > "$long/results.md"
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in "${targets[@]}"; do
  work=$long/$target
  mkdir -p "$work/corpus"
  log=$work/run-$(date +%Y%m%d-%H%M%S).log
  echo "fuzzing $target for $minutes minutes (log: $log)"
  status=0
  # libFuzzer writes fuzz-N.log for each job into the working folder: keep them beside the corpus.
  (cd "$work" && "$fuzz/$target" -max_total_time=$((minutes * 60)) -jobs="$jobs" -workers="$jobs" \
      -rss_limit_mb=1536 -malloc_limit_mb=512 -timeout=30 -print_final_stats=1 \
      -dict="$root/tests/fuzz/dicts/${dict[$target]}.dict" -artifact_prefix="$work/" \
      "$work/corpus" "$fuzz/seeds/${corpus[$target]}") > "$log" 2>&1 || status=$?
  done_line=$(grep -E "DONE|#[0-9]+.*(pulse|NEW|REDUCE)" "$log" | tail -1)
  execs=$(grep -o "stat::number_of_executed_units: [0-9]*" "$log" | awk '{s+=$2} END {print s+0}')
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<< "$done_line")
  failures=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'oom-*' \
             -o -maxdepth 1 -name 'timeout-*' | wc -l)
  rate=$(( execs / (minutes * 60) ))
  echo "| $target | $minutes | $execs | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $failures (exit $status) | $(date +%F) |" \
    | tee -a "$long/results.md"
done
