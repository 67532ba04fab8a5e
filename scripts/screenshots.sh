#!/usr/bin/env bash
# Retakes the README's screenshots (docs/screenshot-*.png) under Xvfb with a window manager (openbox), so the
# window has real decorations, real X11 input and a real screen size. Each scenario is one efficientnet-demo
# command ending in --screenshot; the app saves its own window once the first results show.
#
#   ./scripts/screenshots.sh [BUILD_DIR]     (default: build; build it first with ./scripts/build.sh)
#
# Scenarios: "gallery" (the sample photos dropped as a folder, a fresh weights cache: banner and download offer),
# "live" (a video panning over the sample photos, played live, the prediction drawn over each frame).
# Pretrained weights are used when WEIGHTS names a checkpoint; otherwise random weights, as the banner says.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
demo="$build/app/desktop/efficientnet-demo"
[[ -x "$demo" ]] || { echo "screenshots.sh: $demo is missing: build first (./scripts/build.sh)" >&2; exit 1; }

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v openbox >/dev/null || need+=(openbox)
/usr/bin/python3 -c "import cv2" 2>/dev/null || need+=(python3-opencv)
if ((${#need[@]})); then
    sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${need[@]}"
fi

work="$(mktemp -d)"
cleanup() { kill "${wm:-}" "${xvfb:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1440x900x24 -nolisten tcp &
xvfb=$!
sleep 1
kill -0 "$xvfb" 2>/dev/null || { echo "screenshots.sh: Xvfb did not start on $display" >&2; exit 1; }
DISPLAY="$display" openbox &
wm=$!
sleep 1

# The live scenario's source: 6 s at 30 fps panning across each sample photo in turn (MJPG, read by OpenCV).
/usr/bin/python3 - "$here/resources/samples" "$work/pan.avi" <<'EOF'
import sys, glob, cv2
samples, out = sys.argv[1], sys.argv[2]
w, h, fps = 768, 576, 30
writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
for path in sorted(glob.glob(samples + "/*.jpg")):
    img = cv2.imread(path)
    scale = max(w / img.shape[1], h / img.shape[0]) * 1.25
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frames = 45
    for i in range(frames):
        x = int((img.shape[1] - w) * i / (frames - 1))
        y = int((img.shape[0] - h) * i / (frames - 1))
        writer.write(img[y:y + h, x:x + w])
writer.release()
EOF

common=(--settings "$work/settings.ini" --device cpu)
live=()
if [[ -n "${WEIGHTS:-}" ]]; then common+=(--weights "$WEIGHTS"); else live+=(--random-weights); fi
export DISPLAY="$display" EFFICIENTNET_CACHE_DIR="$work/cache" QT_QPA_PLATFORM=xcb
mkdir -p "$here/docs"
"$demo" "${common[@]}" --screenshot "$here/docs/screenshot-gallery.png" "$here/resources/samples"
"$demo" "${common[@]}" "${live[@]}" --camera "$work/pan.avi" --loop --screenshot "$here/docs/screenshot-live.png"
echo "screenshots.sh: wrote docs/screenshot-gallery.png and docs/screenshot-live.png"
