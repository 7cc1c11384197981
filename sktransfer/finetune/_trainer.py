"""The one base of every fine-tuning estimator: sklearn on the outside, a skorch net inside."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import LRScheduler
from skorch.dataset import Dataset as ArrayDataset
from skorch.helper import predefined_split
from torch import nn

from .._device import resolve_device
from ._callbacks import StopEarly
from ._interrupt import all_or_nothing
from ._persistence import NetStatePersistence
from ._validation import validation_split
from ._weights import WeightedDataset, loss_weights

__all__ = ["NetTrainer", "lr_schedule"]


def _one_cycle(optimizer: torch.optim.Optimizer, total_steps: int, last_epoch: int = -1):
    """One-cycle schedule whose peak in each parameter group is that group's own rate.

    A restarted schedule (``partial_fit``) peaks at the rates of the first cycle, which
    ``OneCycleLR`` keeps in each group as ``max_lr``.
    """
    peaks = [group.get("max_lr", group["lr"]) for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=peaks, total_steps=total_steps, last_epoch=last_epoch
    )


def _cosine(optimizer: torch.optim.Optimizer, T_max: int, last_epoch: int = -1):
    """Cosine annealing from each group's own rate; a restarted schedule starts there again.

    ``CosineAnnealingLR`` starts from the rate a group has now, which after a first cycle
    is about 0; each group's first rate is kept as ``initial_lr``.
    """
    for group in optimizer.param_groups:
        group["lr"] = group.get("initial_lr", group["lr"])
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max, last_epoch=last_epoch)


class _WarmupDecay:
    """The factor of each group's rate at a step: linear warmup over ``warmup`` steps, then
    a linear or cosine decay to 0 at ``steps`` (a picklable ``LambdaLR`` function)."""

    def __init__(self, kind: str, steps: int, warmup: int):
        self.kind, self.steps, self.warmup = kind, steps, warmup

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        progress = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        if self.kind == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))


def lr_schedule(kind: str, steps: int, warmup: float = 0.0) -> LRScheduler:
    """skorch's ``LRScheduler`` stepping a schedule after every batch.

    ``kind`` is "cosine", "linear" (decay to 0) or "onecycle"; ``warmup`` is the share of
    the ``steps`` over which cosine or linear schedules first rise linearly (BERT-style).
    Each call of ``fit`` or ``partial_fit`` starts the schedule again (``last_epoch=-1``),
    peaking at each parameter group's own (discriminative) learning rate.
    """
    steps = max(1, steps)
    if kind == "linear" or (kind == "cosine" and warmup > 0):
        # LambdaLR scales each group's first rate, kept as ``initial_lr`` across restarts.
        decay = _WarmupDecay(kind, steps, round(warmup * steps))
        return LRScheduler(
            torch.optim.lr_scheduler.LambdaLR, step_every="batch", event_name=None, lr_lambda=decay
        )
    if kind == "onecycle":
        return LRScheduler(
            _one_cycle, step_every="batch", event_name=None, total_steps=steps + 1, last_epoch=-1
        )
    return LRScheduler(_cosine, step_every="batch", event_name=None, T_max=steps, last_epoch=-1)


class NetTrainer(NetStatePersistence, BaseEstimator):
    """Base of the fine-tuning estimators: their skorch training, written once.

    ``fit`` and ``partial_fit`` are all or nothing (see ``_interrupt.all_or_nothing``),
    seeded from ``random_state`` without touching the global torch RNG, hold out an
    early-stopping split (stratified for classifiers), and build the skorch net from three
    parts that subclasses supply: the module, the callbacks and the optimizer's parameter
    groups. Subclasses (as in imbalanced-learn's template methods) implement:

    - ``_as_inputs(X)``: the samples as a list, validated;
    - ``_encode_targets(y, n_samples, refit=...)``: validate ``y``, set the target
      attributes on ``refit``, return the training targets;
    - ``_prepare(samples, targets, seed)``: fit what comes before the net (a vocabulary,
      the frozen part's featurizer) and return ``(dataset, module)``;
    - ``_dataset(samples, targets)``: the dataset of new samples for a fitted estimator;
    - ``_rebuilt_module(weights)``: a module with the shapes of saved ``weights``;
    - ``_net_options()``: the skorch net class and its criterion settings.

    They may extend ``_callbacks``, ``_param_groups``, ``_optimizer``, ``_split``,
    ``_subset``, ``_loss_weights`` and ``_init_output``.
    Subclasses define ``lr``, ``weight_decay``, ``max_epochs``, ``batch_size``,
    ``early_stopping``, ``validation_fraction``, ``device``, ``random_state`` and
    ``verbose`` as constructor parameters.
    """

    _has_classes = False  # classifiers stratify their validation split
    _class_weights: np.ndarray | None = None  # per class, in the order of ``classes_``

    # -- sklearn API ------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NetTrainer:
        """Fine-tune on ``X`` with targets ``y``.

        Parameters
        ----------
        X : sequence of samples
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Each sample's weight in the loss (non-negative, not all zero), multiplied by
            its class's weight from ``class_weight`` where there is one: a weight of 2
            counts a sample twice, 0 leaves it out of training (and of the early-stopping
            loss).

        Returns
        -------
        self
        """
        with all_or_nothing(self):
            return self._fit(X, y, sample_weight=sample_weight)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> NetTrainer:
        """One more epoch on ``X``, ``y`` (the first call builds the network, as ``fit``).

        A learning-rate schedule restarts with each call (``scheduler=None``, where there
        is one, keeps the rate constant across calls). Each call is all or nothing:
        interrupted (Ctrl-C), the estimator keeps the state of the last completed epoch, so
        a long run can be trained one epoch per call and stopped at any time.

        Returns
        -------
        self
        """
        with all_or_nothing(self):
            if not hasattr(self, "net_"):
                return self._fit(X, y, epochs=1, sample_weight=sample_weight, **kwargs)
            samples = self._as_inputs(X)
            targets = self._encode_targets(y, len(samples), refit=False)
            weights = self._loss_weights(sample_weight, targets)
            data = self._dataset(samples, targets)
            if weights is not None:
                data = WeightedDataset(data, weights)
            self.net_.partial_fit(data, None, epochs=1)
        return self

    def save_params(self, f_params: Any) -> None:
        """Save the trained weights alone (skorch's ``save_params``; a ``torch.save`` file).

        These are the weights of the module that trains; :func:`sktransfer.io.save` (or
        pickle) keeps the whole estimator.
        """
        check_is_fitted(self)
        self.net_.save_params(f_params=f_params)

    def load_params(self, f_params: Any) -> NetTrainer:
        """Load weights saved by :meth:`save_params` into this fitted estimator.

        The estimator must have the same settings (and classes, vocabulary or targets) as
        the one that saved them. Loading uses ``torch.load(weights_only=True)``.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self.net_.load_params(f_params=f_params)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Inputs are images or texts, not a numeric table.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- training ---------------------------------------------------------------------------

    def _fit(
        self,
        X: Any,
        y: Any,
        epochs: int | None = None,
        sample_weight: Any = None,
        **kwargs: Any,
    ) -> NetTrainer:
        with self._start(X, y, sample_weight, **kwargs) as (data, module, targets, seed):
            train, valid = self._split(data, targets, seed)
            self.net_ = self._make_net(module, len(train), epochs)
            if valid is not None:
                self.net_.set_params(train_split=predefined_split(valid))
            self.net_.fit(train, None)
        self.history_ = self.net_.history
        return self

    @contextlib.contextmanager
    def _start(
        self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any
    ) -> Iterator[tuple[Any, nn.Module, np.ndarray, int]]:
        """What every training run starts with: the parameters checked, the targets encoded
        (``refit``), then, under a forked torch RNG seeded from ``random_state``, the
        dataset (weighted where weights are given) and the module with its head set up.
        Yields ``(data, module, targets, seed)``; the RNG is restored on exit."""
        self._validate_params()
        samples = self._as_inputs(X)
        targets = self._encode_targets(y, len(samples), refit=True, **kwargs)
        weights = self._loss_weights(sample_weight, targets)
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            data, module = self._prepare(samples, targets, seed)
            self._init_output(module, targets)
            if weights is not None:
                data = WeightedDataset(data, weights)
            yield data, module, targets, seed

    def _loss_weights(self, sample_weight: Any, targets: np.ndarray) -> np.ndarray | None:
        """Each training sample's loss weight (None when all weigh the same)."""
        return loss_weights(sample_weight, targets, self._class_weights)

    def _split(self, data: Any, targets: np.ndarray, seed: int) -> tuple[Any, Any]:
        """The training set, and the early-stopping validation set (None without)."""
        if self.early_stopping is None:
            return data, None
        train, valid = validation_split(
            targets, self.validation_fraction, seed, classes=self._has_classes
        )
        return self._part(data, train, training=True), self._part(data, valid, training=False)

    def _part(self, data: Any, indices: np.ndarray, *, training: bool) -> Any:
        """The samples ``indices`` of ``data``, with their loss weights if it has them."""
        if isinstance(data, WeightedDataset):
            part = self._subset(data.base, indices, training=training)
            return WeightedDataset(part, data.weights[indices])
        return self._subset(data, indices, training=training)

    def _subset(self, data: Any, indices: np.ndarray, *, training: bool) -> Any:
        """The samples ``indices`` of ``data``; ``training`` is False for validation."""
        return ArrayDataset(data.X[indices], data.y[indices])

    def _make_net(self, module: nn.Module, n_train: int, epochs: int | None) -> Any:
        epochs = epochs or self.max_epochs
        net_class, options = self._net_options()
        return net_class(
            module=module,
            **options,
            optimizer=self._optimizer(),
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=self._param_groups(),
            lr=self.lr,
            max_epochs=epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            callbacks=self._callbacks(epochs * math.ceil(n_train / self.batch_size)),
            device=str(resolve_device(self.device)),
            verbose=self.verbose,
        )

    def _rebuild_net(self, weights: dict[str, np.ndarray]) -> Any:
        return self._make_net(self._rebuilt_module(weights), 1, None)

    def _callbacks(self, steps: int) -> list[tuple[str, Any]]:
        """Named skorch callbacks; ``steps`` is the number of training batches to come."""
        if self.early_stopping is None:
            return []
        return [("early_stopping", StopEarly(patience=self.early_stopping, load_best=True))]

    def _param_groups(self) -> list[tuple[str, dict]]:
        """skorch ``optimizer__param_groups``: (name pattern, options) pairs."""
        return []

    def _optimizer(self) -> type[torch.optim.Optimizer]:
        return torch.optim.AdamW

    # -- hooks of the subclasses ------------------------------------------------------------

    def _as_inputs(self, X: Any) -> list:
        raise NotImplementedError

    def _encode_targets(self, y: Any, n_samples: int, *, refit: bool, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def _prepare(self, samples: list, targets: np.ndarray, seed: int) -> tuple[Any, nn.Module]:
        raise NotImplementedError

    def _dataset(self, samples: list, targets: np.ndarray | None = None) -> Any:
        raise NotImplementedError

    def _rebuilt_module(self, weights: dict[str, np.ndarray]) -> nn.Module:
        raise NotImplementedError

    def _init_output(self, module: nn.Module, targets: np.ndarray) -> None:
        """Set the new head's starting values from the training targets (none by default)."""

    def _net_options(self) -> tuple[type, dict]:
        raise NotImplementedError
