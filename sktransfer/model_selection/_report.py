"""Which test samples have a copy in the training data, and how many per CV fold."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import validate_params

from ._duplicates import (
    DEFAULT_WORD_SIMILARITY,
    DUPLICATE_OPTIONS,
    Fingerprints,
    duplicate_options,
    fingerprint,
)
from ._split import is_classification

__all__ = ["cv_leakage_report", "leakage_report"]

_COLUMNS = ["index", "match_index", "kind", "method", "similarity", "n_matches", "sample", "match"]


@validate_params(
    {"X_train": "no_validation", "X_test": "no_validation"} | DUPLICATE_OPTIONS,
    prefer_skip_nested_validation=True,
)
def leakage_report(
    X_train: Any,
    X_test: Any = None,
    *,
    kind: Literal["auto", "image", "text"] = "auto",
    method: Literal["auto", "hash", "embedding", "both"] = "auto",
    similarity: float | None = None,
    word_similarity: float = DEFAULT_WORD_SIMILARITY,
    embedding_similarity: float | None = None,
    embedder: Any = None,
    mask_digits: bool = True,
) -> pd.DataFrame:
    """Test samples with an exact or near copy in the training samples, one row each.

    With ``X_test=None``, the report covers ``X_train`` alone: every sample that copies an
    *earlier* sample of it, which is what a random split could leak.

    Parameters
    ----------
    X_train, X_test : collections of images or texts
        As :func:`find_duplicates` reads them, both of the same kind.
    kind, method, similarity, word_similarity, embedding_similarity, embedder, mask_digits
        As for :func:`find_duplicates`.

    Returns
    -------
    report : pandas.DataFrame
        Columns ``index`` (position in ``X_test``, or in ``X_train`` without a test set),
        ``match_index`` (position of its closest copy in ``X_train``), ``kind`` ("exact" or
        "near"), ``method`` (what matched them: "exact", "hash" or "embedding"),
        ``similarity`` (1 for exact copies; the hash's or the embeddings' similarity),
        ``n_matches`` (copies it has there), ``sample`` and ``match`` (paths, or the first
        80 characters of texts). :func:`plot_leakage_pairs` draws the closest pairs.
        ``report.attrs["summary"]`` holds a one-line summary, ``report.attrs["samples"]``
        the kind of samples ("image" or "text").

    Examples
    --------
    >>> from sktransfer.model_selection import leakage_report
    >>> report = leakage_report(["Call 0800 1 now!", "see you at 6"], ["call 0800 2 NOW"])
    >>> report[["index", "match_index", "kind", "method"]].to_dict("records")
    [{'index': 0, 'match_index': 0, 'kind': 'near', 'method': 'hash'}]
    >>> report.attrs["summary"]
    '1 of 1 test samples (100.0%) have a copy among the 2 training samples: 0 exact, 1 near.'
    """
    options = duplicate_options(locals())
    if X_test is None:
        fingerprints = fingerprint(X_train, **options)
        everything = np.arange(len(fingerprints))
        report = _best_matches(fingerprints, everything, everything, earlier_only=True)
        n_exact = int((report["kind"] == "exact").sum())
        report.attrs["summary"] = (
            f"{len(report)} of {len(fingerprints)} samples repeat an earlier sample: "
            f"{n_exact} exactly, {len(report) - n_exact} nearly."
        )
        report.attrs["samples"] = fingerprints.kind
        return report
    train, test = sample_list(X_train), sample_list(X_test)
    fingerprints = fingerprint(train + test, **options)
    n_train = len(train)
    report = _best_matches(fingerprints, np.arange(n_train, len(fingerprints)), np.arange(n_train))
    report["index"] -= n_train
    n_exact = int((report["kind"] == "exact").sum())
    report.attrs["summary"] = (
        f"{len(report)} of {len(test)} test samples ({len(report) / max(len(test), 1):.1%}) "
        f"have a copy among the {n_train} training samples: {n_exact} exact, "
        f"{len(report) - n_exact} near."
    )
    report.attrs["samples"] = fingerprints.kind
    return report


@validate_params(
    {
        "X": "no_validation",
        "cv": ["cv_object"],
        "y": ["array-like", None],
        "groups": ["array-like", None],
    }
    | DUPLICATE_OPTIONS,
    prefer_skip_nested_validation=True,
)
def cv_leakage_report(
    X: Any,
    cv: Any = 5,
    y: Any = None,
    groups: Any = None,
    *,
    kind: Literal["auto", "image", "text"] = "auto",
    method: Literal["auto", "hash", "embedding", "both"] = "auto",
    similarity: float | None = None,
    word_similarity: float = DEFAULT_WORD_SIMILARITY,
    embedding_similarity: float | None = None,
    embedder: Any = None,
    mask_digits: bool = True,
) -> pd.DataFrame:
    """Per fold of a CV splitter: how many test samples have a copy in that fold's training set.

    Parameters
    ----------
    X : collection of images or texts
    cv : int, CV splitter or iterable of (train, test), default=5
        As ``cross_val_score`` takes it (an int gives ``StratifiedKFold`` when ``y`` holds
        classes, else ``KFold``).
    y, groups : array-like, default=None
        Passed to the splitter.
    kind, method, similarity, word_similarity, embedding_similarity, embedder, mask_digits
        As for :func:`find_duplicates`.

    Returns
    -------
    report : pandas.DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, ``exact`` and ``near`` (test
        samples whose closest training copy is of that kind), ``leaked`` (their sum) and
        ``leaked_fraction``.

    Examples
    --------
    >>> from sklearn.model_selection import KFold
    >>> from sktransfer.model_selection import LeakageSafeKFold, cv_leakage_report
    >>> texts = ["Ok", "ok!", "OK.", "see you", "on my way", "lunch?"]
    >>> int(cv_leakage_report(texts, KFold(3))["leaked"].sum())
    3
    >>> int(cv_leakage_report(texts, LeakageSafeKFold(3))["leaked"].sum())
    0
    """
    fingerprints = fingerprint(
        X,
        kind=kind,
        method=method,
        similarity=similarity,
        word_similarity=word_similarity,
        embedding_similarity=embedding_similarity,
        embedder=embedder,
        mask_digits=mask_digits,
    )
    splitter = check_cv(cv, y, classifier=is_classification(y))
    rows = []
    for fold, (train, test) in enumerate(splitter.split(X, y, groups)):
        matches = _best_matches(fingerprints, np.asarray(test), np.asarray(train))
        exact = int((matches["kind"] == "exact").sum())
        rows.append(
            {
                "fold": fold,
                "n_train": len(train),
                "n_test": len(test),
                "exact": exact,
                "near": len(matches) - exact,
                "leaked": len(matches),
                "leaked_fraction": len(matches) / max(len(test), 1),
            }
        )
    return pd.DataFrame(rows)


def sample_list(X: Any) -> list:
    """The samples of ``X`` as a list, images or texts, one per row."""
    if isinstance(X, pd.DataFrame):
        return list(X.iloc[:, 0])
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim >= 3:
        return list(X)  # a batch of image arrays
    return list(np.asarray(X, dtype=object).ravel()) if isinstance(X, np.ndarray) else list(X)


def _best_matches(
    fp: Fingerprints, queries: np.ndarray, references: np.ndarray, *, earlier_only: bool = False
) -> pd.DataFrame:
    """For each query sample with a copy among the references: its closest one."""
    query = pd.DataFrame({"index": queries, "exact": fp.exact[queries], "code": fp.code[queries]})
    reference = pd.DataFrame(
        {"match_index": references, "exact": fp.exact[references], "code": fp.code[references]}
    )
    query_ids = query[query["code"] >= 0]
    found = [
        query[query["exact"] >= 0]
        .merge(reference, on="exact")[["index", "match_index"]]
        .assign(kind="exact", method="exact", similarity=1.0),
        query_ids.merge(reference, on="code")[["index", "match_index"]].assign(
            kind="near", method="hash", similarity=1.0
        ),
    ]
    if len(fp.pairs):
        pairs = pd.DataFrame(
            {
                "code": np.r_[fp.pairs[:, 0], fp.pairs[:, 1]],
                "other": np.r_[fp.pairs[:, 1], fp.pairs[:, 0]],
                "similarity": np.r_[fp.similarity, fp.similarity],
            }
        )
        near = query_ids.merge(pairs, on="code").merge(reference, left_on="other", right_on="code")
        near = near[["index", "match_index", "similarity"]]
        found.append(near.assign(kind="near", method="hash"))
    if len(fp.embedding_pairs):
        first, second = fp.embedding_pairs[:, 0], fp.embedding_pairs[:, 1]
        pairs = pd.DataFrame(
            {
                "index": np.r_[first, second],
                "match_index": np.r_[second, first],
                "similarity": np.r_[fp.embedding_similarity, fp.embedding_similarity],
            }
        )
        pairs = pairs[pairs["index"].isin(queries) & pairs["match_index"].isin(references)]
        found.append(pairs.assign(kind="near", method="embedding"))
    matches = pd.concat(found, ignore_index=True)
    if earlier_only:
        matches = matches[matches["match_index"] < matches["index"]]
    matches = matches.assign(rank=(matches["kind"] != "exact").astype(int))
    matches = matches.sort_values(
        ["index", "rank", "similarity", "match_index"], ascending=[True, True, False, True]
    )
    counts = matches.groupby("index")["match_index"].nunique()
    best = matches.drop_duplicates("index").drop(columns="rank")
    best["n_matches"] = counts.loc[best["index"]].to_numpy()
    best["sample"] = [fp.descriptions[i] for i in best["index"]]
    best["match"] = [fp.descriptions[i] for i in best["match_index"]]
    return best[_COLUMNS].reset_index(drop=True)
