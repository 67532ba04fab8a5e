#!/usr/bin/env bash
# Issue 15, point 5: the desktop app live on the CPU with B0, fed by a 30 fps 640x480 video (a pan across the
# sample photos, MJPG), under Xvfb. After SECONDS (default 45) it saves the screen; the status bar there gives the
# display rate, the classification rate, the frames dropped since the start and the per-stage times.
#
#   benchmarks/live_cpu.sh [BUILD_DIR] [OUT_DIR]      (needs xvfb, imagemagick's import and python3-opencv)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
out="$(mkdir -p "${2:-$build/live-cpu}" && cd "${2:-$build/live-cpu}" && pwd)"
demo="$build/app/desktop/efficientnet-demo"
[[ -x "$demo" ]] || { echo "live_cpu.sh: $demo is missing: build first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill "${app:-}" "${xvfb:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

/usr/bin/python3 - "$here/resources/samples" "$work/pan.avi" <<'EOF'
import sys, glob, cv2
samples, out = sys.argv[1], sys.argv[2]
w, h = 640, 480
writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
for path in sorted(glob.glob(samples + "/*.jpg")):
    img = cv2.imread(path)
    scale = max(w / img.shape[1], h / img.shape[0]) * 1.25   # a quarter larger than the frame: room to pan
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    for i in range(60):
        x, y = int((img.shape[1] - w) * i / 59), int((img.shape[0] - h) * i / 59)
        writer.write(img[y:y + h, x:x + w])
writer.release()
EOF

display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
sleep 1
DISPLAY="$display" QT_QPA_PLATFORM=xcb "$demo" --random-weights --device cpu --model efficientnet_b0 \
    --settings "$work/settings.ini" --camera "$work/pan.avi" --loop > "$out/app.log" 2>&1 &
app=$!
sleep "${SECONDS_LIVE:-45}"
DISPLAY="$display" import -window root "$out/live-cpu.png"
echo "live_cpu.sh: $(uptime); screen after ${SECONDS_LIVE:-45} s: $out/live-cpu.png (status bar at the bottom)"
