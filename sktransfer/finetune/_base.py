"""The image fine-tuners' base: a backbone split at the freezing depth, on the shared trainer."""

from __future__ import annotations

import copy
import os
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.dataset import Dataset as ArrayDataset
from torch import nn

from .._inputs import (
    SeededAugment,
    View,
    as_sample_list,
    load_failure,
    open_rgb,
    resolve_views,
)
from .._shared_backbones import shared_backbone
from ..backbones import DEFAULT_BACKBONE, Backbone
from ..exceptions import ImageLoadError
from ..image import PretrainedImageFeaturizer
from ._callbacks import GradualUnfreezing
from ._modules import FrozenBelow, TrainableTop, make_head
from ._trainer import NetTrainer, lr_schedule

__all__ = ["FineTunedImageEstimator", "default_augmentation"]

_OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class _Images(torch.utils.data.Dataset):
    """Samples decoded and transformed one at a time (augmented or fully trained inputs).

    ``plain_transform`` is the preprocessing without augmentation (for a validation
    subset); ``positions`` are the samples' indices in what the caller passed, which a
    load failure names.
    """

    def __init__(
        self,
        samples: list,
        targets: np.ndarray,
        transform: Any,
        plain_transform: Any = None,
        positions: np.ndarray | None = None,
    ):
        self.samples, self.targets, self.transform = samples, targets, transform
        self.plain_transform = transform if plain_transform is None else plain_transform
        self.positions = np.arange(len(samples)) if positions is None else positions

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        try:
            image = open_rgb(self.samples[i])
        except Exception as exc:  # named like the featurizer's failures: index and path
            failure = load_failure(int(self.positions[i]), self.samples[i], exc)
            raise ImageLoadError([failure]) from exc
        return self.transform(image), self.targets[i]


class _AugmentedViews(torch.utils.data.Dataset):
    """Cached frozen activations of ``K`` augmented views per sample (``views``, shaped
    ``(K, n, ...)``): each item is one view drawn at random, anew at every access, so each
    epoch sees another mix of the draws. ``plain`` (the unaugmented activations) serves
    the validation subset."""

    def __init__(self, plain: np.ndarray, views: np.ndarray, targets: np.ndarray, rng: Any):
        self.plain, self.views, self.targets, self.rng = plain, views, targets, rng

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        return self.views[self.rng.integers(len(self.views)), i], self.targets[i]


def default_augmentation(resize_size: int) -> Any:
    """Random resized crop (60-100% of the area), horizontal flip, light colour jitter."""
    from torchvision.transforms import v2

    return v2.Compose(
        [
            v2.RandomResizedCrop(resize_size, scale=(0.6, 1.0), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        ]
    )


class FineTunedImageEstimator(NetTrainer):
    """Base of the image fine-tuners: a pretrained backbone split at the freezing depth.

    The groups below the top ``unfreeze`` ones are frozen: their output is computed once by
    a :class:`~sktransfer.PretrainedImageFeaturizer` (cached by content) or, with
    augmentation, on every batch without autograd. The top groups and a new head train,
    each group at its discriminative learning rate. Subclasses set the loss and how
    targets are encoded (``_encode_targets``, ``_n_outputs``, ``_net_options``); the
    constructor parameters are documented in :class:`FineTunedImageClassifier`.
    """

    _parameter_constraints: dict = {
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "unfreeze": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "head": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "scheduler": [StrOptions({"cosine", "onecycle"}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "augment": [StrOptions({"default"}), callable, None],
        "augment_views": [Interval(Integral, 1, None, closed="left"), None],
        "gradual_unfreeze": [Interval(Integral, 1, None, closed="left"), None],
        "mixup": [Interval(Real, 0, None, closed="left")],
        "cutmix": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "tta": [StrOptions({"flip", "five_crop", "ten_crop"}), list, tuple, None],
        "cache": "no_validation",
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "progress": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        backbone: str = DEFAULT_BACKBONE,
        *,
        weights: Any = "DEFAULT",
        unfreeze: int | str = 0,
        head: tuple[int, ...] = (),
        dropout: float = 0.0,
        lr: float = 1e-3,
        lr_decay: float = 0.5,
        optimizer: str = "adamw",
        weight_decay: float = 0.01,
        scheduler: str | None = "cosine",
        max_epochs: int = 10,
        batch_size: int = 32,
        augment: Any = None,
        augment_views: int | None = None,
        gradual_unfreeze: int | None = None,
        mixup: float = 0.0,
        cutmix: float = 0.0,
        label_smoothing: float = 0.0,
        early_stopping: int | None = None,
        validation_fraction: float = 0.1,
        class_weight: Any = None,
        threshold: float = 0.5,
        tta: Any = None,
        cache: Any = None,
        device: str | torch.device = "auto",
        random_state: Any = None,
        verbose: int = 0,
        progress: bool | str = "auto",
    ):
        self.backbone = backbone
        self.weights = weights
        self.unfreeze = unfreeze
        self.head = head
        self.dropout = dropout
        self.lr = lr
        self.lr_decay = lr_decay
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.augment = augment
        self.augment_views = augment_views
        self.gradual_unfreeze = gradual_unfreeze
        self.mixup = mixup
        self.cutmix = cutmix
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.threshold = threshold
        self.tta = tta
        self.cache = cache
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.progress = progress

    # -- the trainer's hooks -----------------------------------------------------------------

    def _as_inputs(self, X: Any) -> list:
        return as_sample_list(X)

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _prepare(self, samples: list, targets: np.ndarray, seed: int):
        resolve_views(self.tta)  # unknown views fail before anything trains
        backbone = shared_backbone(self.backbone, self.weights)
        n_frozen = self._n_frozen(backbone)
        self.trainable_groups_ = backbone.layer_groups[n_frozen:]
        if self.augment_views is not None and (self.augment is None or not n_frozen):
            raise ValueError(
                f"augment_views={self.augment_views} caches the frozen activations of "
                "augmented views: it needs augment= and a frozen part (unfreeze below "
                f"{len(backbone.layer_groups)}, not 'all'); got augment={self.augment!r}, "
                f"unfreeze={self.unfreeze!r}."
            )
        cached = self.augment is None or self.augment_views is not None
        if cached and n_frozen:  # the frozen part is a pure function (of image and draw)
            self.featurizer_ = PretrainedImageFeaturizer(
                self.backbone,
                weights=self.weights,
                layer=n_frozen - 1,
                pooling="none" if self.trainable_groups_ else "avg",
                batch_size=self.batch_size,
                device=self.device,
                cache=self.cache,
                progress=self.progress,
            ).fit(samples)
            if self.augment is None:
                data = ArrayDataset(self.featurizer_.transform(samples), targets)
            else:
                augment = self._augmentation(backbone)
                # The plain view and the K draws in one pass: each image is hashed once.
                seeded = [SeededAugment(augment, k) for k in range(self.augment_views)]
                views = (
                    clone(self.featurizer_)
                    .set_params(tta=["original", *seeded])
                    .fit(samples)
                    .transform_views(samples)
                )
                plain, views = views[0], views[1:]
                data = _AugmentedViews(plain, views, targets, np.random.default_rng(seed))
        else:
            self.featurizer_ = None
            plain = backbone.preprocessing.transform()
            data = _Images(samples, targets, self._train_transform(backbone, plain), plain)
        module = self._module(backbone)
        if self.cutmix and not module.spatial:
            raise ValueError(
                f"cutmix={self.cutmix} pastes boxes of one image's map into another's, but "
                f"with unfreeze={self.unfreeze!r} the network trains on "
                f"{'tokens' if module.tokens else 'pooled features'}, which have no "
                "spatial layout; unfreeze at least one group of a convolutional backbone, "
                "or pass augment= without augment_views to mix the images themselves."
            )
        return data, module

    def _dataset(
        self, samples: list, targets: np.ndarray | None = None, view: View | None = None
    ) -> Any:
        if targets is None:
            targets = np.zeros(len(samples), dtype=np.int64)
        if self.featurizer_ is not None:
            featurizer = self.featurizer_
            if view is not None:  # the view's frozen activations, on the cache as well
                featurizer = clone(featurizer).set_params(tta=[view.spec]).fit(samples)
            return ArrayDataset(featurizer.transform(samples), targets)
        preprocessing = shared_backbone(self.backbone, self.weights).preprocessing
        transform = preprocessing.transform() if view is None else view.transform(preprocessing)
        return _Images(samples, targets, transform)

    def _predict_views(self, X: Any, predict: Any) -> np.ndarray:
        """``predict`` (a net's method) on each view of ``X``'s samples, averaged: the
        test-time augmentation ``tta`` asks for (one pass without it)."""
        samples = as_sample_list(X)
        # The plain view (None) reads the activations that fit computed.
        views = [None if v.key is None else v for v in resolve_views(self.tta)]
        total = None
        for view in views:  # a running sum: one view's data in memory at a time
            out = predict(self._dataset(samples, view=view)).astype(np.float64)
            total = out if total is None else total + out
        return total / len(views)

    def _subset(self, data: Any, indices: np.ndarray, *, training: bool) -> Any:
        if isinstance(data, _AugmentedViews):  # validation reads the unaugmented view
            if not training:
                return ArrayDataset(data.plain[indices], data.targets[indices])
            return _AugmentedViews(
                data.plain[indices], data.views[:, indices], data.targets[indices], data.rng
            )
        if not isinstance(data, _Images):
            return super()._subset(data, indices, training=training)
        # Validation images are preprocessed as at prediction time, never augmented.
        transform = data.transform if training else data.plain_transform
        samples = [data.samples[i] for i in indices]
        return _Images(
            samples, data.targets[indices], transform, data.plain_transform, data.positions[indices]
        )

    def _rebuilt_module(self, weights: dict[str, np.ndarray]) -> nn.Module:
        return self._module(shared_backbone(self.backbone, self.weights))

    def _callbacks(self, steps: int) -> list[tuple[str, Any]]:
        callbacks = super()._callbacks(steps)
        if self.scheduler is not None:
            callbacks.insert(0, ("schedule", lr_schedule(self.scheduler, steps)))
        if self.gradual_unfreeze is not None and self.trainable_groups_:
            callbacks.append(("gradual_unfreezing", GradualUnfreezing(self.gradual_unfreeze)))
        return callbacks

    def _param_groups(self) -> list[tuple[str, dict]]:
        """Discriminative learning rates: ``lr * lr_decay**k`` for the group k below the top."""
        return [
            (f"*trunk.{name}.*", {"lr": self.lr * self.lr_decay**k})
            for k, name in enumerate(reversed(self.trainable_groups_))
        ]

    def _optimizer(self) -> type[torch.optim.Optimizer]:
        return _OPTIMIZERS[self.optimizer]

    # -- the network --------------------------------------------------------------------------

    def _n_frozen(self, backbone: Backbone) -> int:
        """How many layer groups, counted from the stem, stay frozen: the freezing depth."""
        names = backbone.layer_groups
        n_trainable = len(names) if self.unfreeze == "all" else int(self.unfreeze)
        if n_trainable > len(names):
            raise ValueError(
                f"unfreeze={self.unfreeze} exceeds the {len(names)} layer groups of "
                f"{self.backbone!r} ({names}); use at most {len(names)} or 'all'."
            )
        return len(names) - n_trainable

    def _module(self, backbone: Backbone) -> nn.Module:
        """The trainable top (copies of the top groups and a new head), over the frozen
        part's cached output, or above the frozen groups themselves when inputs vary."""
        n_frozen = len(backbone.layer_groups) - len(self.trainable_groups_)
        groups = [
            (name, copy.deepcopy(backbone.trunk[n_frozen + i]))
            for i, name in enumerate(self.trainable_groups_)
        ]
        head = make_head(backbone.feature_dim, self._n_outputs(), self.head, self.dropout)
        tokens = backbone.output == "tokens"
        if self.featurizer_ is not None:
            shape = self.featurizer_.output_shape_ if groups else (backbone.feature_dim,)
            return TrainableTop(groups, head, shape, tokens)
        frozen = copy.deepcopy(backbone.trunk[:n_frozen])
        size = backbone.preprocessing.input_size
        with torch.inference_mode():
            shape = frozen(torch.zeros(1, 3, size, size)).shape[1:]
        return FrozenBelow(frozen, TrainableTop(groups, head, shape, tokens))

    def _augmentation(self, backbone: Backbone) -> Any:
        if self.augment == "default":
            return default_augmentation(backbone.preprocessing.resize_size)
        return self.augment

    def _train_transform(self, backbone: Backbone, preprocess: Any) -> Any:
        augment = self._augmentation(backbone)
        if augment is None:
            return preprocess
        return lambda image: preprocess(augment(image))
