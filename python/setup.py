"""Builds efficientnet_libtorch with CMake, against the torch of the interpreter that runs this.

    python3 -m pip install --no-build-isolation ./python

``--no-build-isolation`` is required: an isolated build environment would install a torch of its own from PyPI, and
the extension would be compiled against that one instead of the torch it will be imported with (the seed project's
unresolved symbols). The build configures python/CMakeLists.txt on its own, which adds the repository's core/, and
builds its one target, efficientnet_python; CMake assembles the package folder and this script copies it.

Environment:
    EFFICIENTNET_BUILD_DIR  an existing CMake build folder that has the efficientnet_python target (the top-level
                            build, for this interpreter): it is built (not reconfigured) and its package folder used.
                            CTest's wheel test does this, so that it need not compile the core a second time.
    EFFICIENTNET_CMAKE_ARGS more configure arguments, e.g. "-DEFFICIENTNET_WITH_OPENCV=OFF".
    CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: the machine's cores; each needs about 1.5 GB).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(HERE)
PACKAGE = "efficientnet_libtorch"
PACKAGE_FOLDER = os.path.join("python-package", PACKAGE)   # where python/CMakeLists.txt assembles it


def import_torch():
    try:
        import torch
    except ImportError as error:
        sys.exit("efficientnet_libtorch: this interpreter (%s) cannot import torch (%s). The extension is built for "
                 "the torch it will be imported with: install torch first, and build with pip's "
                 "--no-build-isolation so that pip does not hide it." % (sys.executable, error))
    return torch


def read_version():
    build_dir = os.environ.get("EFFICIENTNET_BUILD_DIR")
    if build_dir:
        source, pattern = os.path.join(build_dir, PACKAGE_FOLDER, "_build_info.py"), r'^VERSION = "([^"]+)"'
    else:
        source, pattern = os.path.join(REPOSITORY, "CMakeLists.txt"), r"^project\(EfficientNetLibTorch VERSION ([0-9.]+)"
    with open(source, encoding="utf-8") as f:
        match = re.search(pattern, f.read(), re.MULTILINE)
    if not match:
        sys.exit("efficientnet_libtorch: no version in %s" % source)
    return match.group(1)


def torch_requirement():
    # The extension works with exactly this torch; saying so lets pip warn when torch is later replaced.
    try:
        from importlib.metadata import version
        return ["torch==%s" % version("torch")]
    except Exception:   # a torch without distribution metadata: the import-time check still guards
        return ["torch"]


class BuildWithCMake(build_ext):
    """Builds the extension with CMake and copies the package folder CMake assembled into the wheel's tree."""

    def build_extension(self, ext):
        torch = import_torch()
        build_dir = os.environ.get("EFFICIENTNET_BUILD_DIR")
        if build_dir:
            build_dir = os.path.abspath(build_dir)
        else:
            build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
            self.configure(build_dir)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        self.run_command_line(["cmake", "--build", build_dir, "--target", "efficientnet_python", "--parallel", jobs])
        package = os.path.join(build_dir, PACKAGE_FOLDER)
        built_for = self.built_torch_version(package)
        if built_for != str(torch.__version__):
            sys.exit("efficientnet_libtorch: %s was built for torch %s, but this interpreter (%s) has torch %s; "
                     "configure that build with -DPython3_EXECUTABLE=%s, or leave EFFICIENTNET_BUILD_DIR unset"
                     % (build_dir, built_for, sys.executable, torch.__version__, sys.executable))
        destination = os.path.dirname(self.get_ext_fullpath(ext.name))
        shutil.copytree(package, destination, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    def configure(self, build_dir):
        command = ["cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                   "-DPython3_EXECUTABLE=" + sys.executable]
        if shutil.which("ninja") and not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            command += ["-G", "Ninja"]
        command += shlex.split(os.environ.get("EFFICIENTNET_CMAKE_ARGS", ""))
        self.run_command_line(command)

    @staticmethod
    def built_torch_version(package):
        with open(os.path.join(package, "_build_info.py"), encoding="utf-8") as f:
            return re.search(r'^TORCH_VERSION = "([^"]*)"', f.read(), re.MULTILINE).group(1)

    @staticmethod
    def run_command_line(command):
        print(" ".join(shlex.quote(part) for part in command), flush=True)
        subprocess.run(command, check=True)


setup(
    version=read_version(),
    install_requires=torch_requirement(),
    packages=[PACKAGE],
    package_data={PACKAGE: ["_C.pyi", "py.typed"]},
    ext_modules=[Extension(PACKAGE + "._C", sources=[])],
    cmdclass={"build_ext": BuildWithCMake},
)
