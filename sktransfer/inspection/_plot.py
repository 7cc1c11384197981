"""A picture of the worst out-of-fold predictions, for a human to look at."""

from __future__ import annotations

import math
import os
import textwrap
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from .._inputs import open_rgb, samples_and_kind

__all__ = ["plot_top_losses"]

_THUMBNAIL = 160  # pixels of the longer side of each image drawn
_COLUMNS = 4


@validate_params(
    {
        "losses": [pd.DataFrame],
        "X": "no_validation",
        "n": [Interval(Integral, 1, None, closed="left")],
        "path": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def plot_top_losses(losses: pd.DataFrame, X: Any, *, n: int = 12, path: Any = None):
    """Draw the first ``n`` rows of :func:`top_losses`: an image grid, or a table of texts.

    Parameters
    ----------
    losses : pandas.DataFrame
        What :func:`top_losses` returned for ``X`` (or :func:`label_issues`: each row then
        shows the suggested label).
    X : collection of images or texts
        The samples given to :func:`top_losses`, which its index refers to.
    n : int, default=12
        How many samples to draw, in the frame's order.
    path : str, path-like or None, default=None
        Where to save the figure as PNG as well.

    Returns
    -------
    figure : matplotlib.figure.Figure
        For images, a grid whose titles give each sample's position, the given and the
        predicted label, the loss and the probability of the given label; for texts, one
        row per text with the same figures.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sktransfer.inspection import plot_top_losses
    >>> texts = ["free prize, call now", "see you at six"]
    >>> losses = pd.DataFrame({"given_label": ["ham", "ham"], "predicted_label": ["spam", "ham"],
    ...                        "given_probability": [0.02, 0.9], "loss": [3.9, 0.1]})
    >>> losses.attrs["samples"] = "text"
    >>> len(plot_top_losses(losses, texts).axes)  # one row per text
    2
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # an optional dependency: the "demo" extra installs it
        raise ImportError(
            "plot_top_losses needs matplotlib: pip install 'sktransfer[demo]'."
        ) from error
    kind = losses.attrs.get("samples")
    samples, kind = samples_and_kind(X, kind or "auto")
    shown = losses.head(n)
    if not len(shown):
        figure, ax = plt.subplots(figsize=(6, 1), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "Nothing to show.", ha="center", va="center")
    elif kind == "image":
        rows = math.ceil(len(shown) / _COLUMNS)
        columns = min(_COLUMNS, len(shown))
        figure, axes = plt.subplots(
            rows, columns, figsize=(2.6 * columns, 2.9 * rows), layout="constrained", squeeze=False
        )
        for ax in axes.ravel():
            ax.axis("off")
        for ax, (position, row) in zip(axes.ravel(), shown.iterrows(), strict=False):
            image = open_rgb(samples[position])
            image.thumbnail((_THUMBNAIL, _THUMBNAIL))
            ax.imshow(np.asarray(image))
            ax.set_title(_caption(position, row, "\n"), fontsize=8)
    else:
        figure, axes = plt.subplots(
            len(shown), 1, figsize=(9, 1.1 * len(shown)), layout="constrained", squeeze=False
        )
        for ax, (position, row) in zip(axes[:, 0], shown.iterrows(), strict=True):
            ax.axis("off")
            ax.set_title(_caption(position, row, "; "), loc="left", fontsize=9)
            text = textwrap.shorten(str(samples[position]), 300)
            ax.text(0, 0.4, "\n".join(textwrap.wrap(text, 110)), va="center", fontsize=8)
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def _caption(position: int, row: pd.Series, separator: str) -> str:
    other = row.get("predicted_label", row.get("suggested_label"))
    verb = "predicted" if "predicted_label" in row else "suggested"
    parts = [f"#{position}: given {row['given_label']}, {verb} {other}"]
    if "loss" in row:
        parts.append(f"loss {row['loss']:.2f}, p(given) {row['given_probability']:.2f}")
    elif "score" in row:
        parts.append(f"p(given) {row['score']:.2f}")
    return separator.join(parts)
