"""The classifier: a model with its weights, its checkpoint's own eval transform and class names, on a device."""
import os
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Union, overload

from . import _C

__all__ = ["Classifier", "Classification", "BatchClassification", "Prediction", "StageTimes"]

# ImageNet's 1000 class names (resources/imagenet_classes.txt), for 1000-class heads whose checkpoint names none.
_IMAGENET_LABELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagenet_classes.txt")

try:   # numpy is needed only to pass pixels; paths work without it
    import numpy as _numpy
except ImportError:   # pragma: no cover - numpy comes with torch in practice
    _numpy = None

ImageInput = Union[str, "os.PathLike[str]", "numpy.ndarray"]


class Prediction(NamedTuple):
    """One class of a top-k list: its index in the model's head, its name, its softmax probability."""

    index: int
    label: str
    probability: float


class StageTimes(NamedTuple):
    """Milliseconds per stage of one :meth:`Classifier.classify` call (for a batch: the whole batch).

    ``decode_ms`` is reading and decoding image files (0 for arrays), ``upload_ms`` the host-to-GPU copy (0 on the
    CPU); the others are the core's preprocessing (resize, crop, normalise), forward, and softmax + top-k.
    """

    decode_ms: float
    preprocess_ms: float
    upload_ms: float
    forward_ms: float
    postprocess_ms: float

    @property
    def total_ms(self) -> float:
        return sum(self)


class Classification(NamedTuple):
    """The top-k predictions for one image, highest first, and the call's stage timings."""

    predictions: List[Prediction]
    times: StageTimes


class BatchClassification(NamedTuple):
    """The top-k predictions for each image of a list, in its order, and the whole call's stage timings."""

    predictions: List[List[Prediction]]
    times: StageTimes


class Classifier:
    """Classifies photos as ``efficientnet-cli classify`` does: same model, weights, transform, labels and answers.

    Args:
        model: a model name (see :class:`EfficientNet`); None: what the weights say (their metadata, a Hugging Face
            ``config.json``, their tensors' shapes), else ``efficientnet_b0``.
        weights: a checkpoint file (``.pth`` or ``.safetensors``, torchvision, timm or lukemelas) or a Hugging Face
            model folder; None: a cached checkpoint for the model (``$EFFICIENTNET_CACHE_DIR`` or
            ``~/.cache/efficientnet-libtorch``, then torch.hub's checkpoints folder), as the console tool finds it.
        device: ``"auto"`` (CUDA when torch has a CUDA device, else the CPU), ``"cpu"`` or ``"cuda"``.
        precision: ``"auto"`` (fp16 on CUDA, fp32 on the CPU), ``"fp32"``, ``"fp16"`` or ``"bf16"``.
        random_weights: allow running without weights (the predictions then mean nothing).
        labels: a class-names file (text, one a line, or JSON) for a fine-tuned head.
        source: the checkpoint's key naming, ``"torchvision"``, ``"timm"`` or ``"lukemelas"``; None: from its keys.

    Raises:
        ConfigError: an unknown model, device or precision; no weights found.
        CheckpointError: the weights cannot be read, are unsafe, or do not fit.
    """

    def __init__(self, model: Optional[str] = None, weights: Optional[Union[str, "os.PathLike[str]"]] = None, *,
                 device: str = "auto", precision: str = "auto", random_weights: bool = False,
                 labels: Optional[Union[str, "os.PathLike[str]"]] = None, source: Optional[str] = None) -> None:
        self._impl = _C.Classifier(model or "", _path(weights) if weights is not None else "", random_weights,
                                   device, precision, source, _path(labels) if labels is not None else "",
                                   _IMAGENET_LABELS)

    @overload
    def classify(self, images: ImageInput, topk: int = 5) -> Classification: ...

    @overload
    def classify(self, images: Sequence[ImageInput], topk: int = 5) -> BatchClassification: ...

    def classify(self, images, topk=5):
        """Top-``topk`` predictions for one image or a list of them (one forward for the whole list).

        An image is a file path (``str`` or ``os.PathLike``; JPEG, PNG, BMP, WebP, TIFF, Netpbm, EXIF orientation
        applied) or a numpy ``uint8`` array of shape ``(height, width, 3)`` holding RGB pixels (as PIL gives them;
        OpenCV's ``imread`` gives BGR: reverse the last axis). One image gives a :class:`Classification`, a list or
        tuple a :class:`BatchClassification`.

        Raises:
            ImageError: a file cannot be read or decoded (the message names it).
            TypeError, ValueError: an input that is neither, or an array of another dtype or shape.
            OutOfMemoryError: one image alone does not fit in the device's memory.
        """
        if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
            raise ValueError("topk must be a positive int, not %r" % (topk,))
        single = not isinstance(images, (list, tuple))
        items = [_item(image, i) for i, image in enumerate([images] if single else images)]
        raw, times = self._impl.classify(items, topk)
        predictions = [[Prediction(*p) for p in one] for one in raw]
        if single:
            return Classification(predictions[0], StageTimes(*times))
        return BatchClassification(predictions, StageTimes(*times))

    @property
    def model(self) -> str:
        """The model name used, e.g. ``efficientnet_b0`` or ``tf_efficientnetv2_s.in21k_ft_in1k``."""
        return self._impl.model

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda:0 (GPU name)"``."""
        return self._impl.device

    @property
    def precision(self) -> str:
        """``"fp32"``, ``"fp16"`` or ``"bf16"``."""
        return self._impl.precision

    @property
    def input_size(self) -> int:
        """The transform's crop size (224 for B0)."""
        return self._impl.input_size

    @property
    def weights(self) -> str:
        """The weights file and its detected source, or ``random (meaningless)``."""
        return self._impl.weights

    @property
    def info(self) -> Dict[str, Any]:
        """What was loaded: model, variant, padding, classes, class names and their origin, the transform and where
        it comes from (the same facts ``efficientnet-cli inspect`` prints)."""
        return self._impl.info

    def __repr__(self) -> str:
        if not hasattr(self, "_impl"):   # __init__ raised
            return "Classifier(<not loaded>)"
        return "Classifier(model=%r, device=%r, precision=%r, weights=%r)" % (
            self.model, self.device, self.precision, self.weights)


def _path(path: Union[str, "os.PathLike[str]"]) -> str:
    return os.fsdecode(os.fspath(path))


def _item(image: Any, position: int) -> Any:
    if isinstance(image, (str, bytes, os.PathLike)):
        return _path(image)
    if _numpy is not None and isinstance(image, _numpy.ndarray):
        return image
    raise TypeError("image %d: classify takes image file paths (str or os.PathLike) and numpy uint8 arrays of shape "
                    "(height, width, 3), not %s" % (position, type(image).__name__))
