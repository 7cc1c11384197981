"""skorch callbacks and the skorch nets behind the fine-tuning estimators."""

from __future__ import annotations

import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping, EpochScoring
from skorch.dataset import unpack_data
from skorch.utils import to_numpy, to_tensor

from ._weights import weighted_loss

__all__ = [
    "GradualUnfreezing",
    "StopEarly",
    "TransferClassifierNet",
    "TransferRegressorNet",
]


class GradualUnfreezing(Callback):
    """ULMFiT-style: the head trains alone, then one more layer group every few epochs.

    Groups wait with ``requires_grad=False`` (no gradient, so no update and no optimizer
    state) and in eval mode (their BatchNorm statistics do not move). The number of
    training groups is recorded in the history as ``trainable_groups``.
    """

    def __init__(self, epochs_per_stage: int):
        self.epochs_per_stage = epochs_per_stage

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        top = getattr(net.module_, "top", net.module_)  # has layer_groups() and waiting
        groups = top.layer_groups()
        stage = (len(net.history) - 1) // self.epochs_per_stage
        n_training = min(len(groups), stage)
        top.waiting = {name for name, _ in groups[: len(groups) - n_training]}
        for name, group in groups:
            group.requires_grad_(name not in top.waiting)
        net.history.record("trainable_groups", n_training)


class StoppedEarly(KeyboardInterrupt):
    """How :class:`StopEarly` ends training: a KeyboardInterrupt that no user sent."""


class StopEarly(EarlyStopping):
    """skorch's ``EarlyStopping``, whose stop the nets can tell apart from a Ctrl-C.

    skorch stops training by raising KeyboardInterrupt; this raises the subclass
    :class:`StoppedEarly`, so an interrupt from the user is still seen as one.
    """

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            raise StoppedEarly from None


class _TransferNetMixin:
    """Frozen parameters out of the optimizer, bf16 autocast on CUDA, and mixup.

    Parameters that do not require gradients when the optimizer is built (the frozen
    groups below augmented inputs) get no optimizer slot. On CUDA, forward passes run under
    ``torch.autocast`` in bfloat16 (no loss scaling needed); outputs come back as float32.
    With ``mixup > 0`` each training batch is mixed with a shuffled copy of itself, with a
    weight drawn from Beta(mixup, mixup), and the loss mixes the two targets' losses.
    Batches of a ``WeightedDataset`` (targets ``[y, weights]``) get the weighted loss.
    Validation predictions move to the CPU as soon as their loss is computed: skorch's
    scoring callbacks keep every batch of them for the epoch, which on a GPU holds memory
    the next epoch needs. A KeyboardInterrupt during training sets ``interrupted_``
    (see ``_interrupt.all_or_nothing``).
    """

    def __init__(self, *args, mixup: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixup = mixup

    def fit_loop(self, *args, **kwargs):
        self.interrupted_ = False
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt as exc:
            # skorch's partial_fit swallows the interrupt and returns a net stopped in the
            # middle of an epoch; the estimator sees this flag, undoes the call and re-raises.
            self.interrupted_ = not isinstance(exc, StoppedEarly)
            raise

    def get_all_learnable_params(self):
        for name, parameter in super().get_all_learnable_params():
            if parameter.requires_grad:
                yield name, parameter

    def infer(self, x, **fit_params):
        if torch.device(self.device).type != "cuda":
            return super().infer(x, **fit_params)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return super().infer(x, **fit_params).float()

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        step["y_pred"] = step["y_pred"].cpu()
        return step

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, (list, tuple)):  # targets and loss weights
            targets, weights = (to_tensor(part, device=self.device) for part in y_true)
            return weighted_loss(self.criterion_, y_pred, targets, weights)
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def train_step_single(self, batch, **fit_params):
        if not self.mixup:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_tensor(Xi, self.device), to_tensor(yi, self.device)
        weight = torch.distributions.Beta(self.mixup, self.mixup).sample().item()
        partner = torch.randperm(len(Xi), device=Xi.device)
        mixed = weight * Xi + (1 - weight) * Xi[partner]
        partners = [part[partner] for part in yi] if isinstance(yi, list) else yi[partner]
        y_pred = self.infer(mixed, **fit_params)
        loss = weight * self.get_loss(y_pred, yi, X=mixed, training=True) + (
            1 - weight
        ) * self.get_loss(y_pred, partners, X=mixed, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


def _targets(y):
    """The targets of a batch, without the loss weights of a weighted one."""
    return to_numpy(y[0] if isinstance(y, (list, tuple)) else y)


class TransferClassifierNet(_TransferNetMixin, NeuralNetClassifier):
    """skorch's classifier with the fine-tuning behaviour of ``_TransferNetMixin``."""

    @property
    def _default_callbacks(self):
        # skorch's accuracy reads the argmax of the outputs: a multi-label net has none
        multilabel = self.criterion is torch.nn.BCEWithLogitsLoss
        accuracy = EpochScoring(
            "accuracy", name="valid_acc", lower_is_better=False, target_extractor=_targets
        )
        return [
            (name, accuracy if name == "valid_acc" else callback)
            for name, callback in super()._default_callbacks
            if not (multilabel and name == "valid_acc")
        ]


class TransferRegressorNet(_TransferNetMixin, NeuralNetRegressor):
    """skorch's regressor with the fine-tuning behaviour of ``_TransferNetMixin``."""
