"""``OnnxImageModel``: predict from a file written by ``to_onnx``, with no torch import."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .._inputs import as_sample_list, center_crop_resize, load_failure, n_workers, open_rgb
from .._onnx import make_session, metadata
from ..exceptions import ImageLoadError, ModelFileError

__all__ = ["OnnxImageModel"]

#: Metadata keys of an exported file (``onnx.ModelProto.metadata_props``).
KIND, CLASSES, PREPROCESSING, SOURCE = (
    "sktransfer.kind",
    "sktransfer.classes",
    "sktransfer.preprocessing",
    "sktransfer.source",
)


class OnnxImageModel:
    """An image classifier or regressor exported by :func:`~sktransfer.export.to_onnx`.

    Decodes images as sktransfer does (EXIF orientation, transparency on white, JPEG draft
    mode), applies the resize, center crop and normalisation recorded in the file, and
    runs the graph with ONNX Runtime. It needs Pillow, NumPy and ``onnxruntime`` only:
    neither torch nor scikit-learn's estimators are imported, so a server starts in a
    fraction of the time (``benchmarks/RESULTS.md``).

    Parameters
    ----------
    path : str or path
        A file written by :func:`~sktransfer.export.to_onnx` (``sktransfer export``).
    batch_size : int, default=32
        Images per run of the graph.
    n_jobs : int or None, default=None
        Decoding threads; None uses the number of CPUs (at most 8).

    Attributes
    ----------
    classes_ : ndarray or None
        Class labels, in the order of ``predict_proba``'s columns (None for a regressor).
    preprocessing : dict
        ``input_size``, ``resize_size``, ``interpolation``, ``mean`` and ``std`` of the
        graph's input: the shorter side is resized to ``resize_size``, the center
        ``input_size`` square cropped, RGB scaled to [0, 1], then ``(x - mean) / std``.
    source : str
        The class of the exported model.

    Examples
    --------
    >>> from sktransfer.export import OnnxImageModel
    >>> model = OnnxImageModel("model.onnx")  # doctest: +SKIP
    >>> model.predict(["cat.jpg"])  # doctest: +SKIP
    array(['cat'], dtype='<U3')
    """

    def __init__(self, path: str | os.PathLike, *, batch_size: int = 32, n_jobs: int | None = None):
        self.path = Path(path)
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        try:
            self.session = make_session(self.path)
        except ImportError:
            raise
        except Exception as error:  # not a file, not ONNX, a truncated graph
            raise ModelFileError(f"{self.path} is not a readable ONNX file: {error}") from error
        found = metadata(self.session)
        if KIND not in found or PREPROCESSING not in found:
            raise ModelFileError(
                f"{self.path} is an ONNX file but not one written by sktransfer.export.to_onnx "
                "(its metadata has no preprocessing); export the model with to_onnx or "
                "`sktransfer export`."
            )
        self.kind = found[KIND]
        self.preprocessing = json.loads(found[PREPROCESSING])
        self.source = found.get(SOURCE, "")
        self.classes_ = np.asarray(json.loads(found[CLASSES])) if CLASSES in found else None
        self._input = self.session.get_inputs()[0].name

    def __repr__(self) -> str:
        return f"OnnxImageModel({str(self.path)!r})"

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        if self.kind != "classifier":
            raise AttributeError(f"{self.path} holds a regressor: it has no predict_proba.")
        return self._run(X).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each image (classifiers), or the prediction."""
        out = self._run(X)
        if self.kind == "classifier":
            return self.classes_[out.argmax(1)]
        return out.ravel() if out.ndim == 2 and out.shape[1] == 1 else out

    def preprocess(self, X: Any) -> np.ndarray:
        """The graph's input for images ``X``: ``(n, 3, S, S)`` float32.

        Raises :class:`~sktransfer.exceptions.ImageLoadError` naming every sample that
        could not be decoded, by index and path.
        """
        samples = as_sample_list(X)
        settings = self.preprocessing
        size, resize_size = settings["input_size"], settings["resize_size"]
        resample = getattr(Image.Resampling, settings["interpolation"].upper())
        mean = np.asarray(settings["mean"], dtype=np.float32) * 255.0
        std = np.asarray(settings["std"], dtype=np.float32) * 255.0

        def load(index: int) -> np.ndarray | tuple:
            try:
                image = open_rgb(samples[index], resize_size)
                pixels = center_crop_resize(image, size, resize_size, resample)
            except Exception as error:  # any decode failure belongs to this sample
                return load_failure(index, samples[index], error)
            return ((pixels.astype(np.float32) - mean) / std).transpose(2, 0, 1)

        with ThreadPoolExecutor(n_workers(self.n_jobs)) as pool:
            loaded = list(pool.map(load, range(len(samples))))
        failures = [item for item in loaded if isinstance(item, tuple)]
        if failures:
            raise ImageLoadError(failures)
        if not loaded:
            return np.zeros((0, 3, size, size), dtype=np.float32)
        return np.ascontiguousarray(np.stack(loaded))

    def _run(self, X: Any) -> np.ndarray:
        images = self.preprocess(X)
        outputs = [
            self.session.run(None, {self._input: images[k : k + self.batch_size]})[0]
            for k in range(0, len(images), self.batch_size)
        ]
        if not outputs:
            width = 0 if self.classes_ is None else len(self.classes_)
            return np.zeros((0, width), dtype=np.float32)
        return np.concatenate(outputs)
