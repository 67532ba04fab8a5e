"""EfficientNet as a torch module, its state dict, and the checkpoint readers."""
import collections
import os
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import torch

from . import _C

__all__ = ["EfficientNet", "create", "load_weights", "read_checkpoint", "models", "ModelInfo", "LoadedWeights"]

PathLike = Union[str, "os.PathLike[str]"]

# torch.nn.cpp.ModuleWrapper copies the C++ module's bound methods onto each instance, where they shadow
# torch.nn.Module's. Those below return None instead of the module (so `model = model.to(device)` would lose it),
# take no device strings ("cuda"), or convert integer buffers with the floating ones (C++ Module::to(dtype) turns
# BatchNorm's num_batches_tracked into a float); and nn.Module's own versions of the parameter iterators cannot recurse
# into C++ submodules. They are taken off the instance so that this class's methods (and nn.Module's to(), cuda(),
# cpu(), float(), double(), half(), bfloat16(), zero_grad(), which work through ModuleWrapper._apply) apply.
_REPLACED_METHODS = ("forward", "train", "eval", "to", "cuda", "cpu", "float", "double", "half", "zero_grad",
                     "parameters", "named_parameters", "buffers", "named_buffers")


class EfficientNet(_C.EfficientNet):
    """An EfficientNet (B0-B7, V2-S/M/L) whose layers are the C++ core's, as a ``torch.nn.Module``.

    Built with torch's ``torch::python::bind_module``: parameters and buffers are the C++ module's tensors, autograd
    runs through its forward, and its activations are the memory-efficient swish. ``state_dict()`` has torchvision's
    keys and order, so torchvision loads it and it loads torchvision's (``load_state_dict``). Submodules (``children()``,
    ``modules()``) are the C++ modules themselves. Pickling the module is not supported: save ``state_dict()``.

    Args:
        name: a model name as the console tool takes it: torchvision (``efficientnet_b0``, ``efficientnet_v2_s``),
            timm (``efficientnet_b3``, ``tf_efficientnet_b3``, ``tf_efficientnetv2_s``) or lukemelas
            (``efficientnet-b0``). ``tf_`` and lukemelas names build TensorFlow "SAME" padding and BatchNorm eps 1e-3,
            as their ported weights need.
        num_classes: size of the classifier head.

    Raises:
        ConfigError: an unknown name (the message lists the accepted ones) or a class count out of range.
    """

    def __init__(self, name: str = "efficientnet_b0", num_classes: int = 1000) -> None:
        super().__init__(name, num_classes)
        for method in _REPLACED_METHODS:
            self.__dict__.pop(method, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, num_classes]`` of a float batch ``[N, 3, H, W]`` (normalised as the weights expect)."""
        return self.cpp_module.forward(x)

    def train(self, mode: bool = True) -> "EfficientNet":
        """Training mode (dropout, stochastic depth, batch statistics) or, with ``mode=False``, eval mode."""
        self.cpp_module.train(mode)
        return self

    def eval(self) -> "EfficientNet":
        """Eval mode: no dropout or stochastic depth, BatchNorm's running statistics."""
        return self.train(False)

    def parameters(self, recurse: bool = True) -> Iterator[torch.Tensor]:
        """The C++ module's parameters (leaf tensors that require grad), in torchvision's order."""
        yield from self.cpp_module.parameters(recurse)

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, torch.Tensor]]:
        """``(name, parameter)`` pairs with torchvision's names (``features.0.0.weight``, ...)."""
        for name, tensor in self.cpp_module.named_parameters(recurse).items():
            yield (prefix + "." + name if prefix else name), tensor

    def buffers(self, recurse: bool = True) -> Iterator[torch.Tensor]:
        """BatchNorm's running statistics and batch counters."""
        yield from self.cpp_module.buffers(recurse)

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, torch.Tensor]]:
        """``(name, buffer)`` pairs with torchvision's names."""
        for name, tensor in self.cpp_module.named_buffers(recurse).items():
            yield (prefix + "." + name if prefix else name), tensor

    def state_dict(self, destination: Optional[Dict[str, torch.Tensor]] = None, prefix: str = "",
                   keep_vars: bool = False) -> Dict[str, torch.Tensor]:
        """Parameters and buffers under torchvision's keys, in the order torchvision's own model lists them.

        ``torchvision.models.efficientnet_b0().load_state_dict(model.state_dict())`` loads it strictly. As in torch,
        tensors are detached unless ``keep_vars``.
        """
        if destination is None:
            destination = collections.OrderedDict()
        for name, tensor in self.cpp_module._state_dict_items():
            destination[prefix + name] = tensor if keep_vars else tensor.detach()
        return destination

    def load_state_dict(self, state_dict: Dict[str, torch.Tensor], strict: bool = True) -> Any:
        """Copies tensors with torchvision's keys into the model (converted to its dtype and device).

        Strict only: a missing, unexpected or mis-shaped key is a ``CheckpointError`` naming it (``num_batches_tracked``
        may be absent, as torch allows). For checkpoint files of any source, use :func:`load_weights`.
        """
        if not strict:
            raise ValueError("EfficientNet.load_state_dict is strict only: every key must fit the model "
                             "(load_weights maps timm and lukemelas keys to torchvision's)")
        self.cpp_module._load_state_dict(dict(state_dict))
        return torch.nn.modules.module._IncompatibleKeys([], [])

    def __repr__(self) -> str:
        return "EfficientNet(%r, num_classes=%d, padding=%r)" % (self.variant, self.num_classes, self.padding)


def create(name: str = "efficientnet_b0", num_classes: int = 1000) -> EfficientNet:
    """A new :class:`EfficientNet` with torchvision's initialisation (see the class for the names taken)."""
    return EfficientNet(name, num_classes)


class LoadedWeights(NamedTuple):
    """What :func:`load_weights` loaded: whose key naming the file used, and how many tensors it held."""

    source: str   # "torchvision", "timm" or "lukemelas"
    tensors: int


def load_weights(model: EfficientNet, path: PathLike, source: Optional[str] = None) -> LoadedWeights:
    """Loads a checkpoint into ``model`` through the core's safe readers.

    The file may be a ``torch.save`` file (zip or legacy, a state_dict or a training checkpoint holding one) or
    safetensors, with torchvision's, timm's or lukemelas' keys. Nothing in the file is executed.

    Args:
        model: the model to fill; its variant must be the checkpoint's.
        path: the checkpoint file.
        source: ``"torchvision"``, ``"timm"`` or ``"lukemelas"``; None tells it from the keys.

    Raises:
        CheckpointError: the file cannot be read, is unsafe, or does not fit the model (the message names the file
            and, for a wrong variant, the variant it is).
    """
    if not isinstance(model, _C.EfficientNet):
        raise TypeError("load_weights takes an efficientnet_libtorch.EfficientNet, not %s" % type(model).__name__)
    loaded_source, tensors = _C.load_weights(model.cpp_module, os.fsdecode(os.fspath(path)), source)
    return LoadedWeights(loaded_source, tensors)


def read_checkpoint(path: PathLike) -> Dict[str, torch.Tensor]:
    """All tensors of a checkpoint, by name in the file's order, read without running any code from it.

    ``torch.load`` unpickles, and a pickle can call anything (``os.system``, ``builtins.eval``); this reader
    allow-lists the few globals a state_dict needs and refuses the rest, and checks every size and offset against the
    file. Reads ``torch.save`` files (zip and legacy; a state_dict nested under ``state_dict``, ``model``,
    ``state_dict_ema`` or ``model_ema`` comes back under its own keys) and safetensors.

    Raises:
        CheckpointError: the file cannot be read or is refused; the message names the file and the reason, e.g.
            "refuses to load ... os.system ... could execute code".
    """
    return _C.read_checkpoint(os.fsdecode(os.fspath(path)))


class ModelInfo(NamedTuple):
    """A variant of the family: its torchvision name, parameter count (1000 classes) and weights' eval transform."""

    name: str
    parameters: int
    transform: Dict[str, Any]


def models() -> List[ModelInfo]:
    """The variants :func:`create` builds, B0 to V2-L, with torchvision's eval transform for each."""
    return [ModelInfo(m["name"], m["parameters"], m["transform"]) for m in _C.models()]
