"""Reading state dicts safely: local files, the torch hub cache, then a download.

Every file goes through ``torch.load(..., weights_only=True)`` (or safetensors), so a
weights file can never execute code while it is read.
"""

from __future__ import annotations

import os
import pickle
import urllib.error
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..exceptions import SktransferError, WeightsNotFoundError

__all__ = ["hub_checkpoint_dir", "load_state_dict_file", "load_state_dict_from_url"]

_CHECKPOINT_WRAPPERS = ("state_dict", "model_state_dict", "model", "module")


def hub_checkpoint_dir() -> Path:
    """Folder where torch hub keeps downloaded checkpoints (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.pt``/``.pth``/``.bin`` (weights only) or ``.safetensors``.

    Common checkpoint wrappers (``{"state_dict": ...}``, ``{"model": ...}``) are unwrapped
    and a ``module.`` prefix left by ``DataParallel`` is stripped.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"Weights file {str(path)!r} does not exist or is not a file.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise SktransferError(
            f"Refused to load {str(path)!r}: it is not a plain state dict "
            f"(torch.load(weights_only=True) rejected it: {exc}). Only tensors and plain "
            "containers are accepted, so that a weights file cannot run code."
        ) from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SktransferError(
            f"Could not read weights file {str(path)!r}: {exc}. The file is truncated, "
            "corrupt, or not a PyTorch/safetensors checkpoint; download it again."
        ) from exc
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

    Offline with nothing cached, raises :class:`WeightsNotFoundError` that names the cache
    folder and the offline alternatives.
    """
    cached = hub_checkpoint_dir() / os.path.basename(url)
    if not cached.is_file():
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(cached.name + f".{os.getpid()}.partial")
            torch.hub.download_url_to_file(url, str(tmp), progress=progress)
            os.replace(tmp, cached)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise WeightsNotFoundError(
                f"Pretrained weights are not cached and could not be downloaded ({exc}).\n"
                f"  expected file: {cached}\n"
                f"  from:          {url}\n"
                "Offline options: copy the file into that folder (or set TORCH_HOME), pass "
                "weights='/path/to/state_dict.pth', or use the bundled default backbone "
                "'efficientnet_lite0', which needs no network."
            ) from exc
    return load_state_dict_file(cached)
