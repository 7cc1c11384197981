"""The backbone registry: one factory from a name and a weights spec to a :class:`Backbone`."""

from __future__ import annotations

import os
from collections.abc import Callable
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

from sklearn.utils._param_validation import validate_params

from ..exceptions import UnknownBackboneError
from ._base import Backbone
from ._timm import BUNDLED, build_bundled, build_timm
from ._torchvision import build_torchvision, torchvision_names
from ._weights import is_weights_path

__all__ = ["DEFAULT_BACKBONE", "WeightsSpec", "list_backbones", "load_backbone"]

DEFAULT_BACKBONE = "efficientnet_lite0"
WeightsSpec = str | os.PathLike | None
_Builder = Callable[[str, WeightsSpec], Backbone]


@lru_cache(maxsize=1)
def _builders() -> dict[str, _Builder]:
    builders: dict[str, _Builder] = dict.fromkeys(BUNDLED, build_bundled)
    builders.update({name: build_torchvision for name in torchvision_names()})
    return builders


def list_backbones() -> list[str]:
    """Names accepted by :func:`load_backbone`, the offline default first.

    Any timm architecture is also accepted as ``"timm:<name>"`` (see ``timm.list_models()``).

    Examples
    --------
    >>> from sktransfer.backbones import list_backbones
    >>> list_backbones()[0]
    'efficientnet_lite0'
    >>> "resnet50" in list_backbones()
    True
    """
    names = list(_builders())
    return [DEFAULT_BACKBONE] + sorted(n for n in names if n != DEFAULT_BACKBONE)


@validate_params(
    {"name": [str], "weights": [str, os.PathLike, None]}, prefer_skip_nested_validation=True
)
def load_backbone(name: str = DEFAULT_BACKBONE, weights: WeightsSpec = "DEFAULT") -> Backbone:
    """Build backbone ``name`` split into layer groups, with pretrained ``weights``.

    Parameters
    ----------
    name : str, default="efficientnet_lite0"
        A name from :func:`list_backbones`, or ``"timm:<architecture>"``.
    weights : str, path or None, default="DEFAULT"
        ``"DEFAULT"`` (the best ImageNet weights), a torchvision weights enum name such as
        ``"IMAGENET1K_V1"``, a path to a state dict (``.pth``/``.safetensors``), or None for
        random initialisation. Weights are looked up in this order: bundled with an installed
        package (``efficientnet_lite0``, ``efficientnet_lite1``, ``efficientnet_lite2``), the
        explicit path, the torch hub cache, then a download.

    Returns
    -------
    Backbone
        The trunk as ordered layer groups, its head, feature width and preprocessing.

    Raises
    ------
    UnknownBackboneError
        For an unknown name, with the closest registered names.
    WeightsNotFoundError
        Offline with nothing cached; the message names the cache folder and the options.

    Examples
    --------
    >>> from sktransfer.backbones import load_backbone
    >>> bb = load_backbone("efficientnet_lite0")
    >>> bb.feature_dim, bb.preprocessing.input_size, bb.layer_groups[:2]
    (1280, 224, ['stem', 'blocks0'])
    """
    if is_weights_path(weights):
        weights = str(Path(weights).expanduser())
    if name.startswith("timm:"):
        return build_timm(name, weights)
    builders = _builders()
    if name not in builders:
        close = get_close_matches(name, list(builders), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise UnknownBackboneError(
            f"Unknown backbone {name!r}.{hint} See sktransfer.backbones.list_backbones(), "
            "or use 'timm:<name>' for any timm architecture."
        )
    return builders[name](name, weights)
