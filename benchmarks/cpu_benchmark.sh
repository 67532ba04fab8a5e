#!/usr/bin/env bash
# CPU batch-1 latency of the engine against TorchScript optimize_for_inference (the anchor), in one process: the
# benchmark loads torchvision's scripted B0, applies optimize_for_inference and times the two call by call,
# alternately (efficientnet-bench --paired-anchor). This machine's speed drifts by +-20% between runs, so separate
# runs cannot rank two models a few per cent apart; interleaved calls see the same drift. Then torchvision eager
# for context (a separate run).
# Usage: benchmarks/cpu_benchmark.sh [BUILD_DIR] [PAIRS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
pairs=${2:-100}
scripted=$(mktemp --suffix=.pt)
trap 'rm -f "$scripted"' EXIT
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), 2 torch threads, batch 1"
/usr/bin/python3 "$root/benchmarks/anchors.py" --device cpu --save-scripted "$scripted"
"$build/app/bench/efficientnet-bench" --device cpu --threads 2 --batches 1 --iterations "$pairs" --warmup 10 \
  --paired-anchor "$scripted" | grep '^paired'
/usr/bin/python3 "$root/benchmarks/anchors.py" --device cpu --batches 1 --iterations 30 --warmup 5 | grep eager
