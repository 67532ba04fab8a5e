"""The check that runs before the extension is loaded: is the imported torch the one it was built against?

A C++ extension works only with the LibTorch it was compiled against and shares C++ types with torch._C through
pybind11. The seed project of this package failed here with unresolved symbols or "unknown base type" errors; this
module turns every such case into one ImportError that names both versions and says how to rebuild.
"""
import importlib
import os
import sys
from types import ModuleType


def _rebuild_hint(source_dir: str) -> str:
    return ("Rebuild it for this torch: %s -m pip install --no-build-isolation --force-reinstall --no-deps %s "
            "(the repository's python/ folder), or configure the CMake build with -DPython3_EXECUTABLE=%s."
            % (sys.executable, source_dir, sys.executable))


def _build_info() -> ModuleType:
    try:
        return importlib.import_module("._build_info", __package__)
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        raise ImportError(
            "efficientnet_libtorch is being imported from %s, a source folder without its compiled extension. "
            "Install the package (python3 -m pip install --no-build-isolation ./python) or put a build's package "
            "folder on PYTHONPATH (<build>/python-package)." % here) from None


def check(torch: ModuleType) -> ModuleType:
    """Raises ImportError unless ``torch`` is the torch this build was compiled against; returns the build info."""
    info = _build_info()
    found_version = str(torch.__version__)
    found_abi = bool(torch._C._GLIBCXX_USE_CXX11_ABI)
    found_pybind11 = tuple(getattr(torch._C, "_PYBIND11_" + key, None) or ""   # as cmake/query_torch.py reads them
                           for key in ("COMPILER_TYPE", "STDLIB", "BUILD_ABI"))
    if (found_version, found_abi, found_pybind11) != (info.TORCH_VERSION, info.TORCH_CXX11_ABI, info.PYBIND11_ABI):
        raise ImportError(
            "efficientnet_libtorch %s was built against torch %s (C++11 ABI %s, pybind11 %s) but this interpreter "
            "imports torch %s (C++11 ABI %s, pybind11 %s) from %s. %s"
            % (info.VERSION, info.TORCH_VERSION, info.TORCH_CXX11_ABI, "".join(info.PYBIND11_ABI),
               found_version, found_abi, "".join(found_pybind11), os.path.dirname(torch.__file__),
               _rebuild_hint(info.SOURCE_DIR)))
    return info


def load_extension(info: ModuleType) -> ModuleType:
    """Imports efficientnet_libtorch._C; a failure (a LibTorch swapped under the same version) says how to rebuild."""
    try:
        return importlib.import_module("._C", __package__)
    except ImportError as error:
        raise ImportError("efficientnet_libtorch's extension, built against torch %s, cannot be loaded: %s. %s"
                          % (info.TORCH_VERSION, error, _rebuild_hint(info.SOURCE_DIR))) from error
