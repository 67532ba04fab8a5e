#!/usr/bin/env bash
# On the GPU machine (see ../shared/GPU.md), its CPU only: the ONNX Runtime anchor of issue 15 (benchmarks/onnx_anchor.sh
# with RUNNER=python: ONNX Runtime through that machine's Python onnxruntime, the models exported by its torch), after
# building efficientnet-bench against the LibTorch of its Python torch package (as benchmarks/gpu_run.sh does; the
# benchmark runs with --device cpu). Each model runs pinned with taskset to two CPUs of distinct physical cores, as
# the issue's table was taken; to fit a short lease the three models run at the same time, each on its own pair
# (siblings of those cores stay idle), so they share the L3 cache and memory bandwidth. Writes to $OUT:
# machine.txt, export.log, build.log, anchor-MODEL.log and the tables in onnx_anchor.md.
# Needs nlohmann-json's headers and CMake config carried in .device-carry/ (benchmarks/prepare_device_carry.sh), and for
# the oneDNN engine the Debian prefix of benchmarks/prepare_gpu_desktop.sh (without it the engine runs through LibTorch).
# Environment: MODELS, SECONDS_PER_CONFIG (timed seconds per configuration), DEADLINE (seconds after which a model's
# job starts no new configuration), JOB_TIMEOUT (hard stop per job; the tables keep what was measured).
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-cuda
models=${MODELS:-efficientnet_b0 efficientnet_b3 efficientnet_v2_s}
{
  grep -m1 'model name' /proc/cpuinfo; nproc; lscpu -p=CPU,CORE,SOCKET,NODE | grep -v '^#' | tr '\n' ' '; echo
  python3 -c "import torch, torchvision, onnxruntime; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'onnxruntime', onnxruntime.__version__)"
} | tee "$out/machine.txt"

# The exports (torch's ONNX exporter, untimed) while efficientnet-bench compiles.
RUNNER=python TORCH_PYTHON=python3 bash "$root/benchmarks/onnx_anchor.sh" "$root" --models "${models// /,}" \
  --export-only > "$out/export.log" 2>&1 &
export_pid=$!
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
# The CPU engine's oneDNN: Debian 12's libdnnl, from the prefix benchmarks/prepare_gpu_desktop.sh carries, where
# cmake/OneDnn.cmake finds it safe beside pip's LibTorch (its configure line says; configure.log keeps it).
dnnl_prefix=$root/build-gpu-deps/dnnl
if [ -f "$root/.device-carry/debian-prefix.tar.xz" ] && [ ! -d "$dnnl_prefix/usr" ]; then
  mkdir -p "$dnnl_prefix"
  tar -C "$dnnl_prefix" -xJf "$root/.device-carry/debian-prefix.tar.xz" --wildcards '*dnnl*' '*oneapi*'
fi
export LD_LIBRARY_PATH=$dnnl_prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$tp;$root/.device-carry;$dnnl_prefix/usr" \
    -DTORCH_CUDA_ARCH_LIST=9.0a -DEFFICIENTNET_WITH_QT=OFF -DEFFICIENTNET_WITH_OPENCV=OFF \
    -DEFFICIENTNET_WITH_DOWNLOAD=OFF -DEFFICIENTNET_WITH_PYTHON=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
grep "CPU engine" "$out/configure.log" | tee -a "$out/machine.txt" || true
SECONDS=0
cmake --build "$build" -j "$(nproc)" --target efficientnet-bench > "$out/build.log" 2>&1 ||
  { grep -E -A3 "error|Error" "$out/build.log" | head -40; exit 1; }
echo "built in $SECONDS s"
wait "$export_pid" || { cat "$out/export.log"; exit 1; }

# One CPU of each physical core (the first logical CPU the core has), leaving out the first core (where the machine's
# own chores tend to run) when there are enough; pairs of those.
mapfile -t pairs < <(python3 - <<'EOF'
import os, subprocess
rows = [l.split(",") for l in subprocess.run(["lscpu", "-p=CPU,CORE,SOCKET"], capture_output=True, text=True,
                                              check=True).stdout.splitlines() if not l.startswith("#")]
first = {}
for cpu, core, socket in rows:
    if int(cpu) in os.sched_getaffinity(0):
        first.setdefault((socket, core), int(cpu))
cpus = list(first.values())
cpus = cpus[1:] if len(cpus) >= 4 else cpus
for i in range(len(cpus) // 2):
    print(f"{cpus[2 * i]},{cpus[2 * i + 1]}")
EOF
)
echo "CPU pairs: ${pairs[*]}" | tee -a "$out/machine.txt"
i=0
pids=()
status=0
for model in $models; do
  pair=${pairs[$((i % ${#pairs[@]}))]}
  # More models than pairs: the extra ones wait for the job on their pair.
  if [ "$i" -ge "${#pairs[@]}" ]; then
    j=$((i - ${#pairs[@]}))
    wait "${pids[$j]}" || status=1
    pids[j]=""
  fi
  RUNNER=python TORCH_PYTHON=python3 taskset -c "$pair" timeout "${JOB_TIMEOUT:-240}" \
    bash "$root/benchmarks/onnx_anchor.sh" "$build" --models "$model" --batches 1,8 --threads 2,1 \
    --seconds "${SECONDS_PER_CONFIG:-20}" --deadline "${DEADLINE:-150}" --out "$out/anchor-$model.md" \
    > "$out/anchor-$model.log" 2>&1 &
  pids+=($!)
  i=$((i + 1))
done
for pid in "${pids[@]}"; do [ -z "$pid" ] || wait "$pid" || status=1; done
for model in $models; do cat "$out/anchor-$model.md" 2>/dev/null || echo "$model: no table (see anchor-$model.log)"; echo; done |
  tee "$out/onnx_anchor.md"
exit $status
