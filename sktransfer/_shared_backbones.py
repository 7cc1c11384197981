"""Backbones loaded once per process and shared by the estimators that only read them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

from .backbones import Backbone, is_weights_path, load_backbone

__all__ = ["shared_backbone", "shared_transformer", "transformer_key", "weights_key"]


def weights_key(weights) -> tuple:
    """What identifies a weights spec: its name, or a file's resolved path, size and mtime."""
    if is_weights_path(weights):
        path = Path(weights).expanduser().resolve()
        return (str(path), *_stat(path))
    return (weights,)


@lru_cache(maxsize=4)
def _cached(name: str, key: tuple, weights) -> Backbone:
    # Building the model draws its initial weights: a first (uncached) load must not move
    # the caller's seeded RNG, or two fits with one random_state would differ.
    with torch.random.fork_rng(devices=[]):
        return load_backbone(name, weights)


def shared_backbone(name: str, weights) -> Backbone:
    """:func:`~sktransfer.backbones.load_backbone` memoised per process.

    The result is shared: callers read it or deep-copy the parts they train, never change
    it. A path is keyed by its size and modification time, so a rewritten file reloads.
    """
    return _cached(name, weights_key(weights), weights)


@lru_cache(maxsize=2)
def _cached_transformer(model: str, key: tuple) -> tuple:
    from .text import load_transformer

    with torch.random.fork_rng(devices=[]):
        return load_transformer(model)


def transformer_key(model) -> tuple:
    """What identifies a transformer: its name, or a folder's path and its weights file's
    size and modification time (so rewritten weights reload, and cache apart)."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return (str(model),)
    return (str(path.resolve()), *_stat(path / "model.safetensors"))


def shared_transformer(model) -> tuple:
    """:func:`~sktransfer.text.load_transformer` memoised per process (read-only use),
    keyed by :func:`transformer_key`."""
    return _cached_transformer(str(model), transformer_key(model))


def _stat(path: Path) -> tuple:
    stat = path.stat() if path.exists() else None
    return (stat.st_size, stat.st_mtime_ns) if stat else (None, None)
