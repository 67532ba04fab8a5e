#!/usr/bin/env bash
# Here (Debian 12): prepares, in .device-carry/ (git-ignored, carried by the device tool, at most 64 MiB), what the
# whole product needs to build and run on the GPU machine (Ubuntu 24.04, no Qt, no OpenCV, no network; see
# ../shared/GPU.md), for benchmarks/gpu_desktop.sh:
#   - nlohmann-json (benchmarks/prepare_device_carry.sh);
#   - debian-prefix.tar.xz: Debian 12's Qt 6 (runtime, headers, CMake files, moc/rcc/uic, the offscreen and xcb
#     platform plugins), Xvfb with its keyboard data, a font, libjpeg/libpng/zlib/libtiff/libwebp for OpenCV (the
#     formats the product opens with Debian's OpenCV), and libcurl +
#     OpenSSL for the weights download, unpacked with dpkg -x (no maintainer scripts run) and stripped of
#     documentation and static libraries. Debian 12's libraries load on Ubuntu 24.04 (its glibc is newer); the
#     script there drops every library Ubuntu already has, so only missing ones come from this prefix;
#   - opencv-src.tar.xz: OpenCV 4.6.0 (the version Debian 12 packages) from Debian's archive, checked against its
#     SHA-256, cut to the four modules the project uses (core, imgproc, imgcodecs, videoio), to be built there.
# Needs: apt-get (Debian's archive reachable), curl.
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
  libwebp7 libwebpdemux2 libwebpmux3 libzstd-dev
)
mkdir -p "$work/debs" "$work/prefix"
(cd "$work/debs" && apt-get download "${packages[@]}" > /dev/null)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/prefix"; done
rm -rf "$work"/prefix/usr/share/{doc,man,info,lintian,bug,locale} "$work"/prefix/usr/lib/x86_64-linux-gnu/*.a
tar -C "$work/prefix" -cJf "$carry/debian-prefix.tar.xz" .

# OpenCV: Debian's source of the version it packages (its "dfsg" tarball has no 3rdparty/, so the system's
# libjpeg/libpng/zlib are used, from the prefix above).
opencv_url=http://deb.debian.org/debian/pool/main/o/opencv/opencv_4.6.0%2Bdfsg.orig.tar.xz
opencv_sha256=40a59ba7e5c18a43652de0a08733c9843a39bba619b1f3e26a5fac4a6f041423
curl -sfSL -o "$work/opencv.tar.xz" "$opencv_url"
echo "$opencv_sha256  $work/opencv.tar.xz" | sha256sum -c --quiet
tar -C "$work" -xJf "$work/opencv.tar.xz"
(cd "$work" && tar -cJf "$carry/opencv-src.tar.xz" --exclude='*/test/*' --exclude='*/perf/*' \
   --exclude='*/misc/java*' --exclude='*/misc/objc*' --exclude='*/misc/js*' \
   opencv-4.6.0/{CMakeLists.txt,LICENSE,cmake,include,platforms/scripts,apps/CMakeLists.txt,doc/CMakeLists.txt} \
   opencv-4.6.0/{data/CMakeLists.txt,modules/core,modules/imgproc,modules/imgcodecs,modules/videoio})

size=$(du -sm "$carry" | cut -f1)
echo "prepare_gpu_desktop: .device-carry/ holds ${size} MiB (the device tool carries at most 64 MiB)"
[ "$size" -lt 64 ] || { echo "prepare_gpu_desktop: too large to carry" >&2; exit 1; }
