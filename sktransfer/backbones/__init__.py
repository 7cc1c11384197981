"""Pretrained backbones split into layer groups: a registry, typed configs, safe weight loading."""

from ._base import Backbone, Preprocessing
from ._registry import DEFAULT_BACKBONE, list_backbones, load_backbone
from ._timm import imagenet_categories
from ._weights import hub_checkpoint_dir, is_weights_path, load_state_dict_file

__all__ = [
    "Backbone",
    "DEFAULT_BACKBONE",
    "Preprocessing",
    "hub_checkpoint_dir",
    "imagenet_categories",
    "is_weights_path",
    "list_backbones",
    "load_backbone",
    "load_state_dict_file",
]
