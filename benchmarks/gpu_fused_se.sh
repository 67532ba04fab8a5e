#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md): test_cuda, then the engine with a fused form against its unfused form in
# the same run, alternated, fp16 at batch 1 and 256 (issue 17). Which form: UNFUSED names the variable that turns
# it off (EFFICIENTNET_UNFUSED_SE, the default: the squeeze-and-excitation gate; EFFICIENTNET_UNFUSED_DW: the
# depthwise conv with its bias, SiLU and the squeeze). MODELS (default efficientnet_b0), BATCHES (1,256), ROUNDS (2),
# SKIP_TESTS=1, ANCHORS=1: PyTorch's anchors (eager, CUDA graph, torch.compile reduce-overhead) after, in the same
# call. Needs .device-carry/ from benchmarks/prepare_gpu_desktop.sh. Logs to $OUT.
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
unfused=${UNFUSED:-EFFICIENTNET_UNFUSED_SE}
# gpu_desktop.sh's build (test_cuda decodes the sample photos: OpenCV from .device-carry/, made here by
# benchmarks/prepare_gpu_desktop.sh) and its environment for the programs it built.
(OUT=$out/build STAGES="deps build" TARGETS="efficientnet-bench test_cuda" bash benchmarks/gpu_desktop.sh) \
  > "$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
root=$PWD deps=$PWD/build-gpu-deps
prefix=$deps/debian opencv=$deps/opencv
eval "$(sed -n '/^export /p' benchmarks/gpu_desktop.sh)"
build=$PWD/build-gpu
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
echo "built at $SECONDS s"
[ "${SKIP_TESTS:-0}" = 1 ] || { "$build/tests/test_cuda" > "$out/test_cuda.log" 2>&1 || true; grep -E "FAIL|fused|passed" "$out/test_cuda.log" | cut -c1-260; }
for model in ${MODELS:-efficientnet_b0}; do
  for round in $(seq "${ROUNDS:-2}"); do
    for mode in fused unfused; do
      if [ "$mode" = unfused ]; then export "$unfused=1"; else unset "$unfused"; fi
      echo "== $model, round $round, $unfused: $mode" | tee -a "$out/bench.log"
      "$build/app/bench/efficientnet-bench" --model "$model" --device cuda --precision fp16 --batches "${BATCHES:-1,256}" \
        --iterations 100 --warmup 20 --only tensors 2>&1 | grep tensor | tee -a "$out/bench.log"
    done
  done
done
unset "$unfused"
if [ "${ANCHORS:-0}" = 1 ]; then
  python3 benchmarks/anchors.py --batches "${BATCHES:-1,256}" --compile-batches "${BATCHES:-1,256}" \
    --compile-modes reduce-overhead 2>&1 | grep -E "^anchor" | tee -a "$out/bench.log"
fi
echo "done at $SECONDS s"
