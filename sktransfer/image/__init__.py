"""Image loading and the pretrained image featurizer.

Names load on first use: the loaders (``open_rgb``, ``as_sample_list``) do not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "PretrainedImageFeaturizer": "._featurizer",
    "preprocess_transform": "._featurizer",
    "as_sample_list": "._loading",
    "open_rgb": "._loading",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from ._featurizer import PretrainedImageFeaturizer, preprocess_transform  # noqa: F401
    from ._loading import as_sample_list, open_rgb  # noqa: F401

__getattr__, __dir__ = attach(__name__, _LAZY)
