#!/usr/bin/env bash
# Folder classification on this machine: efficientnet-cli against a plain Python torchvision script, on the same
# 200 photos and the same weights, run one after the other; wall time of each whole command (model load included).
# Usage: benchmarks/folder_benchmark.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/benchmarks/make_photos.py" --samples "$root/resources/samples" --out "$work/photos" --count 200
/usr/bin/python3 -c "import torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.efficientnet_b0().eval().state_dict(), '$work/b0.pth')"
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for run in 1 2; do
  /usr/bin/python3 "$root/benchmarks/folder_python.py" --weights "$work/b0.pth" "$work/photos" > /dev/null
  start=$(date +%s.%N)
  "$build/app/cli/efficientnet-cli" classify --model efficientnet_b0 --weights "$work/b0.pth" --no-progress \
      --csv "$work/out.csv" "$work/photos" > /dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'efficientnet-cli: 200 images in {$end - $start:.2f} s = {200 / ($end - $start):.2f} img/s')" >&2
done
