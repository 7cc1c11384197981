"""Cross-validation splitters that never put copies of one sample on both sides."""

from __future__ import annotations

import logging
from itertools import chain
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    GroupShuffleSplit,
    StratifiedGroupKFold,
)
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    Interval,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.multiclass import type_of_target

from ._duplicates import (
    DEFAULT_WORD_SIMILARITY,
    DUPLICATE_OPTIONS,
    duplicate_options,
    fingerprint,
    merge_labelings,
)

__all__ = ["LeakageSafeKFold", "is_classification", "leakage_safe_train_test_split"]

logger = logging.getLogger("sktransfer")


def _columns(X, column) -> list:
    """The collections to fingerprint: ``X`` itself, or the named columns of a DataFrame."""
    is_frame = hasattr(X, "columns") and hasattr(X, "iloc")
    if column is None:
        if is_frame and X.shape[1] > 1:
            raise ValueError(
                f"X is a DataFrame with {X.shape[1]} columns {list(X.columns)[:5]}; pass "
                "column= (a name, a position or a list of them) to say which holds the "
                "images or texts whose copies must stay in one fold."
            )
        return [X]
    if not is_frame:
        raise TypeError(f"column={column!r} needs a pandas DataFrame X, got {type(X).__name__}.")
    columns = [column] if isinstance(column, str | Integral) else list(column)
    picked = []
    for c in columns:
        if isinstance(c, Integral) and c not in X.columns:
            picked.append(X.iloc[:, c])
        elif c in X.columns:
            picked.append(X[c])
        else:
            raise KeyError(f"column {c!r} is not in X; its columns are {list(X.columns)[:10]}.")
    return picked


def _leakage_groups(X, groups, *, column, near_duplicates, **options) -> np.ndarray:
    labels = None
    for samples in _columns(X, column):  # copies in any of the columns join their groups
        found = fingerprint(samples, near=near_duplicates, **options)
        found = found.groups(near=near_duplicates)
        labels = found if labels is None else merge_labelings(labels, found)
    if groups is not None:
        labels = merge_labelings(labels, groups)
    n_groups = int(labels.max()) + 1
    logger.info(
        "%d samples form %d groups of copies (%d samples merged with an earlier one%s).",
        len(labels),
        n_groups,
        len(labels) - n_groups,
        ", user groups included" if groups is not None else "",
    )
    return labels


def is_classification(y) -> bool:
    """Whether ``y`` holds one class per sample (what stratification needs)."""
    if y is None:
        return False
    try:
        return type_of_target(y) in ("binary", "multiclass")
    except ValueError:  # label sets per sample (multi-label), which sklearn cannot stratify
        return False


class LeakageSafeKFold(BaseCrossValidator):
    """K-fold cross-validation in which exact and near duplicates share a fold.

    ``split`` finds the copies in ``X`` itself (:func:`find_duplicates`), joins them with any
    ``groups`` given, and splits with :class:`~sklearn.model_selection.StratifiedGroupKFold`
    when ``y`` holds classes (else :class:`~sklearn.model_selection.GroupKFold`). It drops
    into ``cross_val_score``, ``cross_validate`` and ``GridSearchCV(cv=...)``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    stratify : bool, default=True
        Keep class proportions in each fold when ``y`` holds classes.
    shuffle : bool, default=False
        Shuffle the groups before they are dealt into folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle; only with ``shuffle=True``.
    near_duplicates : bool, default=True
        Keep near duplicates together too; False keeps only exact copies together.
    similarity : float or None, default=None
        Near-duplicate threshold of :func:`find_duplicates` (None: its default for the kind).
    kind : {"auto", "image", "text"}, default="auto"
        How to read ``X`` (see :func:`find_duplicates`).
    method : {"auto", "hash", "embedding", "both"}, default="auto"
        How near duplicates are found (see :func:`find_duplicates`): by default images by
        perceptual code or pretrained embedding, which catches crops, flips and small
        rotations, and texts by character 5-grams and word edits.
    word_similarity, embedding_similarity, embedder, mask_digits
        The other thresholds, the image embedder and the digit masking of texts of
        :func:`find_duplicates`. Pass the featurizer of the model you cross-validate, with
        its ``cache=``, and each image's features are computed once for both.
    column : str, int, list of them, or None, default=None
        For a pandas DataFrame ``X`` (say, an image-path column beside tabular columns),
        the column or columns whose images or texts are compared; a copy in any of them
        keeps two rows together. None: ``X`` itself is the collection (a one-column frame
        works too).

    See Also
    --------
    find_duplicates : The group labels this splitter computes.
    cv_leakage_report : How many test samples of any splitter have a copy in training.

    Examples
    --------
    >>> from sktransfer.model_selection import LeakageSafeKFold
    >>> texts = ["win a prize, call 0800 1", "WIN a prize - call 0800 2", "see you at 6",
    ...          "lunch?", "on my way", "call me later"]
    >>> cv = LeakageSafeKFold(n_splits=2)
    >>> [sorted(test.tolist()) for _, test in cv.split(texts)]
    [[0, 1, 3], [2, 4, 5]]
    """

    __metadata_request__split = {"groups": True}

    def __init__(
        self,
        n_splits: int = 5,
        *,
        stratify: bool = True,
        shuffle: bool = False,
        random_state: Any = None,
        near_duplicates: bool = True,
        similarity: float | None = None,
        kind: Literal["auto", "image", "text"] = "auto",
        method: Literal["auto", "hash", "embedding", "both"] = "auto",
        word_similarity: float = DEFAULT_WORD_SIMILARITY,
        embedding_similarity: float | None = None,
        embedder: Any = None,
        mask_digits: bool = True,
        column: Any = None,
    ):
        self.n_splits = n_splits
        self.stratify = stratify
        self.shuffle = shuffle
        self.random_state = random_state
        self.near_duplicates = near_duplicates
        self.similarity = similarity
        self.kind = kind
        self.method = method
        self.word_similarity = word_similarity
        self.embedding_similarity = embedding_similarity
        self.embedder = embedder
        self.mask_digits = mask_digits
        self.column = column

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays; copies never straddle them.

        Parameters
        ----------
        X : collection of images or texts, or DataFrame
            The samples (what :func:`find_duplicates` reads), or a DataFrame holding them
            in ``column``.
        y : array-like of shape (n_samples,), default=None
            Targets; classes are stratified on when ``stratify=True``.
        groups : array-like of shape (n_samples,), default=None
            Your own groups (patients, users, sessions), kept together as well.
        """
        self._check_n_splits()  # before the copies are searched for
        yield from self.split_groups(self.duplicate_groups(X, groups), y)

    def duplicate_groups(self, X, groups=None) -> np.ndarray:
        """The group label of each sample that :meth:`split` keeps in one fold: its copies'
        (:func:`find_duplicates` with this splitter's options), joined with ``groups``.

        Compute them once and pass them to :meth:`split_groups` to split the same samples
        several ways (or to show each sample's group) without finding the copies again.
        """
        # Every duplicate option is forwarded under its own name: DUPLICATE_OPTIONS lists them.
        options = {name: getattr(self, name) for name in DUPLICATE_OPTIONS}
        validate_parameter_constraints(DUPLICATE_OPTIONS, options, type(self).__name__)
        return _leakage_groups(
            X, groups, column=self.column, near_duplicates=self.near_duplicates, **options
        )

    def split_groups(self, labels, y=None):
        """Yield ``(train, test)`` index arrays that keep each group of ``labels`` (from
        :meth:`duplicate_groups`) on one side: what :meth:`split` does once it has them."""
        self._check_n_splits()
        labels = np.asarray(labels)
        placeholder = np.zeros((len(labels), 1))
        options = {"shuffle": self.shuffle, "random_state": self.random_state}
        if self.stratify and is_classification(y):
            splitter = StratifiedGroupKFold(self.n_splits, **options)
        else:
            splitter = GroupKFold(self.n_splits, **options)
        yield from splitter.split(placeholder, y, labels)

    def _check_n_splits(self) -> None:
        if not isinstance(self.n_splits, Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {self.n_splits!r}.")

    def _iter_test_indices(self, X=None, y=None, groups=None):  # split is overridden
        raise NotImplementedError


@validate_params(
    {
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "stratify": ["array-like", None],
        "groups": ["array-like", None],
        "random_state": ["random_state"],
        "near_duplicates": ["boolean"],
        "column": "no_validation",
    }
    | DUPLICATE_OPTIONS,
    prefer_skip_nested_validation=True,
)
def leakage_safe_train_test_split(
    *arrays: Any,
    test_size: float = 0.25,
    stratify: Any = None,
    groups: Any = None,
    random_state: Any = None,
    near_duplicates: bool = True,
    similarity: float | None = None,
    kind: Literal["auto", "image", "text"] = "auto",
    method: Literal["auto", "hash", "embedding", "both"] = "auto",
    word_similarity: float = DEFAULT_WORD_SIMILARITY,
    embedding_similarity: float | None = None,
    embedder: Any = None,
    mask_digits: bool = True,
    column: Any = None,
) -> list:
    """Split arrays into train and test subsets with every copy on one side.

    Like :func:`sklearn.model_selection.train_test_split`; the copies are found in the
    first array (see :func:`find_duplicates`) and joined with ``groups`` when given.

    Parameters
    ----------
    *arrays : sequence of indexables of the same length
        The first holds the images or texts.
    test_size : float, default=0.25
        Fraction of the groups (without ``stratify``) or of the samples (with it) in the
        test set. With ``stratify``, the split is the first fold of a shuffled
        :class:`~sklearn.model_selection.StratifiedGroupKFold` with ``round(1 / test_size)``
        folds, so the fraction is rounded to 1/2, 1/3, 1/4, ...
    stratify : array-like of class labels, default=None
        Keep the class proportions in both subsets.
    groups : array-like, default=None
        Your own groups, kept on one side as well.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle.
    word_similarity, embedding_similarity, embedder, mask_digits
        As for :func:`find_duplicates`.
    near_duplicates, similarity, kind, method, column
        As for :class:`LeakageSafeKFold` (``column`` names columns of the first array).

    Returns
    -------
    splitting : list of length 2 * len(arrays)
        Train and test subsets of each array, as ``train_test_split`` returns them.

    Examples
    --------
    >>> from sktransfer.model_selection import leakage_safe_train_test_split
    >>> texts = ["call 0800 1 now", "CALL 0800 2 NOW!", "hi", "lunch?", "late", "ok"]
    >>> train, test = leakage_safe_train_test_split(texts, test_size=0.5, random_state=0)
    >>> ("call 0800 1 now" in train) == ("CALL 0800 2 NOW!" in train)
    True
    """
    if not arrays:
        raise ValueError("At least one array is required.")
    options = duplicate_options(locals())
    labels = _leakage_groups(
        arrays[0], groups, column=column, near_duplicates=near_duplicates, **options
    )
    placeholder = np.zeros((len(labels), 1))
    if stratify is not None:
        n_splits = max(2, round(1 / test_size))
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
        train, test = next(splitter.split(placeholder, stratify, labels))
    else:
        splitter = GroupShuffleSplit(1, test_size=test_size, random_state=random_state)
        train, test = next(splitter.split(placeholder, groups=labels))
    return list(
        chain.from_iterable((_safe_indexing(a, train), _safe_indexing(a, test)) for a in arrays)
    )
