#!/usr/bin/env bash
# The engine on the CPU against ONNX Runtime's CPU execution provider, alternately, same model, batch and threads
# (issue 15's anchor; benchmarks/onnx_anchor.py says how). Exports torchvision's B0, B3 and V2-S to ONNX with a python
# that has torch (Debian's python3-torch: /usr/bin/python3; the python3 first on PATH may lack it) and runs ONNX
# Runtime through the npm package onnxruntime-node 1.30.0, installed with --ignore-scripts into the cache folder (its
# bundled libonnxruntime.so is the CPU runtime, so nothing else is downloaded). RUNNER=python runs ONNX Runtime
# through the Python package instead (the GPU machine's python3 has it; benchmarks/gpu_onnx_anchor.sh).
# Usage: benchmarks/onnx_anchor.sh [BUILD_DIR] [onnx_anchor.py options...]
#   e.g. benchmarks/onnx_anchor.sh build                           # B0, B3, V2-S x batch 1, 8 x threads 1, 2
#        benchmarks/onnx_anchor.sh build --models efficientnet_b0 --batches 1 --threads 2 --out b0.md
# Environment: CACHE (exported models and node_modules; default build/onnx-anchor in this checkout, git-ignored),
# TORCH_PYTHON, RUNNER.
# The machine should be idle: the table is only as good as the machine was quiet while it ran.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
command="benchmarks/onnx_anchor.sh $*"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then build=$(cd "$1" && pwd); shift; fi
cache=${CACHE:-$root/build/onnx-anchor}
runner=${RUNNER:-node}
ort_node_version=1.30.0
mkdir -p "$cache"
runner_args=(--runner "$runner")
if [ "$runner" = node ]; then
  if [ ! -f "$cache/node/node_modules/onnxruntime-node/package.json" ] ||
     ! grep -q "\"version\": \"$ort_node_version\"" "$cache/node/node_modules/onnxruntime-node/package.json"; then
    mkdir -p "$cache/node"
    # A package.json of its own, so that npm installs here and not into a package.json further up.
    [ -f "$cache/node/package.json" ] || echo '{"private": true}' > "$cache/node/package.json"
    (cd "$cache/node" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ort_node_version" >&2)
  fi
  runner_args+=(--node-modules "$cache/node/node_modules")
fi
exec python3 "$root/benchmarks/onnx_anchor.py" --bench "$build/app/bench/efficientnet-bench" \
  --torch-python "${TORCH_PYTHON:-/usr/bin/python3}" --models-dir "$cache/models" "${runner_args[@]}" \
  --command "${RUNNER:+RUNNER=$RUNNER }$command" "$@"
