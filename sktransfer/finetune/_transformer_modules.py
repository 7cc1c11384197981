"""The trainable top of a pretrained transformer, and the batches it reads."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._transformer_parts import encoder_layers, pool_states
from ._weights import WeightedDataset

__all__ = [
    "LengthGroupedLoader",
    "PadBatch",
    "TokenSequences",
    "TransformerTop",
    "transformer_top",
]


class _GivenStates(nn.Module):
    """Stands in for a transformer's embeddings when its input is already hidden states."""

    def forward(self, *args: Any, inputs_embeds: torch.Tensor | None = None, **kwargs: Any):
        return inputs_embeds


def transformer_top(model: nn.Module, n_frozen: int | None) -> tuple[nn.Module, str]:
    """A trainable copy of ``model`` above its first ``n_frozen`` layers, and the dotted
    name of its layer list.

    The copy reads the hidden states after ``n_frozen`` layers in place of token ids (its
    embeddings pass them through). ``n_frozen=None`` copies the whole model, embeddings
    included, which then reads token ids. The shared ``model`` is not changed.
    """
    name, _ = encoder_layers(model)
    top = copy.deepcopy(model).train()
    if n_frozen is not None:
        parent, _, attribute = name.rpartition(".")
        layers = top.get_submodule(name)
        setattr(top.get_submodule(parent), attribute, nn.ModuleList(list(layers)[n_frozen:]))
        top.embeddings = _GivenStates()
    return top, name


class TransformerTop(nn.Module):
    """The layers of a transformer that train, its pooling and a new ``head``.

    ``transformer`` is None when only the head trains: the input is then the frozen model's
    pooled embedding. Otherwise the input is token ids (the whole model trains) or hidden
    states at the freezing boundary, with their attention mask. Parameter names are
    ``transformer.<layers>.<i>.*``, ``transformer.embeddings.*`` and ``head.*``, the handles
    of the layer-wise learning rates. Groups named in ``waiting`` (gradual unfreezing) stay
    in eval mode when the rest trains.
    """

    def __init__(
        self,
        transformer: nn.Module | None,
        layers: str,
        head: nn.Module,
        pooling: str,
        first_layer: int = 0,
    ):
        super().__init__()
        self.transformer = transformer
        self.layers = layers
        self.head = head
        self.pooling = pooling
        self.first_layer = first_layer
        self.waiting: set[str] = set()

    def layer_groups(self) -> list[tuple[str, nn.Module]]:
        """The trainable groups, bottom first: the embeddings (when they train), then each
        layer, named by its index in the pretrained model."""
        if self.transformer is None:
            return []
        groups = []
        if not isinstance(self.transformer.embeddings, _GivenStates):
            groups.append(("embeddings", self.transformer.embeddings))
        layers = self.transformer.get_submodule(self.layers)
        groups += [(f"layer.{self.first_layer + i}", layer) for i, layer in enumerate(layers)]
        return groups

    def train(self, mode: bool = True) -> TransformerTop:
        super().train(mode)
        for name, group in self.layer_groups():
            if name in self.waiting:
                group.eval()
        return self

    def forward(
        self,
        states: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.transformer is None:  # pooled embeddings of the frozen model
            return self.head(states)
        if input_ids is not None:
            out = self.transformer(input_ids=input_ids, attention_mask=attention_mask)
        else:
            out = self.transformer(inputs_embeds=states, attention_mask=attention_mask)
        return self.head(pool_states(out.last_hidden_state, attention_mask, self.pooling))


class TokenSequences(torch.utils.data.Dataset):
    """One variable-length item per text (its token ids, or its token states) and a target;
    batches are padded to their longest text by :class:`PadBatch`."""

    def __init__(self, items: Sequence[Any], targets: np.ndarray):
        self.items, self.targets = items, targets

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i], self.targets[i]

    def subset(self, indices: np.ndarray) -> TokenSequences:
        return TokenSequences([self.items[i] for i in indices], self.targets[indices])


class PadBatch:
    """Collate token ids (``key="input_ids"``, padded with ``pad_id``) or token states
    (``key="states"``, padded with zeros) into ``{key, "attention_mask"}`` and targets."""

    def __init__(self, key: str, pad_id: int = 0):
        self.key, self.pad_id = key, pad_id

    def __call__(self, batch: list) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        items, targets = zip(*batch, strict=True)
        lengths = [len(item) for item in items]
        width = max(lengths)
        mask = torch.zeros(len(items), width, dtype=torch.long)
        if self.key == "input_ids":
            x = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        else:
            x = torch.zeros(len(items), width, items[0].shape[1], dtype=torch.float32)
        for row, (item, length) in enumerate(zip(items, lengths, strict=True)):
            x[row, :length] = torch.as_tensor(item)
            mask[row, :length] = 1
        # Targets, or (target, loss weight) pairs of a weighted dataset: torch's own collation.
        targets = torch.utils.data.default_collate(list(targets))
        return {self.key: x, "attention_mask": mask}, targets


class LengthGroupedLoader(torch.utils.data.DataLoader):
    """skorch's training iterator for token sequences: shuffled batches of texts of similar
    length (transformers' ``LengthGroupedSampler``), so that little of a batch is padding."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, **kwargs: Any):
        sequences = dataset.base if isinstance(dataset, WeightedDataset) else dataset
        if shuffle and isinstance(sequences, TokenSequences):
            from transformers.trainer_pt_utils import LengthGroupedSampler

            lengths = [len(item) for item in sequences.items]
            kwargs["sampler"] = LengthGroupedSampler(batch_size, lengths=lengths)
        else:
            kwargs["shuffle"] = shuffle
        super().__init__(dataset, batch_size=batch_size, **kwargs)
