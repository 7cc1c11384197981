"""Out-of-fold losses and likely label errors."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import column_or_1d

from .._inputs import describe_sample, samples_and_kind
from ..model_selection import LeakageSafeKFold

__all__ = ["label_issues", "top_losses"]

logger = logging.getLogger("sktransfer")

_COMMON = {
    "estimator": [HasMethods(["fit", "predict_proba"]), None],
    "X": "no_validation",
    "y": ["array-like"],
    "cv": ["cv_object"],
    "proba": ["array-like", None],
    "kind": [StrOptions({"auto", "image", "text"})],
    "n_jobs": [Integral, None],
}
_SMALLEST = 1e-12  # probabilities are clipped here before their log is taken


@dataclass
class _OutOfFold:
    samples: list
    kind: str
    y: np.ndarray
    classes: np.ndarray
    encoded: np.ndarray  # index of each given label in ``classes``
    proba: np.ndarray  # (n_samples, n_classes), columns in the order of ``classes``
    fold: np.ndarray | None  # the fold that predicted each sample
    group: np.ndarray | None  # each sample's group of copies (with a LeakageSafeKFold)

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The columns every report shares, for the samples ``rows``."""
        described = [_describe(self.samples[i], self.kind) for i in rows]
        frame = pd.DataFrame({"sample": described}, index=pd.Index(rows, name="index"))
        if self.fold is not None:
            frame["fold"] = self.fold[rows]
        if self.group is not None:
            frame["group"] = self.group[rows]
        frame.attrs["samples"] = self.kind
        return frame


def _describe(sample: Any, kind: str) -> str:
    if kind == "text" or isinstance(sample, (str, os.PathLike)):
        return os.fspath(sample)
    return describe_sample(sample)


def _out_of_fold(estimator, X, y, cv, proba, kind, n_jobs) -> _OutOfFold:
    samples, kind = samples_and_kind(X, kind)
    y = column_or_1d(y, warn=True)
    if len(y) != len(samples):
        raise ValueError(f"X has {len(samples)} samples but y has {len(y)} labels.")
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y needs at least 2 classes; got only {classes.tolist()}.")
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        if proba.shape != (len(y), len(classes)):
            raise ValueError(
                f"proba has shape {proba.shape}; expected {(len(y), len(classes))}: one row per "
                "sample, one column per class in the order of np.unique(y)."
            )
        return _OutOfFold(samples, kind, y, classes, encoded, proba, None, None)
    if estimator is None:
        raise ValueError("Pass an estimator to cross-validate, or proba= computed already.")
    group = None
    if isinstance(cv, Integral):
        cv = LeakageSafeKFold(cv, shuffle=True, random_state=0)
    if isinstance(cv, LeakageSafeKFold):
        group = cv.duplicate_groups(X)
        splits = list(cv.split_groups(group, y))
    else:
        splits = list(check_cv(cv, y, classifier=True).split(X, y))
    fold = np.full(len(y), -1)
    for k, (_, test) in enumerate(splits):
        fold[test] = k
    if (fold < 0).any():
        raise ValueError(
            f"The folds of {cv!r} leave {int((fold < 0).sum())} samples out of every test "
            f"set (first: index {int(np.flatnonzero(fold < 0)[0])}); every sample needs an "
            "out-of-fold prediction."
        )
    logger.info("Out-of-fold probabilities of %d samples over %d folds.", len(y), len(splits))
    proba = cross_val_predict(estimator, X, y, cv=splits, method="predict_proba", n_jobs=n_jobs)
    return _OutOfFold(samples, kind, y, classes, encoded, proba, fold, group)


@validate_params(
    _COMMON | {"k": [Interval(Integral, 1, None, closed="left"), None]},
    prefer_skip_nested_validation=True,
)
def top_losses(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    k: int | None = 16,
    cv: Any = 5,
    proba: Any = None,
    kind: str = "auto",
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """The samples with the highest out-of-fold loss: what the model gets most wrong.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, or None
        Cloned and fitted once per fold (any sklearn classifier or pipeline, a fine-tuner,
        a search). None with ``proba``.
    X : collection of images or texts
        Image paths, arrays or PIL images, or texts: what ``estimator`` takes.
    y : array-like of shape (n_samples,)
        The given labels.
    k : int or None, default=16
        How many samples to return, the worst first; None returns every sample.
    cv : int, cross-validation splitter or iterable, default=5
        An int is ``LeakageSafeKFold(cv, shuffle=True, random_state=0)``: copies of a sample
        never help predict it, and each row names its group of copies.
    proba : array-like of shape (n_samples, n_classes), default=None
        Out-of-fold probabilities computed already (columns in the order of
        ``np.unique(y)``): the cross-validation is skipped.
    kind : {"auto", "image", "text"}, default="auto"
        How to read string samples (see :func:`~sktransfer.find_duplicates`).
    n_jobs : int or None, default=None
        Folds fitted in parallel (``cross_val_predict``'s ``n_jobs``).

    Returns
    -------
    pandas.DataFrame
        Indexed by sample position, sorted by ``loss`` (the out-of-fold cross-entropy,
        ``-log p(given label)``) from the highest: ``sample`` (the path, the text, or the
        array's shape), ``given_label``, ``predicted_label``, ``given_probability``,
        ``predicted_probability``, ``loss``, and, after a cross-validation, ``fold`` and
        (with a :class:`~sktransfer.LeakageSafeKFold`) ``group``. Draw it with
        :func:`plot_top_losses`.

    See Also
    --------
    label_issues : the samples whose given label is likely wrong.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sktransfer import TransformerTextEmbedder, load_sms_spam, top_losses
    >>> sms = load_sms_spam()[:300]
    >>> model = make_pipeline(TransformerTextEmbedder(progress=False), LogisticRegression(C=10))
    >>> worst = top_losses(model, sms["text"], sms["label"], k=3)
    >>> list(worst.columns[:3]), len(worst)
    (['sample', 'given_label', 'predicted_label'], 3)
    """
    oof = _out_of_fold(estimator, X, y, cv, proba, kind, n_jobs)
    rows = np.arange(len(oof.y))
    given = oof.proba[rows, oof.encoded]
    predicted = oof.proba.argmax(1)
    loss = -np.log(np.clip(given, _SMALLEST, 1.0))
    order = np.argsort(-loss, kind="stable")[:k]
    frame = oof.frame(order)
    frame.insert(1, "given_label", oof.y[order])
    frame.insert(2, "predicted_label", oof.classes[predicted[order]])
    frame.insert(3, "given_probability", given[order])
    frame.insert(4, "predicted_probability", oof.proba[order, predicted[order]])
    frame.insert(5, "loss", loss[order])
    return frame


@validate_params(
    _COMMON
    | {
        "filter_by": [
            StrOptions(
                {
                    "prune_by_noise_rate",
                    "prune_by_class",
                    "both",
                    "confident_learning",
                    "predicted_neq_given",
                }
            )
        ]
    },
    prefer_skip_nested_validation=True,
)
def label_issues(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    filter_by: str = "both",
    proba: Any = None,
    kind: str = "auto",
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """The samples whose given label is likely wrong, the most likely first.

    Confident learning (Northcutt, Jiang and Chuang, JAIR 2021) on out-of-fold
    probabilities, through cleanlab's ``find_label_issues``: the joint distribution of
    given and true labels is estimated from the samples each class's average confidence
    claims, about as many samples as it counts as mislabeled are flagged, and they are
    ranked by self-confidence (the out-of-fold probability of their given label), the
    lowest first.

    Parameters
    ----------
    estimator, X, y, cv, proba, kind, n_jobs
        As for :func:`top_losses`.
    filter_by : str, default="both"
        cleanlab's rule for which samples to flag: "both" flags those that its
        "prune_by_noise_rate" (the lowest margins, as many per (given, true) label pair as
        the joint estimates) and "prune_by_class" (the least self-confident of each given
        class) both flag: fewer true labels flagged, for a few more mislabeled ones missed
        (on MNIST digits with 5% flipped: precision 0.87 and recall 0.85, against 0.73 and
        0.86 for "prune_by_noise_rate"; ``benchmarks/RESULTS.md``).

    Returns
    -------
    pandas.DataFrame
        One row per flagged sample, indexed by its position, sorted from the most to the
        least likely mislabeled: ``sample``, ``given_label``, ``suggested_label`` (the most
        probable label out of fold), ``score`` (the self-confidence: lower is more likely
        wrong), and, after a cross-validation, ``fold`` and ``group``. Empty when nothing
        looks mislabeled.

    Raises
    ------
    ImportError
        Without cleanlab: ``pip install "sktransfer[inspection]"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sktransfer import TransformerTextEmbedder, label_issues, load_sms_spam
    >>> sms = load_sms_spam()[:300]
    >>> labels = sms["label"].to_numpy(copy=True)
    >>> labels[[3, 7]] = np.where(labels[[3, 7]] == "spam", "ham", "spam")  # two flipped
    >>> model = make_pipeline(TransformerTextEmbedder(progress=False), LogisticRegression(C=10))
    >>> issues = label_issues(model, sms["text"], labels)
    >>> {3, 7} <= set(issues.index)
    True
    """
    try:
        from cleanlab.filter import find_label_issues
    except ImportError as error:
        raise ImportError(
            'label_issues needs cleanlab: pip install "sktransfer[inspection]".'
        ) from error
    oof = _out_of_fold(estimator, X, y, cv, proba, kind, n_jobs)
    rows = np.arange(len(oof.y))
    ranked = find_label_issues(
        oof.encoded,
        oof.proba,
        filter_by=filter_by,
        return_indices_ranked_by="self_confidence",
        n_jobs=1,  # cleanlab's worker processes add nothing at these sizes
    )
    ranked = np.asarray(ranked, dtype=np.int64)
    frame = oof.frame(ranked)
    frame.insert(1, "given_label", oof.y[ranked])
    frame.insert(2, "suggested_label", oof.classes[oof.proba[ranked].argmax(1)])
    frame.insert(3, "score", oof.proba[rows, oof.encoded][ranked])
    logger.info("%d of %d labels look wrong.", len(ranked), len(rows))
    return frame
