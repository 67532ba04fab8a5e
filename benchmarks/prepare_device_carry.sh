#!/usr/bin/env bash
# Copies nlohmann-json (header-only; the GPU machine lacks it) into .device-carry/, laid out like /usr, for the
# device tool's `carry`. .device-carry/ is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .device-carry && mkdir -p .device-carry/include .device-carry/share/cmake
cp -r /usr/include/nlohmann .device-carry/include/
cp -r /usr/share/cmake/nlohmann_json .device-carry/share/cmake/
