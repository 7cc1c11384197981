"""The honest evaluation of domain adaptation: target accuracy, seen unlabelled and unseen."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._inputs import as_sample_list
from ..exceptions import SktransferWarning
from ._split import leakage_safe_train_test_split

__all__ = ["adaptation_scores"]


def adaptation_scores(
    estimator: Any,
    X_source: Any,
    y_source: Any,
    X_target: Any,
    y_target: Any,
    *,
    test_size: float = 0.5,
    baseline: bool = True,
    random_state: Any = None,
    return_estimators: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict]:
    """Target accuracy of a domain-adapting classifier, and of source-only training.

    The labelled target images are split in two, copies kept on one side
    (:func:`leakage_safe_train_test_split`, stratified): one part is given to ``fit``
    without its labels (as -1 rows), the other is never seen. A clone of ``estimator`` fits
    the labelled source images and the first part; its accuracy on the first part is the
    *transductive* score (adapting to the very images to be labelled), on the second the
    *inductive* one (new images of the target domain). With ``baseline``, another clone
    fits the source images alone and is scored on the same parts.

    Parameters
    ----------
    estimator : classifier
        One that takes unlabelled rows as label -1 (e.g.
        :class:`~sktransfer.finetune.DomainAdversarialClassifier`).
    X_source, y_source : collection of images, array-like of labels
        The labelled domain.
    X_target, y_target : collection of images, array-like of labels
        The domain to adapt to; its labels are used only to score.
    test_size : float, default=0.5
        Share of the target images never given to ``fit`` (rounded as with ``stratify``).
    baseline : bool, default=True
        Also score source-only training (the baseline adaptation must beat).
    random_state : int, RandomState instance or None, default=None
        Seeds the split of the target images.
    return_estimators : bool, default=False
        Also return the fitted models, as ``cross_validate(return_estimator=True)`` does.

    Returns
    -------
    scores : pandas.DataFrame
        Rows "adapted" (and "source only"); columns "transductive", "inductive" and
        "domain_accuracy" (the adapted model's ``domain_accuracy_`` where it has one).
        ``attrs`` holds the number of images in each part.
    estimators : dict
        With ``return_estimators``: the fitted models by row name.
    """
    source = as_sample_list(X_source)
    target = as_sample_list(X_target)
    y_source, y_target = np.asarray(y_source), np.asarray(y_target)
    for name, samples, labels in (("source", source, y_source), ("target", target, y_target)):
        if len(samples) != len(labels):
            raise ValueError(f"X_{name} has {len(samples)} images but y_{name} has {len(labels)}.")
    seen, unseen, seen_y, unseen_y = leakage_safe_train_test_split(
        target, y_target, test_size=test_size, stratify=y_target, random_state=random_state
    )
    # -1 marks the unlabelled rows: a signed dtype for numbers, objects beside strings
    dtype = np.result_type(y_source, np.int8) if y_source.dtype.kind in "iuf" else object
    y = np.concatenate([y_source.astype(dtype), np.full(len(seen), -1, dtype=dtype)])
    adapted = clone(estimator).fit(source + list(seen), y)
    unknown = sorted(set(y_target.tolist()) - set(np.asarray(adapted.classes_).tolist()))
    if unknown:
        warnings.warn(
            f"Target labels {unknown[:5]} do not occur among the source labels: no model "
            "trained on the source can predict them, and they count as errors.",
            SktransferWarning,
            stacklevel=2,
        )
    rows = {"adapted": adapted}
    if baseline:
        with warnings.catch_warnings():  # that it sees no target rows is the point here
            warnings.simplefilter("ignore", SktransferWarning)
            rows["source only"] = clone(estimator).fit(source, y_source)
    scores = pd.DataFrame(
        {
            "transductive": [m.score(list(seen), seen_y) for m in rows.values()],
            "inductive": [m.score(list(unseen), unseen_y) for m in rows.values()],
            "domain_accuracy": [getattr(adapted, "domain_accuracy_", None)]
            + [None] * (len(rows) - 1),
        },
        index=list(rows),
    )
    scores.attrs.update(n_source=len(source), n_seen=len(seen), n_unseen=len(unseen))
    return (scores, rows) if return_estimators else scores
