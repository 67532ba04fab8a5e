#!/usr/bin/env bash
# Head-only fine-tuning of B0 on 100 photos on this machine's CPU (issue 14, point 4): 100 camera-like JPEGs made
# from the bundled samples (benchmarks/make_photos.py), split into two class folders, trained with
# `efficientnet-cli train --train head` (10 epochs, no validation split) from torchvision-layout B0 weights saved by
# Debian's torchvision (random values: the time does not depend on them). Prints the whole command's wall time and
# the report's split between preparation (decoding + the backbone's features) and the epochs.
# Usage: benchmarks/train_cpu.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/benchmarks/make_photos.py" --samples "$root/resources/samples" --out "$work/photos" --count 100
mkdir -p "$work/data/first" "$work/data/second"
i=0
for photo in "$work"/photos/*.jpg; do
  if [ $((i % 2)) -eq 0 ]; then mv "$photo" "$work/data/first/"; else mv "$photo" "$work/data/second/"; fi
  i=$((i + 1))
done
/usr/bin/python3 -c "import torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.efficientnet_b0().eval().state_dict(), '$work/b0.pth')"
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$build/app/cli/efficientnet-cli" train "$work/data" --model efficientnet_b0 --weights "$work/b0.pth" --train head \
    --epochs 10 --val-split 0 --no-progress --out "$work/taught.safetensors" --report "$work/report.json" > /dev/null
end=$(date +%s.%N)
/usr/bin/python3 - "$work/report.json" "$start" "$end" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
total = float(sys.argv[3]) - float(sys.argv[2])
epochs = sum(e["seconds"] for e in report["epochs"])
print(f"head-only B0, {report.get('train_images')} training images, 10 epochs: {total:.1f} s in all "
      f"(preparation {report.get('preparation_seconds', float('nan')):.1f} s, epochs {epochs:.2f} s)")
PY
