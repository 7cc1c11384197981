"""Typed descriptions of a loaded backbone and of the preprocessing it expects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import torch
from PIL import Image
from torch import nn

from .._inputs import center_crop_resize

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

    def transform(
        self, anchor: tuple[float, float] = (0.5, 0.5)
    ) -> Callable[[Image.Image], torch.Tensor]:
        """The transform these settings describe: an RGB PIL image to a ``(3, S, S)`` tensor.

        Equivalent to torchvision's ``Resize(resize_size) -> CenterCrop(input_size) ->
        ToTensor -> Normalize``, in about half the work (see the transform's docstring).
        ``anchor`` moves the crop: ``(0, 0)`` is the top-left corner of the resized image,
        ``(1, 1)`` the bottom-right (the crops of test-time augmentation).

        Examples
        --------
        >>> from PIL import Image
        >>> from sktransfer.backbones import Preprocessing
        >>> settings = Preprocessing(224, 256, "bilinear", (0.5,) * 3, (0.5,) * 3)
        >>> settings.transform()(Image.new("RGB", (640, 480))).shape
        torch.Size([3, 224, 224])
        """
        return _Transform(self, anchor)

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


class _Transform:
    """Resize the shorter side, center crop, normalise: one PIL image to a ``(3, S, S)`` tensor.

    Equivalent to torchvision's ``Resize(resize_size) -> CenterCrop(input_size) -> ToTensor
    -> Normalize``, but resamples only the crop box straight to the output size
    (:func:`~sktransfer._inputs.center_crop_resize`) and normalises the uint8 pixels in one
    in-place pass: about half the work, which matters on CPUs where decoding competes with
    the forward pass.
    """

    def __init__(self, preprocessing: Preprocessing, anchor: tuple[float, float] = (0.5, 0.5)):
        self.anchor = anchor
        self.size = preprocessing.input_size
        self.resize_size = preprocessing.resize_size
        self.resample = getattr(Image.Resampling, preprocessing.interpolation.upper())
        self.mean = torch.tensor(preprocessing.mean).view(3, 1, 1) * 255.0
        self.std = torch.tensor(preprocessing.std).view(3, 1, 1) * 255.0

    def __call__(self, image: Image.Image) -> torch.Tensor:
        pixels = center_crop_resize(image, self.size, self.resize_size, self.resample, self.anchor)
        tensor = torch.from_numpy(pixels).permute(2, 0, 1).float()
        return tensor.sub_(self.mean).div_(self.std)
