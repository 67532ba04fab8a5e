#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md): test_cuda, then the engine with the fused squeeze-and-excitation gate
# against the unfused form (EFFICIENTNET_UNFUSED_SE=1) in the same run, alternated, B0 fp16 at batch 1 and 256.
# Needs nlohmann-json carried in .device-carry/ (benchmarks/prepare_device_carry.sh). Logs to $OUT.
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
build=$PWD/build-cuda
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tp;$PWD/.device-carry" \
    -DTORCH_CUDA_ARCH_LIST=9.0a -DEFFICIENTNET_WITH_QT=OFF -DEFFICIENTNET_WITH_OPENCV=OFF \
    -DEFFICIENTNET_WITH_DOWNLOAD=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target efficientnet-bench test_cuda > "$out/build.log" 2>&1 || { grep -E -A5 "error" "$out/build.log" | head -60; exit 1; }
[ "${SKIP_TESTS:-0}" = 1 ] || { "$build/tests/test_cuda" > "$out/test_cuda.log" 2>&1 || true; grep -E "FAIL|fused|passed" "$out/test_cuda.log"; }
for round in $(seq "${ROUNDS:-2}"); do
  for mode in fused unfused; do
    if [ "$mode" = unfused ]; then export EFFICIENTNET_UNFUSED_SE=1; else unset EFFICIENTNET_UNFUSED_SE; fi
    echo "== round $round, SE $mode" | tee -a "$out/bench.log"
    "$build/app/bench/efficientnet-bench" --device cuda --precision fp16 --batches "${BATCHES:-1,256}" \
      --iterations 100 --warmup 20 --only tensors 2>&1 | grep tensor | tee -a "$out/bench.log"
  done
done
