"""A picture of the pairs a leakage report found, for a human to check."""

from __future__ import annotations

import os
import textwrap
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from .._inputs import open_rgb
from ._report import sample_list

__all__ = ["plot_leakage_pairs"]

_THUMBNAIL = 160  # pixels of the longer side of each image drawn


@validate_params(
    {
        "report": [pd.DataFrame],
        "X_train": "no_validation",
        "X_test": "no_validation",
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "path": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def plot_leakage_pairs(
    report: pd.DataFrame,
    X_train: Any,
    X_test: Any = None,
    *,
    n_pairs: int = 8,
    path: Any = None,
):
    """Draw the closest pairs of a :func:`leakage_report`, each sample beside its match.

    Parameters
    ----------
    report : pandas.DataFrame
        What :func:`leakage_report` returned for ``X_train`` and ``X_test``.
    X_train, X_test : collections of images or texts
        The samples given to :func:`leakage_report` (``X_test`` None when it was).
    n_pairs : int, default=8
        How many pairs to draw: the most similar first, exact copies before near ones.
    path : str, path-like or None, default=None
        Where to save the figure as PNG as well.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One row per pair: for images the test sample and its training match, for texts
        both texts, wrapped; each row's title names the indices, the method that matched
        them and the similarity. A report without pairs draws a figure that says so.

    Examples
    --------
    >>> from sktransfer.model_selection import leakage_report, plot_leakage_pairs
    >>> train, test = ["Call 0800 1 now!", "see you at 6"], ["call 0800 2 NOW"]
    >>> figure = plot_leakage_pairs(leakage_report(train, test), train, test)
    >>> len(figure.axes)
    1
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # an optional dependency: the "demo" extra installs it
        raise ImportError(
            "plot_leakage_pairs needs matplotlib: pip install 'sktransfer[demo]'."
        ) from error
    train = sample_list(X_train)
    test = train if X_test is None else sample_list(X_test)
    shown = report.sort_values("similarity", ascending=False, kind="stable").head(n_pairs)
    sample_kind = report.attrs.get("samples", "text")
    test_name, train_name = ("sample", "sample") if X_test is None else ("test", "train")
    if not len(shown):
        figure, ax = plt.subplots(figsize=(6, 1), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "No copies found.", ha="center", va="center")
    elif sample_kind == "image":
        figure, axes = plt.subplots(
            len(shown), 2, figsize=(5, 2.6 * len(shown)), layout="constrained", squeeze=False
        )
        for row, pair in zip(axes, shown.itertuples(index=False), strict=True):
            for ax, sample, name in [
                (row[0], test[pair.index], f"{test_name} {pair.index}"),
                (row[1], train[pair.match_index], f"{train_name} {pair.match_index}"),
            ]:
                image = open_rgb(sample)
                image.thumbnail((_THUMBNAIL, _THUMBNAIL))
                ax.imshow(np.asarray(image))
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel(name, fontsize=8)
            row[0].set_title(_caption(pair), loc="left", fontsize=9)
    else:
        figure, axes = plt.subplots(
            len(shown), 1, figsize=(9, 1.5 * len(shown)), layout="constrained", squeeze=False
        )
        for ax, pair in zip(axes[:, 0], shown.itertuples(index=False), strict=True):
            ax.axis("off")
            ax.set_title(_caption(pair), loc="left", fontsize=9)
            for y, sample, name in [
                (0.7, test[pair.index], f"{test_name} {pair.index}"),
                (0.2, train[pair.match_index], f"{train_name} {pair.match_index}"),
            ]:
                text = textwrap.shorten(f"{name}: {sample}", 300)
                ax.text(0, y, "\n".join(textwrap.wrap(text, 110)), va="center", fontsize=8)
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def _caption(pair: Any) -> str:
    return (
        f"{pair.index} ~ {pair.match_index}: {pair.kind} ({pair.method}), "
        f"similarity {pair.similarity:.3f}"
    )
