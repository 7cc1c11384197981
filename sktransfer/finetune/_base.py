"""The shared machinery of the fine-tuning estimators: inputs, network, skorch net."""

from __future__ import annotations

import copy
import math
import os
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.dataset import Dataset as ArrayDataset
from skorch.helper import predefined_split
from torch import nn

from .._device import resolve_device
from .._inputs import as_sample_list, load_failure, open_rgb
from .._shared_backbones import shared_backbone
from ..backbones import DEFAULT_BACKBONE
from ..exceptions import ImageLoadError
from ..image import PretrainedImageFeaturizer
from ._callbacks import BatchLRSchedule, GradualUnfreezing, StopEarly
from ._interrupt import all_or_nothing
from ._modules import FrozenBelow, TrainableTop, make_head
from ._persistence import NetStatePersistence
from ._validation import validation_split

__all__ = ["FineTunedImageEstimator", "default_augmentation"]

_OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class _Images(torch.utils.data.Dataset):
    """Samples decoded and transformed one at a time (augmented or fully trained inputs)."""

    def __init__(self, samples: list, targets: np.ndarray, transform: Any):
        self.samples, self.targets, self.transform = samples, targets, transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        try:
            image = open_rgb(self.samples[i])
        except Exception as exc:  # named like the featurizer's failures: index and path
            raise ImageLoadError([load_failure(i, self.samples[i], exc)]) from exc
        return self.transform(image), self.targets[i]


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


class FineTunedImageEstimator(NetStatePersistence, BaseEstimator):
    """Base class: subclasses set the skorch net, the loss and how targets are encoded.

    Template methods (as in imbalanced-learn): ``_encode_targets`` validates ``y`` and sets
    the target attributes, ``_net_options`` names the skorch class and its criterion,
    ``_has_classes`` makes the early-stopping split stratified. The constructor parameters
    are documented in the subclasses.
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
        "gradual_unfreeze": [Interval(Integral, 1, None, closed="left"), None],
        "mixup": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
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
        gradual_unfreeze: int | None = None,
        mixup: float = 0.0,
        label_smoothing: float = 0.0,
        early_stopping: int | None = None,
        validation_fraction: float = 0.1,
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
        self.gradual_unfreeze = gradual_unfreeze
        self.mixup = mixup
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.cache = cache
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.progress = progress

    # -- sklearn API ------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> FineTunedImageEstimator:
        """Fine-tune on images ``X`` (paths, arrays, PIL images) with targets ``y``.

        Returns
        -------
        self
        """
        with all_or_nothing(self):
            return self._fit(X, y)

    def partial_fit(self, X: Any, y: Any, **kwargs: Any) -> FineTunedImageEstimator:
        """One more epoch on ``X``, ``y`` (the first call builds the network, as ``fit``).

        The learning-rate schedule restarts with each call; ``scheduler=None`` keeps the
        rate constant across calls. Each call is all or nothing: interrupted (Ctrl-C), the
        estimator keeps the state of the last completed epoch, so a long run can be trained
        one epoch per call and stopped at any time.
        """
        with all_or_nothing(self):
            if not hasattr(self, "net_"):
                return self._fit(X, y, epochs=1, **kwargs)
            samples = as_sample_list(X)
            targets = self._encode_targets(y, len(samples), refit=False)
            self.net_.partial_fit(self._inputs(samples, targets), None, epochs=1)
        return self

    def save_params(self, f_params: Any) -> None:
        """Save the trained weights alone (skorch's ``save_params``; a ``torch.save`` file).

        These are the weights of the part that trains (the top groups and the head), or of
        the whole network when inputs were augmented; the frozen part is the pretrained
        backbone. :func:`sktransfer.io.save` (or pickle) keeps the whole estimator.
        """
        check_is_fitted(self)
        self.net_.save_params(f_params=f_params)

    def load_params(self, f_params: Any) -> FineTunedImageEstimator:
        """Load weights saved by :meth:`save_params` into this fitted estimator.

        The estimator must have the same settings (backbone, ``unfreeze``, head, classes or
        targets) as the one that saved them. Loading uses ``torch.load(weights_only=True)``.
        """
        check_is_fitted(self)
        self.net_.load_params(f_params=f_params)
        return self

    def _fit(self, X: Any, y: Any, epochs: int | None = None, **kwargs: Any):
        self._validate_params()
        samples = as_sample_list(X)
        targets = self._encode_targets(y, len(samples), refit=True, **kwargs)
        backbone = shared_backbone(self.backbone, self.weights)
        names = backbone.layer_groups
        n_trainable = len(names) if self.unfreeze == "all" else int(self.unfreeze)
        if n_trainable > len(names):
            raise ValueError(
                f"unfreeze={self.unfreeze} exceeds the {len(names)} layer groups of "
                f"{self.backbone!r} ({names}); use at most {len(names)} or 'all'."
            )
        self.trainable_groups_ = names[len(names) - n_trainable :]
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            inputs = self._training_inputs(samples, targets, backbone)
            self.net_ = self._make_net(backbone, len(targets), epochs)
            train, valid = self._split(inputs, targets, seed, backbone)
            if valid is not None:
                self.net_.set_params(train_split=predefined_split(valid))
            self.net_.fit(train, None)
        self.history_ = self.net_.history
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Inputs are images, not a numeric table (see PretrainedImageFeaturizer).
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- hooks of the subclasses ------------------------------------------------------------

    def _encode_targets(self, y: Any, n_samples: int, *, refit: bool, **kwargs: Any) -> np.ndarray:
        """Validate ``y``; on ``refit``, set the target attributes; return training targets."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _net_options(self) -> tuple[type, dict]:
        """The skorch net class and its criterion settings."""
        raise NotImplementedError

    _has_classes = False  # classifiers stratify their validation split

    # -- internals --------------------------------------------------------------------------

    def _caches_frozen_part(self) -> bool:
        return self.augment is None and self.unfreeze != "all"

    def _training_inputs(self, samples, targets, backbone) -> Any:
        if self._caches_frozen_part():
            n_groups = len(backbone.layer_groups)
            self.featurizer_ = PretrainedImageFeaturizer(
                self.backbone,
                weights=self.weights,
                layer=n_groups - 1 - len(self.trainable_groups_),
                pooling="none" if self.trainable_groups_ else "avg",
                batch_size=self.batch_size,
                device=self.device,
                cache=self.cache,
                progress=self.progress,
            ).fit(samples)
            return ArrayDataset(self.featurizer_.transform(samples), targets)
        self.featurizer_ = None
        preprocess = backbone.preprocessing.transform()
        augment = self.augment
        if augment == "default":
            augment = default_augmentation(backbone.preprocessing.resize_size)
        transform = preprocess if augment is None else (lambda image: preprocess(augment(image)))
        return _Images(samples, targets, transform)

    def _inputs(self, samples: list, targets: np.ndarray | None = None) -> Any:
        if targets is None:
            targets = np.zeros(len(samples), dtype=np.int64)
        if self.featurizer_ is not None:
            return ArrayDataset(self.featurizer_.transform(samples), targets)
        backbone = shared_backbone(self.backbone, self.weights)
        return _Images(samples, targets, backbone.preprocessing.transform())

    def _split(self, inputs, targets, seed, backbone):
        if self.early_stopping is None:
            return inputs, None
        train, valid = validation_split(
            targets, self.validation_fraction, seed, classes=self._has_classes
        )
        if isinstance(inputs, _Images):
            valid_set = _Images(
                [inputs.samples[i] for i in valid],
                inputs.targets[valid],
                backbone.preprocessing.transform(),
            )
            train_set = _Images(
                [inputs.samples[i] for i in train], inputs.targets[train], inputs.transform
            )
            return train_set, valid_set
        return (
            ArrayDataset(inputs.X[train], inputs.y[train]),
            ArrayDataset(inputs.X[valid], inputs.y[valid]),
        )

    def _rebuild_net(self, weights):
        return self._make_net(shared_backbone(self.backbone, self.weights), 1, None)

    def _make_net(self, backbone, n_samples: int, epochs: int | None):
        n_groups = len(backbone.layer_groups)
        n_trainable = len(self.trainable_groups_)
        groups = [
            (name, copy.deepcopy(backbone.trunk[n_groups - n_trainable + i]))
            for i, name in enumerate(self.trainable_groups_)
        ]
        head = make_head(backbone.feature_dim, self._n_outputs(), self.head, self.dropout)
        tokens = backbone.output == "tokens"
        if self.featurizer_ is not None:
            shape = self.featurizer_.output_shape_ if n_trainable else (backbone.feature_dim,)
            module: nn.Module = TrainableTop(groups, head, shape, tokens)
        else:
            size = backbone.preprocessing.input_size
            frozen = copy.deepcopy(backbone.trunk[: n_groups - n_trainable])
            with torch.inference_mode():
                shape = frozen(torch.zeros(1, 3, size, size)).shape[1:]
            module = FrozenBelow(frozen, TrainableTop(groups, head, shape, tokens))
        n_train = n_samples * (1 - self.validation_fraction if self.early_stopping else 1)
        callbacks = []
        if self.scheduler is not None:
            steps = (epochs or self.max_epochs) * math.ceil(n_train / self.batch_size)
            callbacks.append(("schedule", BatchLRSchedule(self.scheduler, steps)))
        if self.early_stopping is not None:
            callbacks.append(
                ("early_stopping", StopEarly(patience=self.early_stopping, load_best=True))
            )
        if self.gradual_unfreeze is not None and n_trainable:
            callbacks.append(("gradual_unfreezing", GradualUnfreezing(self.gradual_unfreeze)))
        decayed = [
            (f"*trunk.{name}.*", {"lr": self.lr * self.lr_decay**k})
            for k, name in enumerate(reversed(self.trainable_groups_))
        ]
        net_class, options = self._net_options()
        return net_class(
            module=module,
            **options,
            mixup=self.mixup,
            optimizer=_OPTIMIZERS[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=decayed,
            lr=self.lr,
            max_epochs=epochs or self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            callbacks=callbacks,
            device=str(resolve_device(self.device)),
            verbose=self.verbose,
        )
