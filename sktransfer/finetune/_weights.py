"""Per-sample loss weights: sklearn's ``sample_weight`` and ``class_weight`` in the nets.

A weighted training set is a :class:`WeightedDataset`, whose items are ``(x, (y, w))``;
batches collate to ``(X, [y, w])``, and the nets' ``get_loss`` (see
``_callbacks._TransferNetMixin``) averages each sample's loss times its weight, so that a
weight of 2 counts a sample twice and 0 leaves it out, as in sklearn's estimators.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["WeightedDataset", "loss_weights", "weighted_loss"]


class WeightedDataset(torch.utils.data.Dataset):
    """``base``'s items with a loss weight beside each target: ``(x, (y, weight))``."""

    def __init__(self, base: Any, weights: np.ndarray):
        self.base, self.weights = base, weights

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int):
        x, y = self.base[i]
        return x, (y, self.weights[i])


def loss_weights(
    sample_weight: Any, targets: np.ndarray, per_class: np.ndarray | None = None
) -> np.ndarray | None:
    """Each sample's loss weight, as float32: ``sample_weight`` (validated as sklearn does:
    one finite, non-negative weight per sample, not all zero) times the weight of its class
    in ``per_class`` (indexed by the encoded ``targets``); None when neither is given."""
    weights = None
    if sample_weight is not None:
        from sklearn.utils.validation import _check_sample_weight

        shape = np.empty((len(targets), 1), dtype=np.float32)  # only its length is read
        weights = _check_sample_weight(
            sample_weight, shape, dtype=np.float64, ensure_non_negative=True
        )
    if per_class is not None:
        of_class = per_class[targets]
        weights = of_class if weights is None else weights * of_class
    return None if weights is None else weights.astype(np.float32)


def weighted_loss(
    criterion: torch.nn.Module, y_pred: torch.Tensor, y_true: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """The batch mean of each sample's loss (averaged over its outputs) times its weight."""
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        losses = criterion(y_pred, y_true)
    finally:
        criterion.reduction = reduction
    return (losses.reshape(len(weights), -1).mean(1) * weights).mean()
