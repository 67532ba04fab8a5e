"""EfficientNet B0-B7 and V2-S/M/L from the EfficientNet LibTorch C++ core, for PyTorch users.

The network, the checkpoint readers (torchvision, timm and lukemelas files; pickles that would run code are refused)
and the classifier are the C++ library's; this package binds them to torch::

    import efficientnet_libtorch as enl
    model = enl.create("efficientnet_b0", num_classes=1000)        # a torch.nn.Module
    enl.load_weights(model, "efficientnet_b0_rwightman-7f5810bc.pth")
    classifier = enl.Classifier(weights="efficientnet_b0_rwightman-7f5810bc.pth")
    print(classifier.classify("cat.jpg", topk=5).predictions)

Contents: :func:`create` / :class:`EfficientNet`, :func:`load_weights`, :func:`read_checkpoint`, :func:`models`,
:class:`Classifier`, :mod:`efficientnet_libtorch.activation` (the memory-efficient swish) and
:mod:`efficientnet_libtorch.errors`.

Importing this package imports torch first, so the order of imports never matters, and checks that torch is the
version (and C++ ABI) the extension was compiled against: another one gives an ImportError that says how to rebuild.
"""
# torch first, always: the extension's classes derive from C++ types that torch._C registers with pybind11, and the
# extension links the LibTorch that torch has loaded.
import torch

from . import _version_check

_build_info = _version_check.check(torch)   # before the extension is loaded: a mismatch is an ImportError, not a crash
_C = _version_check.load_extension(_build_info)

from . import activation  # noqa: E402  (after the check, on purpose)
from ._classifier import BatchClassification, Classification, Classifier, Prediction, StageTimes  # noqa: E402
from ._model import EfficientNet, LoadedWeights, ModelInfo, create, load_weights, models, read_checkpoint  # noqa: E402
from .errors import CheckpointError, ConfigError, Error, ImageError, OutOfMemoryError  # noqa: E402

__version__ = _build_info.VERSION

__all__ = [
    "activation", "create", "EfficientNet", "load_weights", "read_checkpoint", "models", "ModelInfo",
    "LoadedWeights", "Classifier", "Classification", "BatchClassification", "Prediction", "StageTimes", "Error",
    "CheckpointError", "ImageError", "ConfigError", "OutOfMemoryError", "build_info",
]


def build_info() -> dict:
    """What this build was compiled against: torch version, C++ ABI, CUDA, Python, LibTorch file, source folder."""
    return {key.lower(): value for key, value in vars(_build_info).items() if key.isupper()}
