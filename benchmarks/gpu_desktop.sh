#!/usr/bin/env bash
# On the GPU machine (../shared/GPU.md): the whole product — core, console tool, desktop app, Python package, every
# test — built against the CUDA LibTorch of the Python torch package, with Debian 12's Qt and OpenCV 4.6 built from source,
# both carried in .device-carry/ (benchmarks/prepare_gpu_desktop.sh, run here first). Then the full test suite (desktop
# tests on Qt's offscreen platform, as in CI), test_cuda, and the desktop app live on CUDA under Xvfb for a
# screenshot. Idempotent: a second call on a still-warm machine reuses what the first built.
#   STAGES   which stages to run, in order (default "deps build test cuda app"; also "desktop": test_desktop_cuda
#            with its screenshots)
#   TARGETS  build only these targets (e.g. "test_cuda test_desktop_cuda"; default: all)
#   CTEST_ARGS  extra ctest arguments (e.g. "-R parity"); CTEST_JOBS (8), CTEST_SECONDS (500: the whole ctest run)
# Logs and screenshots go to $OUT, packed into logs.tar.gz at the end (stages.log, the summary, stays beside it).
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
root=$PWD
carry=$root/.device-carry
deps=$root/build-gpu-deps
prefix=$deps/debian
opencv=$deps/opencv
build=$root/build-gpu
stages=" ${STAGES:-deps build test cuda app} "
tp=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
log() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$out/stages.log"; }
# The device tool brings back at most 8 files: everything but stages.log goes back packed in logs.tar.gz.
pack() { (cd "$out" && find . -mindepth 1 -maxdepth 1 ! -name stages.log ! -name logs.tar.gz -printf '%P\n' |
          tar -czf logs.tar.gz --remove-files -T - 2>/dev/null) || true; }
trap pack EXIT

# Debian's libraries only where Ubuntu lacks them: a soname Ubuntu's loader knows becomes a link to Ubuntu's copy
# (so -dev links still resolve and nothing older shadows anything newer).
unpack_prefix() {
  mkdir -p "$prefix"
  tar -C "$prefix" -xJf "$carry/debian-prefix.tar.xz"
  local kept=0 replaced=0
  for dir in "$prefix/usr/lib/x86_64-linux-gnu" "$prefix/lib/x86_64-linux-gnu"; do
    [ -d "$dir" ] || continue
    for lib in "$dir"/lib*.so.*; do
      local name system
      name=$(basename "$lib")
      system=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ { print $NF; exit }')
      if [ -n "$system" ]; then ln -sf "$system" "$lib"; replaced=$((replaced + 1)); else kept=$((kept + 1)); fi
    done
  done
  echo "Debian prefix: $kept library files used, $replaced replaced by Ubuntu's" | tee -a "$out/stages.log"
  cat > "$prefix/fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>$prefix/usr/share/fonts</dir><cachedir>$deps/fontconfig-cache</cachedir></fontconfig>
EOF
}

export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu:$opencv/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export QT_PLUGIN_PATH=$prefix/usr/lib/x86_64-linux-gnu/qt6/plugins
export FONTCONFIG_FILE=$prefix/fonts.conf
export QT_QPA_FONTDIR=$prefix/usr/share/fonts/truetype/dejavu
# CI's machine has 2 cores and LibTorch uses them all; here 16 cores and up to CTEST_JOBS tests at once: two threads
# each, or the tests that time themselves out (QTest's 300 s per function) drown in 16 x 16 threads. (GNU nproc
# then says 2 as well: what needs the cores' count asks `nproc --all`.)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

if [[ $stages == *" deps "* ]]; then
  log "deps"
  [ -f "$prefix/fonts.conf" ] || unpack_prefix
  # OpenCV as prepare_gpu_desktop.sh built it (against the prefix's libjpeg/libpng/libtiff/libwebp).
  [ -f "$opencv/lib/cmake/opencv4/OpenCVConfig.cmake" ] || tar -C "$deps" -xJf "$carry/opencv-install.tar.xz"
fi

if [[ $stages == *" build "* ]]; then
  log "configure and build"
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$tp;$carry;$prefix/usr;$opencv" -DOpenCV_DIR="$opencv/lib/cmake/opencv4" \
      -DTORCH_CUDA_ARCH_LIST=9.0a -DREFERENCE_PYTHON="$(command -v python3)" \
      -DPython3_EXECUTABLE="$(command -v python3)" > "$out/configure.log" 2>&1 ||
      { tail -40 "$out/configure.log"; exit 1; }
  fi
  grep -E "Qt6|OpenCV|download|Python package|CUDA" "$out/configure.log" | head -20 || true
  cmake --build "$build" -j "$(nproc --all)" ${TARGETS:+--target $TARGETS} > "$out/build.log" 2>&1 ||
    { grep -E -B2 -A8 "error|Error" "$out/build.log" | head -80; exit 1; }
  tail -1 "$out/build.log"
fi

if [[ $stages == *" test "* ]]; then
  log "ctest"
  (cd "$build" && timeout "${CTEST_SECONDS:-500}" ctest --output-on-failure --timeout 300 -j "${CTEST_JOBS:-8}" ${CTEST_ARGS:-}) > "$out/ctest.log" 2>&1 || true
  grep -E "tests passed|tests failed|\*\*\*|Failed|Not Run|Timeout" "$out/ctest.log" | tail -40 | tee -a "$out/stages.log"
fi

if [[ $stages == *" cuda "* ]]; then
  log "test_cuda"
  stdbuf -oL "$build/tests/test_cuda" > "$out/test_cuda.log" 2>&1 || true   # line-buffered: a cut-off run keeps its lines
  grep -E "FAIL|passed" "$out/test_cuda.log" | tail -5 | tee -a "$out/stages.log"
fi

if [[ $stages == *" desktop "* ]]; then
  log "test_desktop_cuda: the app live on CUDA through switches, 1,000 photos; screenshots in shots/"
  (cd "$build/tests" && QT_QPA_PLATFORM=offscreen EFFICIENTNET_SCREENSHOT_DIR="$out/shots" timeout 400 \
    ./test_desktop_cuda > "$out/desktop_cuda.log" 2>&1) || true
  grep -E "QINFO|FAIL|Totals" "$out/desktop_cuda.log" | cut -c1-400 | tee -a "$out/stages.log"
fi

if [[ $stages == *" app "* ]]; then
  log "desktop app under Xvfb, live on CUDA"
  video=$deps/live.avi
  python3 - "$video" <<'EOF'
import sys, cv2, numpy as np
w = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
for i in range(90):
    frame = np.zeros((480, 640, 3), np.uint8)
    cv2.circle(frame, (100 + 5 * i, 240), 60, (40, 180, 240), -1)
    w.write(frame)
w.release()
EOF
  mkdir -p "$deps/fb"
  # Xvfb runs xkbcomp from the path it was built with; the machine is bare and leased for this run only.
  [ -x /usr/bin/xkbcomp ] || ln -s "$prefix/usr/bin/xkbcomp" /usr/bin/xkbcomp 2>/dev/null || true
  "$prefix/usr/bin/Xvfb" :77 -screen 0 1280x800x24 -fbdir "$deps/fb" -xkbdir "$prefix/usr/share/X11/xkb" \
    -nolisten tcp > "$out/xvfb.log" 2>&1 &
  xvfb=$!
  sleep 2
  app=$(find "$build/app" -type f -name 'efficientnet-demo' | head -1)
  DISPLAY=:77 QT_QPA_PLATFORM=xcb timeout 120 "$app" --random-weights --device cuda --camera "$video" --loop \
    --settings "$deps/app.ini" --screenshot "$out/desktop-live-cuda.png" > "$out/app.log" 2>&1 || echo "app exit $?"
  kill "$xvfb" 2>/dev/null || true
  tail -5 "$out/app.log"; tail -5 "$out/xvfb.log"
  ls -la "$out"/*.png 2>/dev/null || true
fi
log "done"
