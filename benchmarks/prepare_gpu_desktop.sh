#!/usr/bin/env bash
# Here (Debian 12): prepares, in .device-carry/ (git-ignored, carried by the device tool, at most 64 MiB), what the
# whole product needs to build and run on the GPU machine (Ubuntu 24.04, no Qt, no OpenCV, no network; see
# ../shared/GPU.md), for benchmarks/gpu_desktop.sh:
#   - nlohmann-json (benchmarks/prepare_device_carry.sh);
#   - debian-prefix.tar.xz: Debian 12's Qt 6 (runtime, headers, CMake files, moc/rcc/uic, the offscreen and xcb
#     platform plugins), Xvfb with its keyboard data, a font, libjpeg/libpng/zlib/libtiff/libwebp for OpenCV (the
#     formats the product opens with Debian's OpenCV), and libcurl +
#     OpenSSL for the weights download, oneDNN 2.6 for the CPU engine, unpacked with dpkg -x (no maintainer scripts run) and stripped of
#     documentation and static libraries. Debian 12's libraries load on Ubuntu 24.04 (its glibc is newer); the
#     script there drops every library Ubuntu already has, so only missing ones come from this prefix;
#   - opencv-install.tar.xz: OpenCV 4.6.0 (the version Debian 12 packages) from Debian's archive, checked against its
#     SHA-256, built here with the four modules the project uses (core, imgproc, imgcodecs, videoio) and installed.
# Needs: apt-get (Debian's archive reachable), curl; takes ~10 minutes on 2 cores (OpenCV).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
"$root/benchmarks/prepare_device_carry.sh"
carry=$root/.device-carry
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The closure of what the build and the tests need (apt-cache depends --recurse from qt6-base-dev, qt6-base-dev-tools,
# libqt6test6, the GL/EGL/xkbcommon headers Qt's CMake files look for, xvfb, x11-xkb-utils, fonts-dejavu-core,
# libjpeg62-turbo-dev, libpng-dev, zlib1g-dev, libtiff-dev, libwebp-dev, libcurl4-openssl-dev, libssl-dev), less what Ubuntu 24.04 always has
# or nothing here uses: the C library and compiler runtime, perl, python, dpkg, Mesa's drivers and LLVM, input
# devices, other fonts and Qt modules. (Qt6CoreTools's CMake files need qmake to exist, hence qmake6.)
packages=(
  fontconfig fontconfig-config fonts-dejavu-core libb2-1 libbrotli1 libbsd0 libcom-err2 libcurl4
  libcurl4-openssl-dev libdbus-1-3 libdouble-conversion3 libegl-dev libegl1 libfontconfig1 libfontenc1
  libfreetype6 libgcrypt20 libgl-dev libgl1 libglib2.0-0 libglvnd0 libglx-dev libglx0 libgmp10 libgnutls30
  libgpg-error0 libgraphite2-3 libgssapi-krb5-2 libharfbuzz0b libhogweed6 libice6 libicu72 libidn2-0
  libjpeg62-turbo libjpeg62-turbo-dev libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 libmd0
  libmd4c0 libnettle8 libnghttp2-14 libopengl-dev libopengl0 libp11-kit0 libpciaccess0 libpcre2-16-0
  libpixman-1-0 libpng-dev libpng16-16 libpsl5 libqt6core6 libqt6dbus6 libqt6gui6 libqt6test6 libqt6widgets6
  librtmp1 libsasl2-2 libsm6 libssh2-1 libssl-dev libssl3 libtasn1-6 libunistring2 libunwind8 libx11-6
  libx11-data libx11-xcb1 libxau6 libxaw7 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xkb1 libxcb1 libxdmcp6 libxext6 libxfixes3 libxfont2 libxkbcommon-dev libxkbcommon-x11-0 libxkbcommon0
  libxkbfile1 libxmu6 libxpm4 libxrandr2 libxrender1 libxshmfence1 libxt6 libxxf86vm1 libzstd1 qt6-base-dev
  qmake6 qmake6-bin qt6-base-dev-tools qt6-qpa-plugins x11-xkb-utils xkb-data xserver-common xvfb zlib1g-dev
  libdeflate-dev libdeflate0 libjbig-dev libjbig0 liblerc-dev liblerc4 libtiff-dev libtiff6 libtiffxx6 libwebp-dev
  libwebp7 libwebpdemux2 libwebpmux3 libzstd-dev libdnnl2 libdnnl-dev
)
mkdir -p "$work/debs" "$work/prefix"
(cd "$work/debs" && apt-get download "${packages[@]}" > /dev/null)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/prefix"; done
rm -rf "$work"/prefix/usr/share/{doc,man,info,lintian,bug,locale} "$work"/prefix/usr/lib/x86_64-linux-gnu/*.a
tar -C "$work/prefix" -cJf "$carry/debian-prefix.tar.xz" .

# OpenCV 4.6.0 (the version Debian 12 packages), built here from Debian's source (its "dfsg" tarball has no 3rdparty/:
# the system's libjpeg/libpng/libtiff/libwebp/zlib are used, which the prefix above carries) and carried installed:
# built on the GPU machine it cost five of a lease's minutes on every fresh machine. Debian 12's g++ and libstdc++
# are older than Ubuntu 24.04's, so what is built here runs there, as Debian's Qt does.
opencv_url=http://deb.debian.org/debian/pool/main/o/opencv/opencv_4.6.0%2Bdfsg.orig.tar.xz
opencv_sha256=40a59ba7e5c18a43652de0a08733c9843a39bba619b1f3e26a5fac4a6f041423
if ! dpkg -s libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev zlib1g-dev ninja-build cmake > /dev/null 2>&1; then
  apt-get install -y --no-install-recommends libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev zlib1g-dev \
    ninja-build cmake > /dev/null
fi
curl -sfSL -o "$work/opencv.tar.xz" "$opencv_url"
echo "$opencv_sha256  $work/opencv.tar.xz" | sha256sum -c --quiet
tar -C "$work" -xJf "$work/opencv.tar.xz"
# Only what the project uses; images through libjpeg/libpng/libtiff/libwebp (the formats Debian's OpenCV opens),
# video through OpenCV's own MJPEG reader and writer (what the tests' videos are), no GUI, no FFmpeg/GStreamer.
cmake -S "$work/opencv-4.6.0" -B "$work/opencv-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$work/opencv" -DCMAKE_INSTALL_LIBDIR=lib \
  -DBUILD_LIST=core,imgproc,imgcodecs,videoio -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF \
  -DBUILD_DOCS=OFF -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_python3=OFF -DWITH_FFMPEG=OFF \
  -DWITH_GSTREAMER=OFF -DWITH_V4L=OFF -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_OPENCL=OFF -DWITH_CUDA=OFF \
  -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_TIFF=ON -DWITH_WEBP=ON -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF \
  -DWITH_OPENEXR=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF -DWITH_PROTOBUF=OFF -DWITH_EIGEN=OFF -DWITH_LAPACK=OFF \
  -DWITH_1394=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_ADE=OFF -DWITH_QUIRC=OFF -DBUILD_ZLIB=OFF \
  -DBUILD_JPEG=OFF -DBUILD_PNG=OFF -DBUILD_TIFF=OFF -DBUILD_WEBP=OFF > "$work/opencv-configure.log" 2>&1 ||
  { tail -40 "$work/opencv-configure.log"; exit 1; }
grep -E "JPEG:|PNG:|TIFF:|WEBP:|To be built" "$work/opencv-configure.log"
nice cmake --build "$work/opencv-build" -j "$(nproc)" --target install > "$work/opencv-build.log" 2>&1 ||
  { grep -E -A5 "error" "$work/opencv-build.log" | head -40; exit 1; }
strip --strip-unneeded "$work"/opencv/lib/libopencv_*.so.4.6.0
tar -C "$work" -cJf "$carry/opencv-install.tar.xz" opencv

size=$(du -sm "$carry" | cut -f1)
echo "prepare_gpu_desktop: .device-carry/ holds ${size} MiB (the device tool carries at most 64 MiB)"
[ "$size" -lt 64 ] || { echo "prepare_gpu_desktop: too large to carry" >&2; exit 1; }
