"""Typed descriptions of a loaded backbone and of the preprocessing it expects."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from torch import nn

__all__ = ["Backbone", "Preprocessing"]

Interpolation = Literal["nearest", "bilinear", "bicubic"]


@dataclass(frozen=True)
class Preprocessing:
    """How a backbone wants its images: resize the shorter side, center crop, normalize.

    Parameters
    ----------
    input_size : int
        Side of the square crop fed to the network.
    resize_size : int
        The shorter image side is resized to this before the center crop
        (``input_size / resize_size`` is the usual *crop percentage*, 0.875 for most
        ImageNet models).
    interpolation : {"nearest", "bilinear", "bicubic"}
        Resampling filter of the resize.
    mean, std : tuple of 3 floats
        Per-channel normalisation applied to RGB values scaled to [0, 1].
    """

    input_size: int
    resize_size: int
    interpolation: Interpolation
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def with_input_size(self, input_size: int) -> Preprocessing:
        """The same preprocessing for another crop size, keeping the crop percentage."""
        ratio = self.resize_size / self.input_size
        return replace(self, input_size=int(input_size), resize_size=round(input_size * ratio))


@dataclass
class Backbone:
    """A pretrained network split for transfer learning.

    ``trunk`` is an ``nn.Sequential`` of named *layer groups* ordered from the stem to the
    last stage; running all of them maps a normalised ``(N, 3, H, W)`` batch to the final
    feature map ``(N, C, h, w)`` (or to tokens ``(N, T, C)`` for vision transformers).
    The groups are the unit of intermediate features, of freezing depth and of
    discriminative learning rates.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"efficientnet_lite0"`` or ``"timm:resnet18"``.
    weights : str or None
        What was loaded: ``"IMAGENET1K_V1"``, ``"bundled:<package>"``, a file path, or None.
    trunk : torch.nn.Sequential
        The layer groups, in order.
    head : torch.nn.Module or None
        Maps the trunk output to the pretrained classifier's logits (None when the
        weights carry no usable classifier).
    preprocessing : Preprocessing
        Resize, crop and normalisation the weights were trained with.
    feature_dim : int
        Channels of the trunk output (the penultimate-layer width).
    output : {"map", "tokens"}
        Layout of the trunk output.
    categories : list of str or None
        Class names of ``head``'s outputs when known (ImageNet-1k for most weights).
    """

    name: str
    weights: str | None
    trunk: nn.Sequential
    head: nn.Module | None
    preprocessing: Preprocessing
    feature_dim: int
    output: Literal["map", "tokens"] = "map"
    categories: list[str] | None = None

    @property
    def layer_groups(self) -> list[str]:
        """Names of the layer groups, from the stem to the last stage."""
        return [name for name, _ in self.trunk.named_children()]

    def group_index(self, layer: int | str | None) -> int:
        """Resolve a layer-group name or (possibly negative) index; None means the last group."""
        names = self.layer_groups
        if layer is None:
            return len(names) - 1
        if isinstance(layer, str):
            if layer not in names:
                from difflib import get_close_matches

                from ..exceptions import UnknownBackboneError

                close = get_close_matches(layer, names, n=3)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                raise UnknownBackboneError(
                    f"{self.name!r} has no layer group {layer!r}.{hint} Its groups are {names}."
                )
            return names.index(layer)
        n = len(names)
        if not -n <= int(layer) < n:
            raise ValueError(
                f"layer={layer} is out of range for {self.name!r}, which has {n} layer groups "
                f"(valid: {-n}..{n - 1} or a name in {names})."
            )
        return int(layer) % n
