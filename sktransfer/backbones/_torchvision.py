"""torchvision classification models split into named layer groups.

Each family adapter takes a built model and returns ``(groups, head, output)`` such that
``head(Sequential(groups)(x)) == model(x)`` in eval mode; ``tests/backbones`` checks this
for every family.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
import torchvision
from torch import nn

from ._base import Backbone, Preprocessing
from ._weights import is_weights_path, load_matching, load_state

__all__ = ["build_torchvision", "torchvision_names"]

Groups = list[tuple[str, nn.Module]]
Adapter = Callable[[nn.Module], tuple[Groups, nn.Module, str]]


def _resnet(m: Any) -> tuple[Groups, nn.Module, str]:
    stem = nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool)
    groups = [("stem", stem)] + [(f"layer{i}", getattr(m, f"layer{i}")) for i in range(1, 5)]
    return groups, nn.Sequential(m.avgpool, nn.Flatten(1), m.fc), "map"


def _features_each(m: Any) -> tuple[Groups, nn.Module, str]:
    # MobileNetV3 and EfficientNet(V2): `features` is already a list of stages.
    groups = [(f"features{i}", block) for i, block in enumerate(m.features)]
    return groups, nn.Sequential(m.avgpool, nn.Flatten(1), m.classifier), "map"


def _convnext(m: Any) -> tuple[Groups, nn.Module, str]:
    f = m.features  # stem, stage, (downsample, stage) x 3
    groups = [("stem", f[0]), ("stage1", f[1])]
    groups += [(f"stage{i}", nn.Sequential(f[2 * i - 2], f[2 * i - 1])) for i in range(2, 5)]
    return groups, nn.Sequential(m.avgpool, m.classifier), "map"


def _regnet(m: Any) -> tuple[Groups, nn.Module, str]:
    groups = [("stem", m.stem)] + list(m.trunk_output.named_children())
    return groups, nn.Sequential(m.avgpool, nn.Flatten(1), m.fc), "map"


def _densenet(m: Any) -> tuple[Groups, nn.Module, str]:
    f = m.features
    groups = [("stem", nn.Sequential(f.conv0, f.norm0, f.relu0, f.pool0))]
    for i in range(1, 4):
        groups.append(
            (f"block{i}", nn.Sequential(getattr(f, f"denseblock{i}"), getattr(f, f"transition{i}")))
        )
    groups.append(("block4", nn.Sequential(f.denseblock4, f.norm5, nn.ReLU())))
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), m.classifier)
    return groups, head, "map"


def _vgg(m: Any) -> tuple[Groups, nn.Module, str]:
    groups: Groups = []
    current: list[nn.Module] = []
    for layer in m.features:
        current.append(layer)
        if isinstance(layer, nn.MaxPool2d):
            groups.append((f"block{len(groups) + 1}", nn.Sequential(*current)))
            current = []
    return groups, nn.Sequential(m.avgpool, nn.Flatten(1), m.classifier), "map"


class _InceptionInput(nn.Module):
    """torchvision's ``transform_input``: ImageNet normalisation to the (0.5, 0.5) one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Same constants and operation order as torchvision, so results match bit for bit.
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        scale = x.new_tensor([s / 0.5 for s in std]).view(1, 3, 1, 1)
        shift = x.new_tensor([(m - 0.5) / 0.5 for m in mean]).view(1, 3, 1, 1)
        return x * scale + shift


def _inception(m: Any) -> tuple[Groups, nn.Module, str]:
    def seq(*names: str) -> nn.Sequential:
        return nn.Sequential(*(getattr(m, n) for n in names))

    first = [_InceptionInput()] if m.transform_input else []
    groups = [
        (
            "stem",
            nn.Sequential(*first, m.Conv2d_1a_3x3, m.Conv2d_2a_3x3, m.Conv2d_2b_3x3, m.maxpool1),
        ),
        ("stem2", seq("Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2")),
        ("mixed5", seq("Mixed_5b", "Mixed_5c", "Mixed_5d")),
        ("mixed6", seq("Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e")),
        ("mixed7", seq("Mixed_7a", "Mixed_7b", "Mixed_7c")),
    ]
    return groups, nn.Sequential(m.avgpool, m.dropout, nn.Flatten(1), m.fc), "map"


class _ViTEmbed(nn.Module):
    """Patchify, prepend the class token, add position embeddings (torchvision's ViT order)."""

    def __init__(self, vit: Any):
        super().__init__()
        self.conv_proj = vit.conv_proj
        self.class_token = vit.class_token
        self.pos_embedding = vit.encoder.pos_embedding
        self.dropout = vit.encoder.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.dropout(x + self.pos_embedding)


class _ClassToken(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


def _vit(m: Any) -> tuple[Groups, nn.Module, str]:
    layers = list(m.encoder.layers.named_children())
    groups: Groups = [("embed", _ViTEmbed(m))] + layers[:-1]
    groups.append((layers[-1][0], nn.Sequential(layers[-1][1], m.encoder.ln)))
    return groups, nn.Sequential(_ClassToken(), m.heads), "tokens"


_ADAPTERS: dict[str, Adapter] = {
    "resnet": _resnet,
    "mobilenetv3": _features_each,
    "efficientnet": _features_each,
    "convnext": _convnext,
    "regnet": _regnet,
    "densenet": _densenet,
    "vgg": _vgg,
    "inception": _inception,
    "vision_transformer": _vit,
}


# Classifier parameters: a checkpoint may leave them out or give them another shape.
_HEAD_KEYS = ("fc.", "classifier.", "heads.", "AuxLogits.")


def _family(name: str) -> str | None:
    module = torchvision.models.get_model_builder(name).__module__
    return module.rsplit(".", 1)[-1] if module.rsplit(".", 1)[-1] in _ADAPTERS else None


def torchvision_names() -> list[str]:
    """torchvision ImageNet classifiers that sktransfer can split into layer groups."""
    names = torchvision.models.list_models(module=torchvision.models)
    return sorted(n for n in names if _family(n) is not None)


def _preprocessing(weights: Any) -> Preprocessing:
    t = weights.transforms()
    return Preprocessing(
        input_size=int(t.crop_size[0]),
        resize_size=int(t.resize_size[0]),
        interpolation=t.interpolation.value,
        mean=tuple(t.mean),
        std=tuple(t.std),
    )


def _build_kwargs(family: str, weights: Any) -> dict[str, Any]:
    # The keyword arguments torchvision's builders set when they load these weights themselves.
    kwargs: dict[str, Any] = {"num_classes": len(weights.meta["categories"])}
    if family == "inception":
        kwargs.update(transform_input=True, aux_logits=True, init_weights=False)
    if family == "vision_transformer":
        kwargs["image_size"] = weights.meta["min_size"][0]
    return kwargs


def build_torchvision(name: str, weights: str | None) -> Backbone:
    """Torchvision model ``name`` with ``weights``: None, "DEFAULT", an enum name or a path."""
    family = _family(name)
    enums = torchvision.models.get_model_weights(name)
    reference = enums.DEFAULT
    state, categories, label = None, None, None
    if weights is None:
        kwargs = _build_kwargs(family, reference)
        if family == "inception":
            kwargs.update(init_weights=True)
    elif is_weights_path(weights):
        kwargs = _build_kwargs(family, reference)
        state, label = load_state(weights), str(weights)
    else:
        try:
            enum = enums[weights]
        except KeyError:
            valid = ["DEFAULT", *enums.__members__]
            raise ValueError(
                f"Unknown weights {weights!r} for {name!r}; valid: {valid}, None, or a path "
                "to a state dict file."
            ) from None
        reference, kwargs = enum, _build_kwargs(family, enum)
        state, categories, label = load_state(enum.url), enum.meta["categories"], enum.name
    model = torchvision.models.get_model(name, weights=None, **kwargs)
    head_ok = True
    if state is not None:
        head_ok = load_matching(model, state, name=name, head=_HEAD_KEYS, source=label)
    model.eval()
    groups, head, output = _ADAPTERS[family](model)
    trunk = nn.Sequential(OrderedDict(groups))
    feature_dim = _trunk_width(trunk, output, _preprocessing(reference).input_size)
    return Backbone(
        name=name,
        weights=label,
        trunk=trunk,
        head=head if (state is not None and head_ok) else None,
        preprocessing=_preprocessing(reference),
        feature_dim=feature_dim,
        output=output,
        categories=categories if head_ok else None,
    )


def _trunk_width(trunk: nn.Module, output: str, size: int) -> int:
    with torch.inference_mode():
        out = trunk(torch.zeros(1, 3, size, size))
    return int(out.shape[1] if output == "map" else out.shape[-1])
