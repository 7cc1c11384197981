"""Class labels in, class indices for the net, the same labels out."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

__all__ = ["encode_labels"]


def encode_labels(
    owner: Any, y: Any, n_samples: int, *, refit: bool, classes: Any = None
) -> np.ndarray:
    """Indices of ``y`` in ``owner.classes_``; with ``refit``, set ``classes_`` first.

    ``classes`` (for a first ``partial_fit``) lists every class in advance. Labels not seen
    when ``classes_`` was set raise a ValueError that names them.
    """
    if n_samples == 0:
        raise ValueError("Found 0 samples; fitting needs samples of at least 2 classes.")
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(y)} labels.")
    check_classification_targets(y)
    if refit:
        owner.classes_ = np.unique(y if classes is None else np.asarray(classes))
        if len(owner.classes_) < 2:
            raise ValueError(f"y needs at least 2 classes; got only {owner.classes_.tolist()}.")
    unseen = np.setdiff1d(y, owner.classes_)
    if len(unseen):
        raise ValueError(
            f"y has labels not seen in the first fit: {unseen[:5].tolist()}; the classes "
            f"are {owner.classes_.tolist()}."
        )
    return np.searchsorted(owner.classes_, y).astype(np.int64)
