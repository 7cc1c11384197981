"""Fitted image models as one ONNX file, and a runtime that predicts from it without torch.

:func:`to_onnx` writes a fitted pipeline (a :class:`~sktransfer.PretrainedImageFeaturizer`
then sklearn steps, converted by skl2onnx) or a fine-tuned image estimator as one ONNX
graph from preprocessed image tensors to probabilities (or predictions), checking it
against the model on the way. :class:`OnnxImageModel` decodes, preprocesses and predicts
with Pillow, NumPy and ONNX Runtime alone: importing it does not import torch.

Needs ``pip install "sktransfer[onnx]"``. Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "ExportReport": "._to_onnx",
    "OnnxImageModel": "._runtime",
    "PARITY_TOLERANCE": "._to_onnx",
    "to_onnx": "._to_onnx",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from ._runtime import OnnxImageModel  # noqa: F401
    from ._to_onnx import PARITY_TOLERANCE, ExportReport, to_onnx  # noqa: F401

__getattr__, __dir__ = attach(__name__, _LAZY)
