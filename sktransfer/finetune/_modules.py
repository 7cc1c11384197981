"""The trainable top of a pretrained backbone, and the whole network for augmented training."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["FrozenBelow", "TrainableTop", "make_head"]


def make_head(in_features: int, n_outputs: int, hidden: Sequence[int], dropout: float) -> nn.Module:
    """Linear head, or an MLP with ReLU and dropout before every linear layer."""
    layers: list[nn.Module] = []
    width = in_features
    for units in hidden:
        layers += [nn.Dropout(dropout), nn.Linear(width, units), nn.ReLU(inplace=True)]
        width = units
    layers += [nn.Dropout(dropout), nn.Linear(width, n_outputs)]
    return nn.Sequential(*layers)


class TrainableTop(nn.Module):
    """Top layer groups (``trunk``), global average pooling and a new ``head``.

    Its input is the frozen part's output, flattened per sample (what the featurizer caches
    with ``pooling="none"``, or pooled features when no group trains); ``input_shape``
    restores the map. Parameter names are ``trunk.<group>.*`` and ``head.*``, the handles of
    the discriminative learning rates. Groups named in ``waiting`` (gradual unfreezing) stay
    in eval mode when the rest trains.
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

    def layer_groups(self) -> list[tuple[str, nn.Module]]:
        """The trainable groups, bottom first, by name (what gradual unfreezing steps)."""
        return list(self.trunk.named_children())

    def train(self, mode: bool = True) -> TrainableTop:
        super().train(mode)
        for name, group in self.layer_groups():
            if name in self.waiting:
                group.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.trunk(x.view(-1, *self.input_shape))  # -1: the batch stays dynamic in ONNX
        if x.dim() > 2:  # a map (or tokens) from the top group, or from the frozen part
            x = x.mean(1) if self.tokens else x.mean((2, 3))
        return self.head(x)


class FrozenBelow(nn.Module):
    """The frozen groups, always in eval mode and without autograd, under a trainable top.

    Used when inputs are augmented (or every group trains), so the frozen part must run on
    every batch; BatchNorm statistics of frozen groups never move.
    """

    def __init__(self, frozen: nn.Module, top: TrainableTop):
        super().__init__()
        self.frozen = frozen.eval().requires_grad_(False)
        self.top = top

    def train(self, mode: bool = True) -> FrozenBelow:
        super().train(mode)
        self.frozen.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x = self.frozen(x)
        return self.top(x.flatten(1))
