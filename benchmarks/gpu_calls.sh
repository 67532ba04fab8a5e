#!/usr/bin/env bash
# On the GPU machine: benchmarks/gpu_desktop.sh's stages cut into device calls of at most 10 minutes each, as the
# 2026-12-03 run went (BENCHMARKS.md, "The whole product on the GPU machine"). Run them one after the other on a
# machine kept warm (a fresh machine has no build-gpu/):
#   bash benchmarks/gpu_calls.sh first    # deps; core + CLI + test_cuda (285 s at -j 2 before nproc --all; core + bench
#                                         # + test_cuda took 89 s at -j 16); test_cuda beside the rest of the build
#   bash benchmarks/gpu_calls.sh tests    # the rest of the build if unfinished; ctest but test_cuda; test_desktop_cuda
#   bash benchmarks/gpu_calls.sh folder   # benchmarks/gpu_folder.sh, 2,000 photos, one round
#   bash benchmarks/gpu_calls.sh all      # one call on a fresh machine: deps, the whole build, then ctest (but the two
#                                         # CUDA tests) beside test_cuda followed by test_desktop_cuda (about 360 s;
#                                         # this committed form ran on 2026-12-03 14:19 UTC, all passing)
#   bash benchmarks/gpu_calls.sh ab       # one call on a fresh machine: deps, CLI + bench + test_cuda; B0 with the 1x1
#                                         # convs on cuBLAS and on cuDNN; gpu_folder.sh AB=1 QUICK=1; test_cuda
#   MODELS="efficientnet_b0 ..." bash benchmarks/gpu_calls.sh all   # ... and after the tests, those models' 1x1 convs
#                                         # on cuBLAS and on cuDNN (compare below)
#   MODELS="..." bash benchmarks/gpu_calls.sh engine   # one call on a fresh machine: bench + test_cuda built; the
#                                         # default form against each of COMPARE's (default: the 1x1 convs on cuDNN) at
#                                         # BATCHES (1,16,256); then test_cuda (TESTS: only the checks named like it)
#   COMPARE="EFFICIENTNET_EXPAND_EPILOGUE=1 EFFICIENTNET_UNFUSED_DW=1" MODELS="efficientnet_b0 efficientnet_b3" \
#     BATCHES=1,16,256 ANCHORS=1 bash benchmarks/gpu_calls.sh engine   # the tiled depthwise kernel with the
#                                         # expansion's epilogue, without it, and cuDNN's; anchors; all of test_cuda
#   COMPARE=EFFICIENTNET_SEPARATE_EXCITATION=1 MODELS="efficientnet_b0 efficientnet_b3" BATCHES=1,16,256 ANCHORS=1 \
#     bash benchmarks/gpu_calls.sh engine   # the SE's excitation over many blocks against one block per sample
#   COMPARE=EFFICIENTNET_UNFUSED_HEAD=1+EFFICIENTNET_EXCITATION_PREFETCH=0 MODELS="efficientnet_b0 efficientnet_b3" \
#     BATCHES=1,8,16,256 ANCHORS=1 bash benchmarks/gpu_calls.sh engine   # the head in two kernels and the excitation's
#                                         # weights prefetched (from batch 8) against the form before both
#   COMPARE=EFFICIENTNET_GATE_PASS=1 BATCHES=1,256 TESTS=Gate bash benchmarks/gpu_calls.sh engine   # the SE's gate in
#                                         # the projection's weights against a pass of its own (+ would join variables
#                                         # of one form: VAR=1+VAR2=1); test_cuda's checks named like "Gate"
# Each writes under $OUT (logs packed by gpu_desktop.sh) and prints a summary.
set -uo pipefail
out=${OUT:-/tmp/out}
stage() {   # subfolder, gpu_desktop.sh variables...: one run of gpu_desktop.sh with its own logs
  local sub=$1
  shift
  mkdir -p "$out/$sub"
  env OUT="$out/$sub" "$@" bash benchmarks/gpu_desktop.sh > "$out/$sub.txt" 2>&1
}
environment() {   # gpu_desktop.sh's environment (its export lines), for the programs run beside it
  root=$PWD deps=$PWD/build-gpu-deps
  prefix=$deps/debian opencv=$deps/opencv
  eval "$(sed -n '/^export /p' benchmarks/gpu_desktop.sh)"
}
compare() {   # SETTING BATCHES models...: efficientnet-bench fp16 tensors, the default against SETTING (environment
              # variable=value settings, joined by +, that give the other form), alternated twice
  local setting=$1 batches=$2 model round form
  shift 2
  for model in "$@"; do
    for round in 1 2; do
      for form in default "$setting"; do
        echo "$model fp16, $form: $(env $([ "$form" = default ] || echo "$form" | tr + ' ') build-gpu/app/bench/efficientnet-bench \
          --model "$model" --device cuda --precision fp16 --batches "$batches" --iterations 100 --warmup 20 \
          --only tensors 2>&1 | grep '^tensor' | awk '{print "batch", $(NF-4), $(NF-3), "ms", $(NF-1), "img/s;"}' | tr '\n' ' ')"
      done
    done
  done
  echo "bench done at $SECONDS s"
}
case ${1:-} in
  first)
    stage core STAGES="deps build" TARGETS="test_cuda efficientnet-cli"
    echo "core, CLI and test_cuda built at $SECONDS s"
    environment
    (stdbuf -oL build-gpu/tests/test_cuda > "$out/test_cuda.log" 2>&1; echo "test_cuda rc $? at $SECONDS s" >> "$out/test_cuda.log") &
    cuda=$!
    stage all STAGES="build"
    echo "everything built at $SECONDS s"
    left=$((575 - SECONDS))
    [ $left -gt 0 ] && timeout $left tail --pid=$cuda -f /dev/null
    grep -E "FAIL|passed|rc " "$out/test_cuda.log" | tail -8
    ;;
  tests)
    stage rest STAGES="build"
    stage ctest STAGES="test" CTEST_ARGS="-E ^test_cuda$|^test_desktop_cuda$" CTEST_SECONDS=330
    tail -25 "$out/ctest.txt"
    stage desktop STAGES="desktop"
    tail -14 "$out/desktop.txt" | cut -c1-300
    ;;
  folder)
    environment
    mkdir -p "$out/folder"
    (OUT=$out/folder COUNT=2000 ROUNDS=1 timeout "${LIMIT:-300}" bash benchmarks/gpu_folder.sh) > "$out/folder.txt" 2>&1
    cat "$out/folder/folder.log"
    ;;
  all)
    stage build STAGES="deps build"
    echo "built at $SECONDS s"
    environment
    mkdir -p "$out/desktop"
    (
      timeout $((560 - SECONDS)) stdbuf -oL build-gpu/tests/test_cuda > "$out/test_cuda.log" 2>&1
      echo "test_cuda rc $? at $SECONDS s" >> "$out/test_cuda.log"
      (cd build-gpu/tests && QT_QPA_PLATFORM=offscreen timeout $((570 - SECONDS)) ./test_desktop_cuda > "$out/desktop_cuda.log" 2>&1
       echo "test_desktop_cuda rc $? at $SECONDS s" >> "$out/desktop_cuda.log")
    ) &
    gpu=$!
    (cd build-gpu && timeout $((565 - SECONDS)) ctest --output-on-failure --timeout 300 -j 8 -E "^test_cuda$|^test_desktop_cuda$") > "$out/ctest.log" 2>&1
    echo "ctest done at $SECONDS s"
    grep -E "tests passed|tests failed|\*\*\*|Failed|Timeout" "$out/ctest.log" | cut -c1-200 | tail -40
    wait $gpu
    grep -E "FAIL|passed|rc " "$out/test_cuda.log" | cut -c1-300 | tail -10
    grep -E "FAIL|Totals|rc " "$out/desktop_cuda.log" | cut -c1-300 | tail -10
    # The 1x1 convs on cuDNN at every batch size against the default (cuBLAS below batch 32) for MODELS.
    [ -z "${MODELS:-}" ] || compare EFFICIENTNET_POINTWISE=cudnn 1,256 $MODELS
    ;;
  ab)   # one call on a fresh machine: the folder pipeline (issue 16) and the 1x1 convs on cuBLAS (issue 17), each
        # against the other form in the same call; then test_cuda
    stage build STAGES="deps build" TARGETS="efficientnet-cli efficientnet-bench test_cuda"
    echo "built at $SECONDS s"
    environment
    compare EFFICIENTNET_POINTWISE=cudnn 1,256 efficientnet_b0
    mkdir -p "$out/folder"
    (OUT=$out/folder COUNT=2000 ROUNDS=1 AB=1 QUICK=1 timeout 240 bash benchmarks/gpu_folder.sh) > "$out/folder.txt" 2>&1
    cut -c1-400 "$out/folder/folder.log"
    echo "folder done at $SECONDS s"
    timeout $((585 - SECONDS)) stdbuf -oL build-gpu/tests/test_cuda > "$out/test_cuda.log" 2>&1
    echo "test_cuda rc $? at $SECONDS s"
    grep -E "FAIL|passed" "$out/test_cuda.log" | cut -c1-300 | tail -10
    ;;
  engine)   # one call on a fresh machine: deps, bench + test_cuda; each COMPARE form against the default for MODELS,
            # PyTorch's anchors after them when ANCHORS=1, then test_cuda in the time left
    stage build STAGES="deps build" TARGETS="efficientnet-bench test_cuda"
    echo "built at $SECONDS s"
    environment
    for setting in ${COMPARE:-EFFICIENTNET_POINTWISE=cudnn}; do
      compare "$setting" "${BATCHES:-1,16,256}" ${MODELS:-efficientnet_b0}
    done
    if [ "${ANCHORS:-0}" = 1 ]; then
      timeout 150 python3 benchmarks/anchors.py --batches 1,256 --compile-batches 1,256 \
        --compile-modes reduce-overhead > "$out/anchors.log" 2>&1
      grep -E "^anchor" "$out/anchors.log"
      echo "anchors done at $SECONDS s"
    fi
    timeout $((585 - SECONDS)) stdbuf -oL build-gpu/tests/test_cuda ${TESTS:-} > "$out/test_cuda.log" 2>&1
    echo "test_cuda rc $? at $SECONDS s"
    grep -E "FAIL|passed" "$out/test_cuda.log" | cut -c1-300 | tail -10
    ;;
  *) echo "usage: $0 first|tests|folder|all|ab|engine" >&2; exit 2 ;;
esac
