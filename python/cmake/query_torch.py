"""Prints what CMake needs to know about the torch this interpreter imports, one `key=value` a line.

Run by python/CMakeLists.txt at configure time. The extension must be compiled against exactly this torch: its
LibTorch (the same libtorch.so file), its C++ ABI and pybind11's ABI strings, since the extension shares C++ types
(torch::nn::Module, at::Tensor) with torch._C through pybind11's registry. Nothing here is printed on failure: the
exception text goes to stderr and the exit status is 1, so CMake can say why.
"""
import os
import sys

import torch
import torch.utils

lib_dir = os.path.join(os.path.dirname(torch.__file__), "lib")
values = {
    "version": str(torch.__version__),
    "cxx11_abi": int(bool(torch._C._GLIBCXX_USE_CXX11_ABI)),
    "cmake_prefix_path": torch.utils.cmake_prefix_path,
    "lib_dir": lib_dir,
    "cuda": torch.version.cuda or "",
    # torch.utils.cpp_extension passes these to every extension it builds, so that pybind11 computes the same
    # internals id as torch._C and the two modules see each other's types.
    # (None or absent where the torch's pybind11 needs none of them: then "")
    "pybind11_compiler_type": getattr(torch._C, "_PYBIND11_COMPILER_TYPE", None) or "",
    "pybind11_stdlib": getattr(torch._C, "_PYBIND11_STDLIB", None) or "",
    "pybind11_build_abi": getattr(torch._C, "_PYBIND11_BUILD_ABI", None) or "",
    "python": sys.executable,
}
for key, value in values.items():
    print("%s=%s" % (key, value))
