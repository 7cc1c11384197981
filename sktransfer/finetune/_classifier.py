"""Fine-tune a pretrained backbone as an sklearn classifier, on skorch."""

from __future__ import annotations

import copy
import math
import os
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset as ArrayDataset
from skorch.helper import predefined_split
from torch import nn

from .._device import resolve_device
from ..backbones import DEFAULT_BACKBONE
from ..backbones._registry import load_backbone_cached
from ..image._featurizer import PretrainedImageFeaturizer, preprocess_transform
from ..image._loading import as_sample_list, open_rgb
from ._callbacks import BatchLRSchedule, TransferNet
from ._modules import FrozenBelow, TrainableTop, make_head

__all__ = ["FineTunedImageClassifier"]

_OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class _Images(torch.utils.data.Dataset):
    """Samples decoded and transformed one at a time (augmented or fully trained inputs)."""

    def __init__(self, samples: list, targets: np.ndarray, transform: Any):
        self.samples, self.targets, self.transform = samples, targets, transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        return self.transform(open_rgb(self.samples[i])), self.targets[i]


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


class FineTunedImageClassifier(ClassifierMixin, BaseEstimator):
    """A pretrained backbone fine-tuned as a classifier: from a linear probe to full training.

    The top ``unfreeze`` layer groups of the backbone train together with a new head; the
    groups below stay frozen (eval mode, no gradients, no optimizer state). Without
    augmentation the frozen part is a pure function of the image, so its output is computed
    once (by :class:`~sktransfer.PretrainedImageFeaturizer`, on its content-addressed cache
    when ``cache`` is set) and every epoch trains only the top on those activations.
    Training runs on skorch; the weights load in ``fit``, so every ``clone`` (hence every
    ``GridSearchCV`` candidate) starts from the pretrained weights.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        Registry name (see :func:`~sktransfer.backbones.list_backbones`).
    weights : str or path, default="DEFAULT"
        Pretrained weights, as for :class:`~sktransfer.PretrainedImageFeaturizer`.
    unfreeze : int or "all", default=0
        Layer groups that train, counted from the top: 0 trains only the head (a linear or
        MLP probe on frozen features), "all" trains the whole network.
    head : tuple of int, default=()
        Hidden units of the new head; () is a single linear layer.
    dropout : float, default=0.0
        Dropout before each linear layer of the head.
    lr : float, default=1e-3
        Learning rate of the head and of the top trainable group.
    lr_decay : float, default=0.5
        Discriminative learning rates: the group ``k`` steps below the top trains with
        ``lr * lr_decay**k``.
    optimizer : {"adamw", "adam", "sgd"}, default="adamw"
    weight_decay : float, default=0.01
    scheduler : {"cosine", "onecycle"} or None, default="cosine"
        Learning-rate schedule over all training batches, stepped every batch.
    max_epochs : int, default=10
    batch_size : int, default=32
    augment : None, "default" or callable, default=None
        Training-time augmentation of the PIL image before the backbone's preprocessing;
        "default" is a random resized crop, a horizontal flip and light colour jitter. With
        augmentation the frozen part runs on every batch (still without autograd).
    label_smoothing : float, default=0.0
    early_stopping : int or None, default=None
        Patience in epochs on the loss of a stratified validation split
        (``validation_fraction`` of the training data); the best weights are restored.
    validation_fraction : float, default=0.1
    cache : str, path, joblib.Memory or None, default=None
        Folder of the featurizer's content-addressed cache, shared with
        :class:`~sktransfer.PretrainedImageFeaturizer`: grid points and folds with the same
        backbone, weights and depth compute each image's frozen activations once.
    device : str or torch.device, default="auto"
        "auto": CUDA (bfloat16 autocast) when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, the shuffling and the validation split.
    verbose : int, default=0
        1 prints skorch's table of epochs.
    progress : bool or "auto", default="auto"
        Progress bar while frozen activations are computed.

    Attributes
    ----------
    classes_ : ndarray
        The labels, as given in ``fit``.
    net_ : skorch.NeuralNetClassifier
        The trained net (its module is the trainable part, or the whole network when inputs
        are augmented).
    featurizer_ : PretrainedImageFeaturizer or None
        Computes the frozen part's output (None when inputs are augmented or every group
        trains).
    trainable_groups_ : list of str
        Names of the layer groups that trained.
    history_ : skorch.History
        Per-epoch losses (and validation scores with early stopping).

    Examples
    --------
    >>> from skimage.data import lfw_subset
    >>> from sktransfer.finetune import FineTunedImageClassifier
    >>> faces = lfw_subset()
    >>> labels = ["face"] * 100 + ["other"] * 100
    >>> model = FineTunedImageClassifier(max_epochs=5, random_state=0, progress=False)
    >>> model.fit(faces[::2], labels[::2]).score(faces[1::2], labels[1::2]) > 0.95
    True
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
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.cache = cache
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.progress = progress

    # -- sklearn API ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> FineTunedImageClassifier:
        """Fine-tune on images ``X`` (paths, arrays, PIL images) with labels ``y``."""
        samples = as_sample_list(X)
        y = column_or_1d(y, warn=True)
        if len(y) != len(samples):
            raise ValueError(f"X has {len(samples)} samples but y has {len(y)} labels.")
        check_classification_targets(y)
        self.classes_, targets = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y needs at least 2 classes; got only {self.classes_.tolist()}.")
        backbone = load_backbone_cached(self.backbone, self.weights)
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
            inputs = self._training_inputs(samples, targets.astype(np.int64), backbone)
            self.net_ = self._make_net(backbone, inputs, targets, seed)
            train, valid = self._split(inputs, targets, seed)
            if valid is not None:
                self.net_.set_params(train_split=predefined_split(valid))
            self.net_.fit(train, None)
        self.history_ = self.net_.history
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        samples = as_sample_list(X)
        return self.net_.predict_proba(self._inputs(samples)).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each image, as given in ``fit``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Inputs are images, not a numeric table (see PretrainedImageFeaturizer).
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

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
        preprocess = preprocess_transform(backbone.preprocessing)
        augment = self.augment
        if augment == "default":
            augment = default_augmentation(backbone.preprocessing.resize_size)
        transform = preprocess if augment is None else (lambda image: preprocess(augment(image)))
        self._eval_transform = preprocess
        return _Images(samples, targets, transform)

    def _inputs(self, samples: list) -> Any:
        targets = np.zeros(len(samples), dtype=np.int64)
        if self.featurizer_ is not None:
            return ArrayDataset(self.featurizer_.transform(samples), targets)
        backbone = load_backbone_cached(self.backbone, self.weights)
        return _Images(samples, targets, preprocess_transform(backbone.preprocessing))

    def _split(self, inputs, targets, seed):
        if self.early_stopping is None:
            return inputs, None
        splitter = StratifiedShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
        train, valid = next(splitter.split(np.zeros(len(targets)), targets))
        if isinstance(inputs, _Images):
            valid_set = _Images(
                [inputs.samples[i] for i in valid], inputs.targets[valid], self._eval_transform
            )
            train_set = _Images(
                [inputs.samples[i] for i in train], inputs.targets[train], inputs.transform
            )
            return train_set, valid_set
        return (
            ArrayDataset(inputs.X[train], inputs.y[train]),
            ArrayDataset(inputs.X[valid], inputs.y[valid]),
        )

    def _make_net(self, backbone, inputs, targets, seed) -> TransferNet:
        n_groups = len(backbone.layer_groups)
        n_trainable = len(self.trainable_groups_)
        groups = [
            (name, copy.deepcopy(backbone.trunk[n_groups - n_trainable + i]))
            for i, name in enumerate(self.trainable_groups_)
        ]
        head = make_head(backbone.feature_dim, len(self.classes_), self.head, self.dropout)
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
        n_train = len(targets) * (1 - self.validation_fraction if self.early_stopping else 1)
        callbacks = []
        if self.scheduler is not None:
            steps = self.max_epochs * math.ceil(n_train / self.batch_size)
            callbacks.append(("schedule", BatchLRSchedule(self.scheduler, steps)))
        if self.early_stopping is not None:
            callbacks.append(
                ("early_stopping", EarlyStopping(patience=self.early_stopping, load_best=True))
            )
        decayed = [
            (f"*trunk.{name}.*", {"lr": self.lr * self.lr_decay**k})
            for k, name in enumerate(reversed(self.trainable_groups_))
        ]
        return TransferNet(
            module=module,
            criterion=nn.CrossEntropyLoss,
            criterion__label_smoothing=self.label_smoothing,
            optimizer=_OPTIMIZERS[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=decayed,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            callbacks=callbacks,
            classes=list(range(len(self.classes_))),
            device=str(resolve_device(self.device)),
            verbose=self.verbose,
        )
