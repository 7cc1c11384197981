"""What the command-line verbs share."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "UsageError",
    "add_backbone_options",
    "add_runtime_option",
    "bounded",
    "check_output",
    "count",
    "cross_validate_predictions",
    "feature_cache",
    "image_files",
    "load_model",
    "port",
    "positive",
    "seconds",
]

# sktransfer.backbones.DEFAULT_BACKBONE, spelled out so that `sktransfer --help` needs no torch
DEFAULT_BACKBONE = "efficientnet_lite0"


class UsageError(Exception):
    """Bad command-line input: printed without a traceback, exit status 2."""


def bounded(kind: type, low: float, high: float | None = None, what: str = "") -> Any:
    """An argparse type: a ``kind`` number in [low, high], or a usage error saying so."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    return parse


positive = bounded(int, 1, what="a whole number of at least 1")
count = bounded(int, 0, what="a whole number of at least 0")
port = bounded(int, 0, 65535, what="a port number from 0 to 65535")
seconds = bounded(float, 1e-3, what="a positive number of seconds")


def check_output(output: str, inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse an output path that is an input, or where nothing can be written, before work.

    The check writes and removes a temporary file beside ``output``: permissions, a
    read-only file system and a missing folder all show up now, not after training.
    """
    from .._inputs import same_path

    target = Path(output)
    if target.is_dir():
        raise UsageError(f"-o {output}: is a folder; name a file.")
    for item in inputs:
        if same_path(target, item):
            raise UsageError(
                f"-o {output}: is one of the inputs ({os.fspath(item)}); it would be overwritten."
            )
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"-o {output}: the folder {str(folder)!r} does not exist.")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sktransfer-check-"):
            pass
    except OSError as error:
        raise UsageError(
            f"-o {output}: cannot write in {str(folder)!r} ({error.strerror})."
        ) from None


def image_files(items: Iterable[str], option: str = "") -> list[str]:
    """The image files named by ``items``: files as given, folders searched recursively; a
    usage error (prefixed by ``option``, e.g. ``"--images "``) for anything else."""
    from .._inputs import list_images

    paths: list[str] = []
    for item in items:
        if Path(item).is_dir():
            paths += list_images(item, recursive=True)
        elif Path(item).is_file():
            paths.append(item)
        else:
            raise UsageError(f"{option}{item}: no such file or folder.")
    return paths


def load_model(path: str, takes: tuple[str, ...] = ("images",), backend: str = "torch") -> Any:
    """A saved model that takes one of ``takes`` ("images", "texts"), or a usage error
    that says what is wrong. ``backend="onnxruntime"`` reads a file written by
    ``sktransfer export`` and predicts without importing torch."""
    from .._input_kind import input_kind

    if not Path(path).exists():
        raise UsageError(f"{path}: no such model file.")
    if Path(path).is_dir():
        raise UsageError(f"{path}: is a folder, not a model file.")
    if backend == "onnxruntime":
        from ..export import OnnxImageModel

        try:
            return OnnxImageModel(path)
        except ImportError as error:
            raise UsageError(str(error)) from None
    if Path(path).suffix.lower() == ".onnx":
        raise UsageError(f"{path}: is an ONNX file; run it with --backend onnxruntime.")
    from .. import io

    model = io.load(path)
    kind = input_kind(model)
    if kind not in takes:
        wanted = " or ".join(takes)
        raise UsageError(
            f"{path}: this {type(model).__name__} takes {kind or 'neither images nor texts'}, "
            f"not {wanted}; use a model trained with `sktransfer train` or one that starts "
            f"with an sktransfer featurizer, embedder or fine-tuned estimator of {wanted}."
        )
    return model


def add_runtime_option(parser: argparse.ArgumentParser) -> None:
    """``--backend``: run a saved model (torch) or an exported ONNX file (onnxruntime)."""
    parser.add_argument(
        "--backend",
        choices=("torch", "onnxruntime"),
        default="torch",
        help="torch: a model saved by `sktransfer train`; onnxruntime: a file written by "
        "`sktransfer export`, run without torch",
    )


def add_backbone_options(parser: argparse.ArgumentParser) -> None:
    """``--backbone``, ``--batch-size``, ``--device`` and ``--cache``."""
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, help="backbone name")
    parser.add_argument(
        "--batch-size", type=positive, default=32, help="images (or texts) per forward pass"
    )
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
) -> tuple[list[float], np.ndarray, np.ndarray]:
    """Accuracy of each fold, and the out-of-fold prediction and class probabilities
    (columns in the order of ``np.unique(y)``) of every sample, one fit a fold.

    ``cross_validate`` keeps each fold's model and test indices, so the predictions need
    no second round of fits (``cross_val_score`` then ``cross_val_predict`` would fit
    every fold twice).
    """
    from sklearn.model_selection import cross_validate
    from sklearn.utils import _safe_indexing

    result = cross_validate(
        model,
        X,
        y,
        cv=cv,
        scoring="accuracy",
        error_score="raise",  # a failing fold stops the run, never becomes a NaN score
        return_estimator=True,
        return_indices=True,
    )
    classes = np.unique(y)
    proba = np.zeros((len(y), len(classes)))
    for fitted, test in zip(result["estimator"], result["indices"]["test"], strict=True):
        columns = np.searchsorted(classes, fitted.classes_)  # a fold may lack a class
        proba[np.ix_(test, columns)] = fitted.predict_proba(_safe_indexing(X, test))
    predictions = classes[proba.argmax(1)]
    return [float(s) for s in result["test_score"]], predictions, proba
