"""skorch callbacks and the skorch nets behind the fine-tuning estimators."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping, EpochScoring
from skorch.dataset import unpack_data
from skorch.utils import to_numpy, to_tensor

from ._weights import weighted_loss

__all__ = [
    "DomainAdversarialNet",
    "GradientReversalSchedule",
    "GradualUnfreezing",
    "StopEarly",
    "TransferClassifierNet",
    "TransferRegressorNet",
    "cut_and_paste",
    "input_map",
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
    weight drawn from Beta(mixup, mixup), and the loss mixes the two targets' losses. With
    ``cutmix > 0`` a box of the shuffled copy is pasted in instead (CutMix), the weight
    being the share of the map left uncovered; with both, each batch takes one of the two
    at even odds (as timm's ``Mixup`` does).
    Batches of a ``WeightedDataset`` (targets ``[y, weights]``) get the weighted loss.
    Validation predictions move to the CPU as soon as their loss is computed: skorch's
    scoring callbacks keep every batch of them for the epoch, which on a GPU holds memory
    the next epoch needs. A KeyboardInterrupt during training sets ``interrupted_``
    (see ``_interrupt.all_or_nothing``).
    """

    def __init__(self, *args, mixup: float = 0.0, cutmix: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixup = mixup
        self.cutmix = cutmix

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
            out = super().infer(x, **fit_params)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()

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
        if not (self.mixup or self.cutmix):
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_tensor(Xi, self.device), to_tensor(yi, self.device)
        partner = torch.randperm(len(Xi), device=Xi.device)
        if self.cutmix and (not self.mixup or torch.rand(()).item() < 0.5):
            mixed, weight = cut_and_paste(Xi, partner, self.cutmix, input_map(self.module_, Xi))
        else:
            weight = torch.distributions.Beta(self.mixup, self.mixup).sample().item()
            mixed = weight * Xi + (1 - weight) * Xi[partner]
        partners = [part[partner] for part in yi] if isinstance(yi, list) else yi[partner]
        y_pred = self.infer(mixed, **fit_params)
        loss = weight * self.get_loss(y_pred, yi, X=mixed, training=True) + (
            1 - weight
        ) * self.get_loss(y_pred, partners, X=mixed, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


def input_map(module: torch.nn.Module, x: torch.Tensor) -> tuple[int, ...] | None:
    """The ``(channels, height, width)`` of the samples in ``x``, a batch of the module's
    inputs: images, or a frozen part's flattened activation maps; None for pooled
    features and tokens, which have no spatial layout to cut a box from."""
    if x.dim() == 4:
        return tuple(x.shape[1:])
    return module.input_shape if module.spatial else None


def cut_and_paste(
    x: torch.Tensor, partner: torch.Tensor, alpha: float, shape: tuple[int, ...] | None
) -> tuple[torch.Tensor, float]:
    """CutMix (Yun et al., ICCV 2019): a box of ``x[partner]`` pasted into each sample of
    ``x``, its area ``1 - lam`` with lam from Beta(alpha, alpha), clipped at the border, as
    timm's ``rand_bbox`` places it (drawn from torch's generator here, so ``random_state``
    repeats it). Returns the mixed batch and the weight of ``x``'s own targets: the share of
    each map left uncovered."""
    if shape is None:
        raise ValueError("CutMix needs spatial inputs (images or activation maps).")
    height, width = shape[-2:]
    lam = torch.distributions.Beta(alpha, alpha).sample().item()
    cut_h, cut_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
    cy, cx = (int(torch.randint(n, ())) for n in (height, width))
    top, bottom = max(cy - cut_h // 2, 0), min(cy + (cut_h + 1) // 2, height)
    left, right = max(cx - cut_w // 2, 0), min(cx + (cut_w + 1) // 2, width)
    maps = x.view(len(x), *shape)
    mixed = maps.clone()
    mixed[..., top:bottom, left:right] = maps[partner][..., top:bottom, left:right]
    return mixed.view_as(x), 1.0 - (bottom - top) * (right - left) / (height * width)


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


class GradientReversalSchedule(Callback):
    """The gradient-reversal coefficient of Ganin & Lempitsky (2015), ``2 / (1 + exp(-10
    p)) - 1`` at training progress ``p`` (0 to 1 over ``steps`` batches), set before each
    training batch; each epoch's mean domain loss, the balanced accuracy of the domain
    classifier (chance: 1 / the number of domains) and the last coefficient go to the
    history as ``domain_loss``, ``domain_acc`` and ``reversal``."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.step_ = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            progress = min(1.0, self.step_ / max(1, self.steps))
            getattr(net.module_, "top", net.module_).reversal = (
                2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0
            )
            self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        batches = [b for b in net.history[-1, "batches"] if "domain_loss" in b]
        if not batches:
            return
        sizes = np.array([sum(b["domain_counts"]) for b in batches], dtype=float)
        losses = np.array([b["domain_loss"] for b in batches])
        hits = np.sum([b["domain_hits"] for b in batches], axis=0)
        counts = np.sum([b["domain_counts"] for b in batches], axis=0)
        present = counts > 0
        net.history.record("domain_loss", float(losses @ sizes / sizes.sum()))
        net.history.record("domain_acc", float(np.mean(hits[present] / counts[present])))
        net.history.record("reversal", getattr(net.module_, "top", net.module_).reversal)


class DomainAdversarialNet(TransferClassifierNet):
    """The classifier net of domain-adversarial training (Ganin et al., JMLR 2016).

    Training targets are ``(n, 2)``: the class index (-1 for an unlabelled row) and the
    domain index. The loss is the label loss over the labelled rows of the batch plus
    ``adaptation_weight`` times the domain classifier's cross-entropy, each domain
    weighing the same however many of its rows the batch holds. The module returns
    ``(label logits, domain logits)`` while training and label logits otherwise, so
    validation and prediction are a plain classifier's.
    """

    def __init__(self, *args, adaptation_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.adaptation_weight = adaptation_weight

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weights = None
        if isinstance(y_true, (list, tuple)):  # targets and loss weights
            y_true, weights = y_true
        y_true = to_tensor(y_true, device=self.device)
        if y_true.dim() == 1:  # validation: labelled rows scored on their label logits
            targets = y_true if weights is None else [y_true, weights]
            return super().get_loss(y_pred, targets, X=X, training=training)
        logits, domain_logits = y_pred if isinstance(y_pred, tuple) else (y_pred, None)
        labels, domains = y_true[:, 0], y_true[:, 1]
        labelled = labels >= 0
        if labelled.any():
            targets = labels[labelled]
            if weights is not None:
                targets = [targets, to_tensor(weights, device=self.device)[labelled]]
            label_loss = super().get_loss(logits[labelled], targets, X=X, training=training)
        else:  # a batch of target rows only: the domain loss alone
            label_loss = logits.sum() * 0.0
        if domain_logits is None:  # one domain: plain fine-tuning
            return label_loss
        counts = torch.bincount(domains, minlength=domain_logits.shape[1])
        per_row = F.cross_entropy(domain_logits.float(), domains, reduction="none")
        domain_loss = (per_row / counts[domains]).sum() / (counts > 0).sum()
        hits = torch.bincount(
            domains[domain_logits.argmax(1) == domains], minlength=domain_logits.shape[1]
        )
        self.history.record_batch("domain_loss", domain_loss.item())
        self.history.record_batch("domain_hits", hits.tolist())
        self.history.record_batch("domain_counts", counts.tolist())
        return label_loss + self.adaptation_weight * domain_loss
