"""Exceptions and warnings raised by sktransfer.

Every error the package raises on purpose derives from :class:`SktransferError`, so
``except SktransferError`` catches them all; each also derives from the built-in type a
caller would naturally catch (``ValueError``, ``FileNotFoundError``, ...).
"""

from __future__ import annotations

__all__ = [
    "ImageLoadError",
    "SktransferError",
    "SktransferWarning",
    "UnknownBackboneError",
    "WeightsNotFoundError",
]


class SktransferError(Exception):
    """Base class of the errors raised by sktransfer."""


class UnknownBackboneError(SktransferError, ValueError):
    """A backbone name (or layer name) that the registry does not know."""


class WeightsNotFoundError(SktransferError, FileNotFoundError):
    """Pretrained weights are neither bundled, at the given path, cached, nor downloadable."""


class ImageLoadError(SktransferError, ValueError):
    """One or more input samples could not be decoded into an image.

    Attributes
    ----------
    failures : list of (int, str, str)
        ``(index, description of the sample, reason)`` for every sample that failed.
    """

    def __init__(self, failures: list[tuple[int, str, str]]):
        self.failures = list(failures)
        lines = [f"  sample {i} ({what}): {why}" for i, what, why in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more")
        n = len(self.failures)
        super().__init__(
            f"{n} sample{'s' if n != 1 else ''} could not be loaded as an image:\n"
            + "\n".join(lines)
            + "\nFix or drop these samples, or pass on_error='warn' to get NaN rows for them."
        )


class SktransferWarning(UserWarning):
    """Warnings issued by sktransfer (failed samples under on_error='warn', cache problems)."""
