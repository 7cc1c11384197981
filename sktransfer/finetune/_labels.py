"""Class labels in, class indices for the net, the same labels out."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d
from torch import nn

__all__ = [
    "ClassTargets",
    "class_weights",
    "encode_labels",
    "encode_values",
    "is_label_sets",
    "is_multilabel",
]


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


def is_label_sets(y: Any) -> bool:
    """Whether ``y`` lists a set of labels per sample (lists, tuples or sets of labels)."""
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or hasattr(y, "shape"):
        return False
    return len(y) > 0 and all(isinstance(v, (list, tuple, set, frozenset)) for v in y)


def is_multilabel(y: Any) -> bool:
    """Whether ``y`` holds multi-label targets: an indicator matrix or label sets."""
    if is_label_sets(y):
        return True
    from sklearn.utils.multiclass import type_of_target

    return type_of_target(y) == "multilabel-indicator"


class ClassTargets:
    """What the fine-tuned classifiers share: labels in (``classes_``, per-class loss weights
    from ``class_weight``), class indices for the net and the most probable label out; or,
    for multi-label targets (an indicator matrix or label sets), one 0/1 column per label in,
    one sigmoid per label in the net, and the labels above ``threshold`` out."""

    _multilabel = False  # set by each fit

    @property
    def _has_classes(self) -> bool:  # the early-stopping split is stratified on classes
        return not self._multilabel

    def _encode_targets(self, y: Any, n_samples: int, *, refit: bool, classes: Any = None):
        if refit:
            self._multilabel = is_multilabel(y)
        elif is_multilabel(y) != self._multilabel:
            kind = "multi-label" if self._multilabel else "single-label"
            raise ValueError(f"This model was fitted on {kind} targets; y is not.")
        if self._multilabel:
            return self._encode_indicator(y, n_samples, refit=refit, classes=classes)
        encoded = encode_labels(self, y, n_samples, refit=refit, classes=classes)
        if refit:
            self._class_weights = class_weights(self.class_weight, self.classes_, encoded)
        return encoded

    def _encode_indicator(self, y: Any, n_samples: int, *, refit: bool, classes: Any = None):
        """Multi-label targets as a float32 ``(n_samples, n_labels)`` 0/1 matrix; with
        ``refit``, set ``classes_`` (the labels of label sets, else the column indices)."""
        from sklearn.preprocessing import MultiLabelBinarizer
        from sklearn.utils.validation import check_array

        if n_samples == 0:
            raise ValueError("Found 0 samples; fitting needs at least one.")
        if refit and self.class_weight is not None:
            raise ValueError(
                "class_weight applies to single-label targets; weigh the samples of "
                "multi-label ones with sample_weight."
            )
        sets = is_label_sets(y)
        if sets:
            found = sorted({label for labels in y for label in labels})
            if refit:
                self.classes_ = np.array(found if classes is None else list(classes))
            unseen = sorted(set(found) - set(self.classes_.tolist()))
            if unseen:
                raise ValueError(
                    f"y has labels not seen in the first fit: {unseen[:5]}; the labels are "
                    f"{self.classes_.tolist()}."
                )
            indicator = MultiLabelBinarizer(classes=self.classes_).fit_transform(y)
        else:
            indicator = check_array(y, dtype=None, input_name="y")
            if not np.isin(indicator, (0, 1)).all():
                raise ValueError("A multi-label y must hold only 0 and 1.")
            if refit:
                self.classes_ = np.arange(indicator.shape[1])
            elif indicator.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y has {indicator.shape[1]} label columns; this model has "
                    f"{len(self.classes_)}."
                )
        if len(indicator) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(indicator)} rows.")
        if refit:
            self._class_weights = None
            counts = indicator.sum(0)
            constant = [
                f"{label!r} ({'never' if n == 0 else 'always'})"
                for label, n in zip(self.classes_.tolist(), counts, strict=True)
                if n in (0, n_samples)
            ]
            if constant and classes is None:
                raise ValueError(
                    f"Labels {', '.join(constant[:5])} apply to every sample or to none: the "
                    "model cannot learn them; drop those columns."
                )
        return indicator.astype(np.float32)

    def _loss_options(self) -> dict:
        """The net's criterion: softmax cross-entropy over the classes, or for multi-label
        targets one sigmoid (binary cross-entropy) per label."""
        options = {"classes": list(range(len(self.classes_)))}
        if self._multilabel:
            return {
                **options,
                "criterion": nn.BCEWithLogitsLoss,
                "predict_nonlinearity": torch.sigmoid,
            }
        return {**options, "criterion": nn.CrossEntropyLoss}

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _init_output(self, module: nn.Module, targets: np.ndarray) -> None:
        """For multi-label targets, start each label's output bias at the log-odds of its
        share of the training samples (as in Lin et al., 2017): the sigmoids then start at
        the labels' rates, not at 0.5, and training spends its steps on telling samples
        apart rather than on learning how rare each label is."""
        if not self._multilabel:
            return
        head = module.top.head if hasattr(module, "top") else module.head  # FrozenBelow
        last = [layer for layer in head.modules() if isinstance(layer, nn.Linear)][-1]
        rate = np.clip(targets.mean(0), 1e-3, 1 - 1e-3)
        with torch.no_grad():
            last.bias.copy_(torch.as_tensor(np.log(rate / (1 - rate)), dtype=last.bias.dtype))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each sample, as given in ``fit``; for multi-label
        targets, the 0/1 matrix of the labels whose probability reaches ``threshold``
        (columns in the order of ``classes_``)."""
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba >= self.threshold).astype(np.int64)
        return self.classes_[proba.argmax(1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` (for multi-label targets, the share of samples whose
        every label is right: sklearn's subset accuracy)."""
        from sklearn.metrics import accuracy_score

        if self._multilabel:
            y = self._encode_indicator(y, len(y), refit=False)
        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


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
