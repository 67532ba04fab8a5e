"""Shared fixtures of efficientnet_libtorch's tests.

The tests import the package the interpreter finds: an installed one, or a build's package folder on PYTHONPATH
(CTest puts <build>/python-package there). Reference data comes from the build, as for the C++ tests:

- EFFICIENTNET_REFERENCE_DIR: tests/reference/make_reference.py's output (torchvision weights, inputs, logits, the
  e2e checkpoint, malicious pickles);
- EFFICIENTNET_HOSTILE_DIR: tests/hostile/make_hostile.py's output;
- EFFICIENTNET_CLI: the console tool, efficientnet-cli.

A test whose data is missing is skipped, saying which variable to set; under EFFICIENTNET_TEST_STRICT=1 (CTest sets
it) it fails instead, so that CI never passes by skipping. Only the CUDA tests may skip there, where torch has no CUDA
device. Measurements (parity, saved memory, timings) are printed at the end of the run.
"""
import os

import pytest

REPOSITORY = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAMPLES_DIR = os.path.join(REPOSITORY, "resources", "samples")

_measurements = []


def _missing(reason):
    if os.environ.get("EFFICIENTNET_TEST_STRICT") == "1":
        pytest.fail(reason + " (EFFICIENTNET_TEST_STRICT=1: missing data is a failure)")
    pytest.skip(reason)


def _data(variable, what, check):
    value = os.environ.get(variable)
    if not value:
        _missing("%s is not set: it names %s" % (variable, what))
    if not check(value):
        _missing("%s=%s: %s is not there (generate it first: ctest -R '%s')"
                 % (variable, value, what, "reference_data|hostile_data"))
    return value


@pytest.fixture(scope="session")
def reference_dir():
    return _data("EFFICIENTNET_REFERENCE_DIR", "tests/reference/make_reference.py's output folder",
                 lambda d: os.path.isfile(os.path.join(d, "efficientnet_b0.pth")))


@pytest.fixture(scope="session")
def hostile_dir():
    return _data("EFFICIENTNET_HOSTILE_DIR", "tests/hostile/make_hostile.py's output folder",
                 lambda d: os.path.isfile(os.path.join(d, "zip_bomb_pickle.pth")))


@pytest.fixture(scope="session")
def cli():
    return _data("EFFICIENTNET_CLI", "the efficientnet-cli executable", lambda p: os.access(p, os.X_OK))


@pytest.fixture(scope="session")
def sample_photos():
    """The sample photos as files; skipped (failed when strict) where the build cannot decode image files."""
    import efficientnet_libtorch
    if not efficientnet_libtorch.build_info()["image_files"]:
        _missing("this build of efficientnet_libtorch decodes no image files (it was built without OpenCV)")
    photos = sorted(os.path.join(SAMPLES_DIR, f) for f in os.listdir(SAMPLES_DIR) if f.endswith(".jpg"))
    assert len(photos) >= 4, "resources/samples should hold the sample photos"
    return photos


@pytest.fixture
def record():
    """record(what, value): a measurement, printed in the run's summary (and at once, for pytest -s)."""
    def add(what, value):
        _measurements.append((what, value))
        print("MEASURED %s: %s" % (what, value))
    return add


def pytest_terminal_summary(terminalreporter):
    if _measurements:
        terminalreporter.section("measurements")
        for what, value in _measurements:
            terminalreporter.write_line("%s: %s" % (what, value))


@pytest.fixture
def cuda():
    """The CUDA device; the test is skipped, saying why, where torch has none."""
    import torch
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is False (torch %s, built with CUDA %s); only a GPU "
                    "machine runs this" % (torch.__version__, torch.version.cuda))
    return torch.device("cuda")
