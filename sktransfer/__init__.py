"""sktransfer: transfer learning as a first-class citizen of scikit-learn.

The public names load on first use, so ``from sktransfer import Word2VecEmbedder`` does
not import torch, and ``from sktransfer import PretrainedImageFeaturizer`` does not import
gensim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach

__version__ = "0.1.0"

_LAZY = {
    "FineTunedImageClassifier": ".finetune",
    "LeakageSafeKFold": ".model_selection",
    "PretrainedImageFeaturizer": ".image",
    "Word2VecEmbedder": ".text",
    "list_backbones": ".backbones",
    "load_backbone": ".backbones",
    "load_vectors": ".text",
}

__all__ = sorted([*_LAZY, "__version__"])

if TYPE_CHECKING:
    from .backbones import list_backbones, load_backbone  # noqa: F401
    from .finetune import FineTunedImageClassifier  # noqa: F401
    from .image import PretrainedImageFeaturizer  # noqa: F401
    from .model_selection import LeakageSafeKFold  # noqa: F401
    from .text import Word2VecEmbedder, load_vectors  # noqa: F401

__getattr__, __dir__ = attach(__name__, _LAZY)
