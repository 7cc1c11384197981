"""The pretrained image featurizer.

Names load on first use: importing ``sktransfer.image`` does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {"BACKEND_TOLERANCE": "._featurizer", "PretrainedImageFeaturizer": "._featurizer"}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from ._featurizer import BACKEND_TOLERANCE, PretrainedImageFeaturizer  # noqa: F401

__getattr__, __dir__ = attach(__name__, _LAZY)
