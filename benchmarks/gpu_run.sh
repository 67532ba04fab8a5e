#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md): build the Qt-free targets against the CUDA LibTorch of the Python
# torch package, run the engine benchmark and the PyTorch anchors, in one run. Logs go to $OUT.
# Needs nlohmann-json's headers and CMake config carried in .device-carry/ (benchmarks/prepare_device_carry.sh).
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
build=$PWD/build-cuda
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tp;$PWD/.device-carry" \
    -DTORCH_CUDA_ARCH_LIST=9.0a -DEFFICIENTNET_WITH_QT=OFF -DEFFICIENTNET_WITH_OPENCV=OFF \
    -DEFFICIENTNET_WITH_DOWNLOAD=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target efficientnet-bench > "$out/build.log" 2>&1 || { grep -E "error|Error" "$out/build.log" | head -30; exit 1; }
echo "== CUDA tests: not in this build (test_cuda decodes photos, so it needs OpenCV): benchmarks/gpu_fused_se.sh runs it" | tee "$out/test_cuda.log"
[ "${SKIP_BENCH:-0}" = 1 ] && exit 0
echo "== engine"; "$build/app/bench/efficientnet-bench" --device cuda --precision fp16 --batches "${BATCHES:-1,8,64,256}" \
  --iterations 100 --warmup 20 2>&1 | tee "$out/bench.log"
echo "== anchors"; python3 benchmarks/anchors.py --device cuda ${ANCHOR_ARGS:-} 2>&1 | tee "$out/anchors.log"
