"""skorch callbacks and the skorch net behind the fine-tuning estimators."""

from __future__ import annotations

import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

__all__ = ["BatchLRSchedule", "TransferNet"]


class BatchLRSchedule(Callback):
    """Cosine or one-cycle learning rates, stepped after every training batch.

    Built at the start of training from the optimizer's own groups, so each group's
    (discriminative) learning rate is its peak.
    """

    def __init__(self, kind: str, total_steps: int):
        self.kind = kind
        self.total_steps = total_steps

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        optimizer = net.optimizer_
        steps = max(1, self.total_steps)
        if self.kind == "onecycle":
            peaks = [group["lr"] for group in optimizer.param_groups]
            self.schedule_ = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=peaks, total_steps=steps + 1
            )
        else:
            self.schedule_ = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            self.schedule_.step()


class TransferNet(NeuralNetClassifier):
    """skorch's classifier with frozen parameters kept out of the optimizer and bf16 on CUDA.

    Parameters that do not require gradients (the frozen groups below an augmented input)
    get no optimizer slot and no state. On a CUDA device, forward passes run under
    ``torch.autocast`` in bfloat16 (no loss scaling needed); logits come back as float32.
    """

    def get_all_learnable_params(self):
        for name, parameter in super().get_all_learnable_params():
            if parameter.requires_grad:
                yield name, parameter

    def infer(self, x, **fit_params):
        if torch.device(self.device).type != "cuda":
            return super().infer(x, **fit_params)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return super().infer(x, **fit_params).float()
