#!/usr/bin/env bash
# CPU latency of efficientnet-bench against TorchScript optimize_for_inference (the anchor) on this machine:
# ROUNDS alternations of the two, 30 timed calls each, then the median of the per-round medians of each.
# Usage: benchmarks/cpu_benchmark.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-6}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), 2 torch threads, batch 1"
for _ in $(seq "$rounds"); do
  /usr/bin/python3 "$root/benchmarks/anchors.py" --device cpu --batches 1 --iterations 30 --warmup 5 | grep optimize_for >> "$log"
  "$build/app/bench/efficientnet-bench" --device cpu --threads 2 --batches 1 --iterations 30 --warmup 5 --only tensors | tail -1 >> "$log"
done
python3 - "$log" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
ms = lambda r: float(r[r.index("ms") - 1])
anchor = [ms(r) for r in rows if r[0] == "anchor"]
ours = [ms(r) for r in rows if r[0] == "tensor"]
print("TorchScript optimize_for_inference:", " ".join(f"{v:.1f}" for v in anchor), f"median {statistics.median(anchor):.2f} ms")
print("efficientnet-bench (engine):       ", " ".join(f"{v:.1f}" for v in ours), f"median {statistics.median(ours):.2f} ms")
print(f"ratio anchor/engine: {statistics.median(anchor) / statistics.median(ours):.2f}x (above 1: the engine is faster)")
PY
