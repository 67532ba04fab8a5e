"""CTest's python_wheel: the README's install command, offline, gives a wheel that works on its own.

From a copy of python/ (so the source tree stays clean), in a fresh virtual environment that sees the torch of the
interpreter the package was built for (the system's, or that of the virtual environment it comes from):

    pip wheel --no-build-isolation --no-deps --no-index  (EFFICIENTNET_BUILD_DIR=the build: no second compile)
    pip install --no-index --no-deps <the wheel>

then checks the wheel's contents and metadata, and, from another folder with no PYTHONPATH, that the installed
package (not the build's) imports without torch imported first, classifies a sample photo and refuses a malicious
pickle. Exit status 0 when all holds; the failing step's output otherwise.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import zipfile

SMOKE_TEST = r"""
import sys
assert "torch" not in sys.modules
import efficientnet_libtorch as enl
assert enl.__file__.startswith(sys.prefix), enl.__file__
classifier = enl.Classifier("efficientnet_b0", random_weights=True, device="cpu")
result = classifier.classify(sys.argv[1], topk=5)
assert len(result.predictions) == 5 and result.times.forward_ms > 0
try:
    enl.read_checkpoint(sys.argv[2])
except enl.CheckpointError as error:
    assert "could execute code" in str(error)
else:
    raise AssertionError("a malicious pickle was read")
print("installed package OK:", enl.__file__, result.predictions[0])
"""


def run(command, **kwargs):
    print("+", " ".join(part if len(part) < 200 else "<%d characters>" % len(part) for part in command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="the interpreter the package was built for")
    parser.add_argument("--build-dir", required=True, help="the CMake build that has efficientnet_python")
    parser.add_argument("--work", required=True, help="a scratch folder (emptied)")
    parser.add_argument("--photo", required=True)
    parser.add_argument("--malicious", required=True, help="a pickle that calls os.system")
    args = parser.parse_args()

    args.work = os.path.abspath(args.work)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    shutil.rmtree(args.work, ignore_errors=True)
    copy = os.path.join(args.work, "python")
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = os.path.join(args.work, "venv")
    run([args.python, "-m", "venv", "--system-site-packages", venv])
    python = os.path.join(venv, "bin", "python")
    # --system-site-packages sees the base interpreter's packages only; when the interpreter given is itself a
    # virtual environment's (the GPU machine's torch lives in /opt/torch/.venv), its site-packages hold torch: a .pth
    # file makes them visible to the new environment too.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    parent = subprocess.run([args.python, "-c", purelib], check=True, capture_output=True, text=True).stdout.strip()
    own = subprocess.run([python, "-c", purelib], check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(own, "parent_site_packages.pth"), "w") as pth:
        pth.write(parent + "\n")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment["EFFICIENTNET_BUILD_DIR"] = os.path.abspath(args.build_dir)
    wheels = os.path.join(args.work, "wheels")
    run([python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", wheels, copy],
        env=environment, cwd=args.work)

    (wheel,) = glob.glob(os.path.join(wheels, "efficientnet_libtorch-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    expected = ["__init__.py", "_build_info.py", "_C.pyi", "py.typed", "imagenet_classes.txt", "activation.py"]
    missing = [f for f in expected if "efficientnet_libtorch/" + f not in names]
    if missing or not any(n.startswith("efficientnet_libtorch/_C.") and n.endswith(".so") for n in names):
        sys.exit("the wheel lacks %s (it has %s)" % (missing or "the extension", names))
    if not re.search(r"^Requires-Dist: torch ?\(?==", metadata, re.MULTILINE):   # "torch==X" or "torch (==X)"
        sys.exit("the wheel does not pin the torch it was built against:\n" + metadata)

    del environment["EFFICIENTNET_BUILD_DIR"]
    run([python, "-m", "pip", "install", "--no-index", "--no-deps", wheel], env=environment, cwd=args.work)
    run([python, "-c", SMOKE_TEST, os.path.abspath(args.photo), os.path.abspath(args.malicious)],
        env=environment, cwd=args.work)
    print("wheel %s (%d bytes) builds, installs and works" % (os.path.basename(wheel), os.path.getsize(wheel)))


if __name__ == "__main__":
    main()
