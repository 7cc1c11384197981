"""Reading state dicts safely and loading them into models.

Every file goes through ``torch.load(..., weights_only=True)`` (or safetensors), so a
weights file can never execute code while it is read. Downloads go through
``torch.hub.load_state_dict_from_url`` with ``check_hash=True``: a file whose name carries
a hash prefix (torchvision's ``resnet18-f37072fd.pth``) is checked against it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import urllib.error
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..exceptions import SktransferError, WeightsNotFoundError

__all__ = [
    "hub_checkpoint_dir",
    "is_weights_path",
    "load_matching",
    "load_state",
    "load_state_dict_file",
    "load_state_dict_from_url",
]

_CHECKPOINT_WRAPPERS = ("state_dict", "model_state_dict", "model", "module")


def is_weights_path(weights: Any) -> bool:
    """Whether a weights spec names a file rather than a registry weights name.

    Examples
    --------
    >>> from sktransfer.backbones import is_weights_path
    >>> is_weights_path("IMAGENET1K_V1"), is_weights_path("finetuned.pth")
    (False, True)
    """
    if isinstance(weights, os.PathLike):
        return True
    if not isinstance(weights, str):
        return False
    return os.sep in weights or weights.endswith((".pt", ".pth", ".bin", ".safetensors"))


def hub_checkpoint_dir() -> Path:
    """Folder where torch hub keeps downloaded checkpoints (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


@contextlib.contextmanager
def _reading(source: str) -> Iterator[None]:
    """Turn the ways a checkpoint fails to read into one clear :class:`SktransferError`."""
    try:
        yield
    except pickle.UnpicklingError as exc:
        raise SktransferError(
            f"Refused to load {source!r}: it is not a plain state dict "
            f"(torch.load(weights_only=True) rejected it: {exc}). Only tensors and plain "
            "containers are accepted, so that a weights file cannot run code."
        ) from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SktransferError(
            f"Could not read weights file {source!r}: {exc}. The file is truncated, "
            "corrupt, or not a PyTorch/safetensors checkpoint; download it again."
        ) from exc


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.pt``/``.pth``/``.bin`` (weights only) or ``.safetensors``.

    Common checkpoint wrappers (``{"state_dict": ...}``, ``{"model": ...}``) are unwrapped
    and a ``module.`` prefix left by ``DataParallel`` is stripped.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"Weights file {str(path)!r} does not exist or is not a file.")
    with _reading(str(path)):
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    return _unwrap(state, str(path))


def _unwrap(state: Any, source: str) -> dict[str, torch.Tensor]:
    while isinstance(state, Mapping) and not any(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        inner = next((state[k] for k in _CHECKPOINT_WRAPPERS if k in state), None)
        if inner is None:
            break
        state = inner
    if not isinstance(state, Mapping) or not state:
        raise SktransferError(
            f"{source!r} does not hold a state dict (got {type(state).__name__})."
        )
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


def load_state_dict_from_url(url: str, *, progress: bool = False) -> dict[str, torch.Tensor]:
    """Load from the torch hub cache, downloading into it first when the file is missing.

    The download is ``torch.hub``'s own (a temporary file renamed into place, the hash
    prefix in the file name checked). Offline with nothing cached, raises
    :class:`WeightsNotFoundError` that names the cache folder and the offline alternatives.
    """
    cached = hub_checkpoint_dir() / os.path.basename(url)
    try:
        with _reading(str(cached)):
            state = torch.hub.load_state_dict_from_url(
                url,
                model_dir=str(cached.parent),
                map_location="cpu",
                progress=progress,
                check_hash=True,
                weights_only=True,
            )
    except SktransferError as exc:
        if cached.is_file() or not isinstance(
            exc.__cause__, (urllib.error.URLError, OSError, TimeoutError)
        ):
            raise
        raise WeightsNotFoundError(
            f"Pretrained weights are not cached and could not be downloaded "
            f"({exc.__cause__}).\n"
            f"  expected file: {cached}\n"
            f"  from:          {url}\n"
            "Offline options: copy the file into that folder (or set TORCH_HOME), pass "
            "weights='/path/to/state_dict.pth', or use the bundled default backbone "
            "'efficientnet_lite0', which needs no network."
        ) from exc.__cause__
    return _unwrap(state, str(cached))


def load_state(source: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The state dict at ``source``: an ``http(s)://`` URL (through the hub cache) or a file."""
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return load_state_dict_from_url(source)
    return load_state_dict_file(source)


def load_matching(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    name: str,
    head: tuple[str, ...],
    source: str,
) -> bool:
    """Load ``state`` into ``model`` (backbone ``name``), all but perhaps the classifier.

    Keys under the ``head`` prefixes may be missing or of another shape (a checkpoint
    fine-tuned for other classes): the model then keeps its own classifier. Anything else
    missing, mis-shaped or unexpected raises a ValueError that counts and names the keys.
    Returns whether the classifier was loaded too.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    mismatched = [k for k in own if k in state and state[k].shape != own[k].shape]
    unexpected = [k for k in state if k not in own]
    bad = sorted({*missing, *mismatched})
    outside_head = [k for k in bad if not k.startswith(head)]
    if outside_head or unexpected:
        raise ValueError(
            f"State dict {source!r} does not fit {name!r}: {len(missing)} "
            f"missing, {len(mismatched)} mis-shaped, {len(unexpected)} unexpected keys "
            f"(first: {(outside_head + unexpected)[:3]})."
        )
    model.load_state_dict({k: v for k, v in state.items() if k not in bad}, strict=False)
    return not bad
