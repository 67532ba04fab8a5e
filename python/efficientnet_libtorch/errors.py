"""The exceptions efficientnet_libtorch raises for what the C++ core reports.

Each carries the core's message, which names the file (or setting) and the problem, e.g.
``/tmp/evil.pth: refuses to load: the pickle calls os.system, which could execute code``.

Bad input is a bad value, so the three input errors derive from ``ValueError`` as well as from ``Error``:
``except ValueError`` catches them with the rest of Python's bad-value errors, and ``except
efficientnet_libtorch.Error`` catches everything this package raises on purpose. A file that does not exist is a
``CheckpointError`` or an ``ImageError`` too (its message says so), not ``FileNotFoundError``: the core reports every
problem with a file the same way, and callers need one ``except`` per kind of file.
"""
from typing import Optional

__all__ = ["Error", "CheckpointError", "ImageError", "ConfigError", "OutOfMemoryError"]


class Error(Exception):
    """Base of the errors efficientnet_libtorch raises.

    ``path`` is the file (or URL) the message starts with, or None when the error is not about one file.
    """

    path: Optional[str] = None


class CheckpointError(Error, ValueError):
    """A checkpoint that cannot be read, is unsafe (a pickle that would run code), or does not fit the model."""


class ImageError(Error, ValueError):
    """An image that cannot be read or decoded, or is larger than the decoder accepts."""


class ConfigError(Error, ValueError):
    """A model name, class count, device, precision or other setting that does not exist or cannot work."""


class OutOfMemoryError(Error, RuntimeError):
    """One image alone does not fit in the device's memory (a batch that does not fit is classified in parts)."""
