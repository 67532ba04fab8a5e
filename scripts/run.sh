#!/usr/bin/env bash
# Command (a) of the README: install what is missing, build, and run the main job: the console tool classifying
# the bundled sample photos (with cached weights if there are any, else on random weights, which it says plainly).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" -DEFFICIENTNET_BUILD_TESTS=OFF
cli=${BUILD_DIR:-$root/build}/app/cli/efficientnet-cli
model=${MODEL:-efficientnet_b0}
weights=()
if [ -n "${WEIGHTS:-}" ]; then
  weights=(--weights "$WEIGHTS")
elif ! "$cli" classify --model "$model" "$root/resources/samples/cat.jpg" >/dev/null 2>&1; then
  echo "No $model weights cached yet: running on random weights. Put a checkpoint (e.g. torchvision's" >&2
  echo "efficientnet_b0_rwightman-7f5810bc.pth) in ~/.cache/efficientnet-libtorch/ or set WEIGHTS=FILE." >&2
  weights=(--random-weights)
fi
exec "$cli" classify --model "$model" "${weights[@]}" "$root/resources/samples" "$@"
