"""The memory-efficient swish (SiLU) of the C++ core, for any torch model.

``swish(x) = x * sigmoid(x)``. When a gradient is needed it runs as a C++ autograd function that saves only ``x``
for backward and recomputes the sigmoid there (as timm's ``SwishAutoFn`` does, timm/layers/activations_me.py), so a
training forward keeps one tensor per activation; the plain expression ``x * torch.sigmoid(x)`` keeps two (``x`` and
``sigmoid(x)``). ``torch.nn.SiLU`` (native since torch 1.7) also saves only its input: this swish matches it in
memory and in values. Without autograd it is ``torch.nn.functional.silu``. CPU and CUDA tensors, any floating dtype.
"""
import torch

from . import _C

__all__ = ["swish", "Swish"]


def swish(x: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(x)``, saving only ``x`` for backward (the sigmoid is recomputed in backward)."""
    return _C.swish(x)


class Swish(torch.nn.Module):
    """:func:`swish` as a module, a drop-in replacement for ``torch.nn.SiLU()`` (no ``inplace`` variant)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _C.swish(x)
