"""What the command-line verbs share."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["UsageError", "add_backbone_options", "cross_validate_predictions", "feature_cache"]

# sktransfer.backbones.DEFAULT_BACKBONE, spelled out so that `sktransfer --help` needs no torch
DEFAULT_BACKBONE = "efficientnet_lite0"


class UsageError(Exception):
    """Bad command-line input: printed without a traceback, exit status 2."""


def add_backbone_options(parser: argparse.ArgumentParser) -> None:
    """``--backbone``, ``--batch-size``, ``--device`` and ``--cache``."""
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, help="backbone name")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--cache", default=None, help="feature cache folder, kept for later runs")


@contextlib.contextmanager
def feature_cache(folder: str | None) -> Iterator[str]:
    """``folder``, or a temporary one removed on exit: each image's features computed once."""
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="sktransfer-cache-") as scratch:
        yield scratch


def cross_validate_predictions(
    model: Any, X: Any, y: np.ndarray, cv: Any
) -> tuple[list[float], np.ndarray]:
    """Accuracy of each fold and the out-of-fold prediction of every sample, one fit a fold.

    (``cross_val_score`` and ``cross_val_predict`` would each fit every fold again.)
    """
    from sklearn.base import clone
    from sklearn.utils import _safe_indexing

    predictions = np.empty(len(y), dtype=y.dtype)
    scores = []
    for train, test in cv.split(X, y):
        fitted = clone(model).fit(_safe_indexing(X, train), y[train])
        predictions[test] = fitted.predict(_safe_indexing(X, test))
        scores.append(float(np.mean(predictions[test] == y[test])))
    return scores, predictions
