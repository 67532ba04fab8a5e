#!/usr/bin/env bash
# On the GPU machine, after benchmarks/gpu_desktop.sh's build stage (issue 16, point 3): folder classification on the
# GPU. efficientnet-cli classify --device cuda (B0, fp16 by default there; decoding on every core, and with
# --decode gpu on the GPU's hardware JPEG decoder) against
# benchmarks/folder_torch_gpu.py in its two modes (DataLoader workers; nvJPEG on the GPU), on the same photos and the
# same weights, alternated, ROUNDS rounds. Wall time of each whole command, model load included. The console tool
# runs without cuDNN autotuning (its default) and with --autotune; each script with cudnn.benchmark on and off.
#   COUNT photos (default 3000), LONG_SIDE (default 1280,1920: webcam to downsized-phone sizes), ROUNDS (2).
#   AB=1 adds, alternated with the default: --decode gpu one batch at a time (EFFICIENTNET_FOLDER_WORKERS=1: no
#   decoding of the next batches while one is classified) and with the 1x1 convs on cuDNN (EFFICIENTNET_POINTWISE=cudnn;
#   the default runs them on cuBLAS).
#   QUICK=1 leaves out --autotune and the scripts with cudnn.benchmark on (slower than off in every run so far).
# Writes $OUT/folder.log.
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
cli=$root/build-gpu/app/cli/efficientnet-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=${COUNT:-3000}
jobs=$(nproc --all)   # --all: gpu_desktop.sh's OMP_NUM_THREADS=2 would make nproc say 2
# The photos made on every core at once: one generator per core, each with its own seed and file prefix.
for ((j = 0; j < jobs; j++)); do
  python3 "$root/benchmarks/make_photos.py" --samples "$root/resources/samples" --out "$work/photos" \
    --count $(((count + jobs - 1) / jobs)) --seed "$j" --prefix "p$(printf %02d "$j")" --long-side "${LONG_SIDE:-1280,1920}" &
done
wait
python3 -c "import torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.efficientnet_b0().eval().state_dict(), '$work/b0.pth')"
n=$(ls "$work/photos" | wc -l)
{
  nvidia-smi --query-gpu=name --format=csv,noheader
  echo "$(nproc --all) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $n photos, $(du -sm "$work/photos" | cut -f1) MB"
} | tee "$out/folder.log"
timed() {   # label, command...: wall time of the whole command
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" > "$work/stdout" 2> "$work/stderr" || { echo "$label failed:"; tail -5 "$work/stderr"; return 0; }
  end=$(date +%s.%N)
  python3 -c "print(f'$label: $n images in {$end - $start:.2f} s = {$n / ($end - $start):.0f} img/s (whole command)')"
  grep -E "^torch " "$work/stderr" || true
}
for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
  timed "efficientnet-cli classify --device cuda" "$cli" classify --device cuda --model efficientnet_b0 \
    --weights "$work/b0.pth" --no-progress --timings --csv "$work/out.csv" "$work/photos"
  grep -h "^timings" "$work/stderr" || true
  timed "efficientnet-cli classify --device cuda --decode gpu" "$cli" classify --device cuda --decode gpu \
    --model efficientnet_b0 --weights "$work/b0.pth" --no-progress --timings --csv "$work/out_gpu.csv" "$work/photos"
  grep -h "^note\|^timings" "$work/stderr" || true
  if [ "${AB:-0}" = 1 ]; then
    timed "efficientnet-cli classify --device cuda --decode gpu, one batch at a time" \
      env EFFICIENTNET_FOLDER_WORKERS=1 "$cli" classify --device cuda --decode gpu --model efficientnet_b0 --weights "$work/b0.pth" --no-progress --timings "$work/photos"
    grep -h "^timings" "$work/stderr" || true
    timed "efficientnet-cli classify --device cuda --decode gpu, 1x1 convs on cuDNN" \
      env EFFICIENTNET_POINTWISE=cudnn "$cli" classify --device cuda --decode gpu --model efficientnet_b0 --weights "$work/b0.pth" --no-progress --timings \
      --csv "$work/out_cudnn.csv" "$work/photos"
    grep -h "^timings" "$work/stderr" || true
  fi
  [ "${QUICK:-0}" = 1 ] || timed "efficientnet-cli classify --device cuda --decode gpu --autotune" "$cli" classify --device cuda --decode gpu \
    --autotune --model efficientnet_b0 --weights "$work/b0.pth" --no-progress --timings "$work/photos"
  [ "${QUICK:-0}" = 1 ] || grep -h "^timings" "$work/stderr" || true
  # The anchors at their best: cuDNN's benchmark mode on (as the torchvision references train) and off.
  for bench in $([ "${QUICK:-0}" = 1 ] && echo off || echo on off); do
    timed "torch DataLoader ($(python3 -c "import os; print(os.cpu_count())") workers) fp16 channels_last, cudnn.benchmark $bench" python3 "$root/benchmarks/folder_torch_gpu.py" \
      --mode dataloader --cudnn-benchmark $bench --weights "$work/b0.pth" "$work/photos"
    timed "torch nvJPEG decode_jpeg on the GPU fp16 channels_last, cudnn.benchmark $bench" python3 "$root/benchmarks/folder_torch_gpu.py" \
      --mode nvjpeg --cudnn-benchmark $bench --weights "$work/b0.pth" "$work/photos"
  done
done 2>&1 | tee -a "$out/folder.log"
# The CLI's answers against the DataLoader script's (the reference transform on both sides; fp16 on both).
python3 "$root/benchmarks/folder_torch_gpu.py" --mode dataloader --weights "$work/b0.pth" --print "$work/photos" \
  > "$work/torch_top.txt" 2> /dev/null
python3 - "$work/torch_top.txt" "$work/out.csv" "$work/out_gpu.csv" "$work/out_cudnn.csv" <<'PY' | tee -a "$out/folder.log"
import csv, os, sys
torch_top = {l.split()[0]: int(l.split("[")[1].split(",")[0]) for l in open(sys.argv[1])}
for label, path in (("CPU decoding", sys.argv[2]), ("--decode gpu", sys.argv[3]), ("--decode gpu, 1x1 on cuDNN", sys.argv[4])):
    if not os.path.exists(path):
        continue
    rows = [r for r in csv.DictReader(open(path)) if r["rank"] == "1"]
    same = sum(1 for r in rows if torch_top.get(os.path.basename(r["path"])) == int(r["index"]))
    print(f"top-1 agreement of the CLI ({label}) with the torch script (fp16 both, random weights): {same} of {len(rows)}")
PY
