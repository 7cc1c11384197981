"""The trainable top of a pretrained backbone, and the whole network for augmented training."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["FrozenBelow", "TrainableTop", "make_head", "reverse_gradient"]


def make_head(in_features: int, n_outputs: int, hidden: Sequence[int], dropout: float) -> nn.Module:
    """Linear head, or an MLP with ReLU and dropout before every linear layer."""
    layers: list[nn.Module] = []
    width = in_features
    for units in hidden:
        layers += [nn.Dropout(dropout), nn.Linear(width, units), nn.ReLU(inplace=True)]
        width = units
    layers += [nn.Dropout(dropout), nn.Linear(width, n_outputs)]
    return nn.Sequential(*layers)


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.coefficient * grad, None


def reverse_gradient(x: torch.Tensor, coefficient: float) -> torch.Tensor:
    """Identity forward; the gradient flows back times ``-coefficient`` (Ganin & Lempitsky,
    2015): what minimises a loss above it maximises that loss for the layers below."""
    return _ReverseGradient.apply(x, coefficient)


class TrainableTop(nn.Module):
    """Top layer groups (``trunk``), global average pooling and a new ``head``.

    Its input is the frozen part's output, flattened per sample (what the featurizer caches
    with ``pooling="none"``, or pooled features when no group trains); ``input_shape``
    restores the map. Parameter names are ``trunk.<group>.*`` and ``head.*``, the handles of
    the discriminative learning rates. Groups named in ``waiting`` (gradual unfreezing) stay
    in eval mode when the rest trains.

    ``domain_head`` (domain adaptation) reads the features that the head's last layer
    reads, through a gradient reversal of ``reversal``; while training, the output is then
    ``(label logits, domain logits)``. In eval mode it is always the label logits alone.
    """

    def __init__(
        self,
        groups: Sequence[tuple[str, nn.Module]],
        head: nn.Module,
        input_shape: Sequence[int],
        tokens: bool = False,
    ):
        super().__init__()
        self.trunk = nn.Sequential(OrderedDict(groups))
        self.head = head
        self.input_shape = tuple(input_shape)
        self.tokens = tokens
        self.waiting: set[str] = set()
        self.domain_head: nn.Module | None = None
        self.reversal = 0.0

    @property
    def spatial(self) -> bool:
        """Whether an input is a map, ``(channels, height, width)`` flattened (CutMix
        cuts boxes from it), rather than pooled features or tokens."""
        return len(self.input_shape) == 3 and not self.tokens

    def layer_groups(self) -> list[tuple[str, nn.Module]]:
        """The trainable groups, bottom first, by name (what gradual unfreezing steps)."""
        return list(self.trunk.named_children())

    def train(self, mode: bool = True) -> TrainableTop:
        super().train(mode)
        for name, group in self.layer_groups():
            if name in self.waiting:
                group.eval()
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the head's last (linear) layer reads: the pooled top, through the hidden
        layers of an MLP head."""
        x = self.trunk(x.view(-1, *self.input_shape))  # -1: the batch stays dynamic in ONNX
        if x.dim() > 2:  # a map (or tokens) from the top group, or from the frozen part
            x = x.mean(1) if self.tokens else x.mean((2, 3))
        return self.head[:-1](x)

    def forward(self, x: torch.Tensor):
        features = self.features(x)
        logits = self.head[-1](features)
        if self.domain_head is None or not self.training:
            return logits
        return logits, self.domain_head(reverse_gradient(features, self.reversal))


class FrozenBelow(nn.Module):
    """The frozen groups, always in eval mode and without autograd, under a trainable top.

    Used when inputs are augmented (or every group trains), so the frozen part must run on
    every batch; BatchNorm statistics of frozen groups never move.
    """

    spatial = True  # its inputs are images

    def __init__(self, frozen: nn.Module, top: TrainableTop):
        super().__init__()
        self.frozen = frozen.eval().requires_grad_(False)
        self.top = top

    def train(self, mode: bool = True) -> FrozenBelow:
        super().train(mode)
        self.frozen.eval()
        return self

    def frozen_output(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.frozen(x).flatten(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.top.features(self.frozen_output(x))

    def forward(self, x: torch.Tensor):
        return self.top(self.frozen_output(x))
