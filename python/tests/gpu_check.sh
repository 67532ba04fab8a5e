#!/usr/bin/env bash
# The Python package on a machine whose torch has CUDA (the GPU machine of ../shared/GPU.md: pip's torch 2.x, CUDA
# LibTorch inside it, no OpenCV C++ headers, no internet): the README's pip install against that torch, then the
# pytest suites, whose CUDA tests run there. Reference data for B0/B1 and the hostile files are generated on the spot;
# the console tool is not built there (no OpenCV), so the tests that compare with it or read image files skip, saying
# so. Needs nlohmann-json carried in .device-carry/ (benchmarks/prepare_device_carry.sh). Logs go to $OUT.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/out}
work=${WORK:-/tmp/efficientnet-python}
mkdir -p "$out" "$work"
python=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$python" -c "import sys, torch; print(sys.executable, 'torch', torch.__version__, 'CUDA', torch.version.cuda,
              'C++11 ABI', torch._C._GLIBCXX_USE_CXX11_ABI, 'cuda available', torch.cuda.is_available())" \
  | tee "$out/torch.txt"

export EFFICIENTNET_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=$root/.device-carry -DTORCH_CUDA_ARCH_LIST=${ARCH:-9.0a}"
export CMAKE_BUILD_PARALLEL_LEVEL=${JOBS:-$(nproc)}
start=$(date +%s)
"$python" -m pip install --no-build-isolation --no-deps --no-index -v "$root/python" > "$out/install.log" 2>&1 \
  || { tail -60 "$out/install.log"; exit 1; }
echo "pip install: $(( $(date +%s) - start )) s"; grep -E "efficientnet_libtorch|Successfully" "$out/install.log" | tail -3

"$python" "$root/tests/reference/make_reference.py" --out "$work/reference" --resources "$root/resources" \
  --variants efficientnet_b0,efficientnet_b1 > "$out/reference.log" 2>&1 || { tail -30 "$out/reference.log"; exit 1; }
"$python" "$root/tests/hostile/make_hostile.py" --out "$work/hostile" --jpeg "$root/resources/samples/cat.jpg" \
  > "$out/hostile.log" 2>&1 || { tail -30 "$out/hostile.log"; exit 1; }
cd "$work"   # not the repository: the installed package is the one imported
EFFICIENTNET_REFERENCE_DIR=$work/reference EFFICIENTNET_HOSTILE_DIR=$work/hostile PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -p no:cacheprovider -ra -v "$root/python/tests" 2>&1 | tee "$out/pytest.log"
