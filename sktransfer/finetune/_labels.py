"""Class labels in, class indices for the net, the same labels out."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

__all__ = ["ClassTargets", "class_weights", "encode_labels", "encode_values"]


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


def class_weights(class_weight: Any, classes: np.ndarray, encoded: np.ndarray) -> np.ndarray | None:
    """Per-class loss weights, in the order of ``classes``, as sklearn classifiers take them:
    None, "balanced" (``n_samples / (n_classes * count)`` over the classes present in
    ``encoded``; a class listed in advance but absent weighs 1), or a dict of label to
    weight naming every class."""
    if class_weight is None:
        return None
    from sklearn.utils.class_weight import compute_class_weight

    if isinstance(class_weight, dict):
        unknown = [label for label in class_weight if label not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight names labels that are not classes: {unknown[:5]}; the classes "
                f"are {classes.tolist()}."
            )
    present = np.unique(encoded)
    weights = np.ones(len(classes))
    weights[present] = compute_class_weight(
        class_weight, classes=classes[present], y=classes[encoded]
    )
    return weights


class ClassTargets:
    """What the fine-tuned classifiers share: labels in (``classes_``, per-class loss weights
    from ``class_weight``), class indices for the net, the most probable label out."""

    _has_classes = True  # the early-stopping split is stratified

    def _encode_targets(self, y: Any, n_samples: int, *, refit: bool, classes: Any = None):
        encoded = encode_labels(self, y, n_samples, refit=refit, classes=classes)
        if refit:
            self._class_weights = class_weights(self.class_weight, self.classes_, encoded)
        return encoded

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each sample, as given in ``fit``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(1)]


def encode_values(owner: Any, y: Any, n_samples: int, *, refit: bool) -> np.ndarray:
    """Regression targets as a float32 ``(n_samples, n_outputs_)`` array; with ``refit``,
    set ``n_outputs_`` (and whether ``y`` was 1-D) on ``owner`` first."""
    from sklearn.utils.validation import check_array

    if n_samples == 0:
        raise ValueError("Found 0 samples; fitting needs at least one.")
    y = check_array(y, ensure_2d=False, dtype=np.float32, input_name="y")
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(y)} targets.")
    if refit:
        owner._one_target = y.ndim == 1
        owner.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
    return y.reshape(n_samples, owner.n_outputs_)
