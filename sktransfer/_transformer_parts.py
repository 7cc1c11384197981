"""The layers of a Hugging Face encoder, and its hidden states part of the way up.

Shared by the text embedder (which computes the states at a layer, and caches them) and
the transformer fine-tuner (which trains the layers above it).
"""

from __future__ import annotations

import threading

import torch
from torch import nn

__all__ = ["POOLINGS", "encoder_layers", "pool_states", "states_at"]

POOLINGS = ("mean", "cls", "max")

_local = threading.local()


def encoder_layers(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The dotted name and the list of a model's transformer layers, bottom first.

    Found as the module list with ``config.num_hidden_layers`` entries (``encoder.layer``
    in BERT, RoBERTa and MPNet, ``transformer.layer`` in DistilBERT).
    """
    n_layers = model.config.num_hidden_layers
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == n_layers:
            return name, module
    raise ValueError(
        f"{type(model).__name__} has no list of its {n_layers} layers: training only some "
        "of its layers needs a BERT-style encoder; use unfreeze='all' or 0."
    )


class _Reached(Exception):
    def __init__(self, states: torch.Tensor):
        super().__init__()
        self.states = states


def _stop_here(module: nn.Module, args: tuple, output) -> None:
    if getattr(_local, "stop_at", None) is module:  # other threads' forwards run through
        raise _Reached(output[0] if isinstance(output, tuple) else output)


def states_at(
    model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, layer: int
) -> torch.Tensor:
    """The hidden states after ``layer`` transformer layers (0: the embeddings' output).

    The layers above ``layer`` do not run: the forward pass stops as soon as the states are
    computed. ``layer`` equal to the number of layers gives ``last_hidden_state``. Equal,
    for BERT-style models, to ``model(..., output_hidden_states=True).hidden_states[layer]``.
    """
    n_layers = model.config.num_hidden_layers
    if not 0 <= layer <= n_layers:
        raise ValueError(f"layer must be within [0, {n_layers}]; got {layer}.")
    if layer == n_layers:
        return model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    target = model.embeddings if layer == 0 else encoder_layers(model)[1][layer - 1]
    handle = target.register_forward_hook(_stop_here)
    _local.stop_at = target
    try:
        model(input_ids=input_ids, attention_mask=attention_mask)
    except _Reached as reached:
        return reached.states
    finally:
        _local.stop_at = None
        handle.remove()
    raise RuntimeError(f"{type(model).__name__}'s forward pass never ran layer {layer}.")


def pool_states(states: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per text from its token states ``(N, T, H)``: the attention-masked mean,
    the first (``[CLS]``) token's state, or the masked maximum."""
    if pooling == "cls":
        return states[:, 0]
    if pooling == "max":
        return states.masked_fill(~attention_mask.bool().unsqueeze(2), float("-inf")).amax(1)
    weights = attention_mask.unsqueeze(2).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
