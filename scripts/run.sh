#!/usr/bin/env bash
# Command (a) of the README: install what is missing, build, and run the main job. With a display, that is the
# desktop app (efficientnet-demo) opening the bundled sample photos; without one (or with CONSOLE=1), the console
# tool classifying them. Cached weights are used when there are any; otherwise both run on random weights and say so
# plainly (the app with a persistent banner).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" -DEFFICIENTNET_BUILD_TESTS=OFF
build=${BUILD_DIR:-$root/build}
cli=$build/app/cli/efficientnet-cli
demo=$build/app/desktop/efficientnet-demo
model=${MODEL:-efficientnet_b0}

if [ -z "${CONSOLE:-}" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$demo" ]; then
  weights=()
  [ -n "${WEIGHTS:-}" ] && weights=(--weights "$WEIGHTS")
  # Extra arguments go to efficientnet-demo (e.g. --camera 0, or a folder of photos).
  exec "$demo" --model "$model" "${weights[@]}" "$root/resources/samples/cat.jpg" "$@"
fi

weights=()
if [ -n "${WEIGHTS:-}" ]; then
  weights=(--weights "$WEIGHTS")
elif ! "$cli" weights "$model" >/dev/null 2>&1; then
  echo "No $model weights cached yet: running on random weights. Put a checkpoint (e.g. torchvision's" >&2
  echo "efficientnet_b0_rwightman-7f5810bc.pth) in ~/.cache/efficientnet-libtorch/ or set WEIGHTS=FILE." >&2
  weights=(--random-weights)
fi
exec "$cli" classify --model "$model" "${weights[@]}" "$root/resources/samples" "$@"
