#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md): fine-tuning step of B0 (issue 14, point 4), batch 64, 224 px, fp16
# autocast: this project's step (efficientnet-bench --train-step) with its memory-efficient swish and with the plain
# x * sigmoid(x) autograd, and PyTorch's own step (benchmarks/train_anchor.py: torchvision, eager, AMP,
# channels_last), alternated for ROUNDS rounds in one run. test_cuda (which checks the training step in fp16 and bf16
# against fp32 and the swish's memory saving) needs OpenCV: benchmarks/gpu_fused_se.sh. Logs to $OUT: gpu.txt,
# build.log, train.log.
# Needs nlohmann-json's headers and CMake config carried in .device-carry/ (benchmarks/prepare_device_carry.sh).
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
build=$PWD/build-cuda
model=${MODEL:-efficientnet_b0}
batch=${BATCH:-64}
rounds=${ROUNDS:-2}
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuDNN', torch.backends.cudnn.version())" | tee -a "$out/gpu.txt"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tp;$PWD/.device-carry" \
    -DTORCH_CUDA_ARCH_LIST=9.0a -DEFFICIENTNET_WITH_QT=OFF -DEFFICIENTNET_WITH_OPENCV=OFF \
    -DEFFICIENTNET_WITH_DOWNLOAD=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target efficientnet-bench > "$out/build.log" 2>&1 || { grep -E -A3 "error|Error" "$out/build.log" | head -40; exit 1; }
bench="$build/app/bench/efficientnet-bench"
for round in $(seq "$rounds"); do
  echo "== round $round" | tee -a "$out/train.log"
  "$bench" --model "$model" --device cuda --precision fp16 --train-step "$batch" --warmup 10 --iterations 30 2>&1 | tee -a "$out/train.log"
  "$bench" --model "$model" --device cuda --precision fp16 --train-step "$batch" --plain-swish --warmup 10 --iterations 30 2>&1 | tee -a "$out/train.log"
  python3 benchmarks/train_anchor.py --model "$model" --batch "$batch" --precision fp16 2>&1 | tee -a "$out/train.log"
done
[ "${SKIP_TESTS:-0}" = 1 ] && exit 0
echo "== CUDA tests: not in this build (test_cuda decodes photos, so it needs OpenCV): benchmarks/gpu_fused_se.sh runs it" | tee "$out/test_cuda.log"
