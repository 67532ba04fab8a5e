#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md): per-kernel profile of a model's forward (default B0, fp16, 224) at batch 1
# and 256, for this project's engine (efficientnet-bench --profile-trace: CUDA-graph replay as it runs, and the same
# kernels launched eagerly, which names the operator behind each) and for torchvision eager fp16 channels_last
# (anchors.py --profile-trace), all traced by the PyTorch/Kineto profiler in one run. benchmarks/profile_table.py turns
# the traces into the category table of BENCHMARKS.md. Writes to $OUT: gpu.txt, bench.log, anchors.log, profile.md
# (the tables), kernels.txt (the heaviest kernels with their categories) and traces.tar.gz (the Chrome traces; open in
# chrome://tracing or Perfetto, or run profile_table.py on them again).
# Needs nlohmann-json's headers and CMake config carried in .device-carry/ (benchmarks/prepare_device_carry.sh).
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
build=$PWD/build-cuda
model=${MODEL:-efficientnet_b0}
batches=${BATCHES:-1 256}
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuDNN', torch.backends.cudnn.version())" | tee -a "$out/gpu.txt"
echo "nsys: $(command -v nsys || echo 'not on PATH')" | tee -a "$out/gpu.txt"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tp;$PWD/.device-carry" \
    -DTORCH_CUDA_ARCH_LIST=9.0a -DEFFICIENTNET_WITH_QT=OFF -DEFFICIENTNET_WITH_OPENCV=OFF \
    -DEFFICIENTNET_WITH_DOWNLOAD=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target efficientnet-bench > "$out/build.log" 2>&1 || { grep -E -A3 "error|Error" "$out/build.log" | head -40; exit 1; }
traces=$(mktemp -d)
# One process per batch: cuDNN autotunes per process, and the engine's eager and graph traces of one batch must come
# from the same process (profile_table.py matches their kernels by name and order).
for batch in $batches; do
  echo "== engine, batch $batch"
  "$build/app/bench/efficientnet-bench" --model "$model" --device cuda --precision fp16 --batches "$batch" \
    --only tensors --iterations 100 --warmup 20 --profile-trace "$traces" 2>&1 | tee -a "$out/bench.log"
done
echo "== torchvision"
python3 benchmarks/anchors.py --device cuda --model "$model" --batches "${batches// /,}" --iterations 100 --warmup 20 \
  --profile-trace "$traces" 2>&1 | tee "$out/anchors.log"
echo "== tables"
python3 benchmarks/profile_table.py "$traces" --timing-log "$out/bench.log" --timing-log "$out/anchors.log" \
  --kernels "$out/kernels.txt" | tee "$out/profile.md"
tar -C "$traces" -czf "$out/traces.tar.gz" .
