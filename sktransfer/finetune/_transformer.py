"""The transformer fine-tuners' base: a pretrained encoder split at the freezing depth."""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.dataset import Dataset as ArrayDataset
from torch import nn

from .._inputs import as_text_list
from .._shared_backbones import shared_transformer
from .._transformer_parts import POOLINGS, encoder_layers, states_at
from ..text import DEFAULT_TRANSFORMER, TransformerTextEmbedder
from ._callbacks import GradualUnfreezing
from ._modules import make_head
from ._trainer import NetTrainer, lr_schedule
from ._transformer_modules import (
    LengthGroupedLoader,
    PadBatch,
    TokenSequences,
    TransformerTop,
    transformer_top,
)

__all__ = ["FineTunedTransformerEstimator"]


class FineTunedTransformerEstimator(NetTrainer):
    """Base of the transformer fine-tuners: the top ``unfreeze`` layers train, the rest is
    computed once.

    Below the freezing boundary the encoder is a pure function of the text, so a
    :class:`~sktransfer.TransformerTextEmbedder` computes each text's hidden states there
    once (cached by content when ``cache`` is set) and every epoch, fold and grid candidate
    trains only the layers above on them. Subclasses set the loss and how targets are
    encoded (``_encode_targets``, ``_n_outputs``, ``_net_options``); the constructor
    parameters are documented in :class:`FineTunedTransformerClassifier`.
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "unfreeze": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "pooling": [StrOptions(set(POOLINGS))],
        "head": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "head_lr": [Interval(Real, 0, None, closed="neither"), None],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "scheduler": [StrOptions({"linear", "cosine"}), None],
        "warmup": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "gradual_unfreeze": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "cache": "no_validation",
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "progress": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_TRANSFORMER,
        *,
        unfreeze: int | str = 2,
        pooling: str = "mean",
        head: tuple[int, ...] = (),
        dropout: float = 0.1,
        lr: float = 2e-4,
        head_lr: float | None = 1e-2,
        lr_decay: float = 0.9,
        weight_decay: float = 0.01,
        scheduler: str | None = "linear",
        warmup: float = 0.1,
        max_epochs: int = 3,
        batch_size: int = 32,
        max_length: int | None = None,
        gradual_unfreeze: int | None = None,
        early_stopping: int | None = None,
        validation_fraction: float = 0.1,
        class_weight: Any = None,
        threshold: float = 0.5,
        cache: Any = None,
        device: str | torch.device = "auto",
        random_state: Any = None,
        verbose: int = 0,
        progress: bool | str = "auto",
    ):
        self.model = model
        self.unfreeze = unfreeze
        self.pooling = pooling
        self.head = head
        self.dropout = dropout
        self.lr = lr
        self.head_lr = head_lr
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.warmup = warmup
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.max_length = max_length
        self.gradual_unfreeze = gradual_unfreeze
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.threshold = threshold
        self.cache = cache
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.progress = progress

    # -- the trainer's hooks -----------------------------------------------------------------

    def _as_inputs(self, X: Any) -> list[str]:
        return as_text_list(X)

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _prepare(self, texts: list[str], targets: np.ndarray, seed: int):
        _, encoder = shared_transformer(self.model)
        n_layers = encoder.config.num_hidden_layers
        if self.unfreeze != "all" and self.unfreeze > n_layers:
            raise ValueError(
                f"unfreeze={self.unfreeze} exceeds the {n_layers} layers of {self.model!r}; "
                f"use at most {n_layers} (the embeddings stay frozen) or 'all'."
            )
        trained = n_layers if self.unfreeze == "all" else int(self.unfreeze)
        self.featurizer_ = TransformerTextEmbedder(
            self.model,
            pooling=self.pooling,
            layer=None if trained == 0 else n_layers - trained,
            normalize=False,
            max_length=self.max_length,
            batch_size=self.batch_size,
            device=self.device,
            cache=self.cache,
            progress=self.progress,
        ).fit(texts)
        module = self._module()
        self.trainable_groups_ = [name for name, _ in module.layer_groups()]
        if self._input() == "states":
            self._check_top(module, texts)
        return self._dataset(texts, targets), module

    def _dataset(self, texts: list[str], targets: np.ndarray | None = None) -> Any:
        if targets is None:
            targets = np.zeros(len(texts), dtype=np.int64)
        kind = self._input()
        if kind == "pooled":
            return ArrayDataset(self.featurizer_.transform(texts), targets)
        if kind == "states":
            return TokenSequences(self.featurizer_.token_states(texts), targets)
        return TokenSequences(self.featurizer_.tokenize(texts), targets)

    def _net_output(self, X: Any, method: str) -> np.ndarray:
        """The net's ``method`` ("predict" or "predict_proba") on texts, run in batches of
        similar length and returned in the order given."""
        data = self._dataset(as_text_list(X))
        if not isinstance(data, TokenSequences):
            return getattr(self.net_, method)(data)
        order = np.argsort([len(item) for item in data.items], kind="stable")
        sorted_output = getattr(self.net_, method)(data.subset(order))
        output = np.empty_like(sorted_output)
        output[order] = sorted_output
        return output

    def _subset(self, data: Any, indices: np.ndarray, *, training: bool) -> Any:
        if isinstance(data, TokenSequences):
            return data.subset(indices)
        return super()._subset(data, indices, training=training)

    def _rebuilt_module(self, weights: dict[str, np.ndarray]) -> nn.Module:
        return self._module()

    def _collate_options(self) -> dict:
        """skorch iterator options that pad variable-length batches (none for pooled input)."""
        kind = self._input()
        if kind == "pooled":
            return {}
        tokenizer, _ = shared_transformer(self.model)
        key = "input_ids" if kind == "ids" else "states"
        collate = PadBatch(key, tokenizer.pad_token_id or 0)
        return {
            "iterator_train": LengthGroupedLoader,
            "iterator_train__collate_fn": collate,
            "iterator_valid__collate_fn": collate,
        }

    def _callbacks(self, steps: int) -> list[tuple[str, Any]]:
        callbacks = super()._callbacks(steps)
        if self.scheduler is not None:
            callbacks.insert(0, ("schedule", lr_schedule(self.scheduler, steps, self.warmup)))
        if self.gradual_unfreeze is not None and self.trainable_groups_:
            callbacks.append(("gradual_unfreezing", GradualUnfreezing(self.gradual_unfreeze)))
        return callbacks

    def _param_groups(self) -> list[tuple[str, dict]]:
        """Layer-wise learning rates: ``lr * lr_decay**k`` for the layer ``k`` below the
        top one (the embeddings, when they train, below the bottom layer); the head at
        ``head_lr``."""
        groups = [("head.*", {"lr": self.head_lr or self.lr})]
        kind = self._input()
        if kind == "pooled":
            return groups
        _, encoder = shared_transformer(self.model)
        layers, _ = encoder_layers(encoder)
        n_trained = encoder.config.num_hidden_layers if kind == "ids" else int(self.unfreeze)
        # indices within the trainable copy, which holds the top n_trained layers only
        patterns = [f"transformer.{layers}.{i}.*" for i in reversed(range(n_trained))]
        if kind == "ids":
            patterns.append("transformer.embeddings.*")
        return groups + [
            (pattern, {"lr": self.lr * self.lr_decay**k}) for k, pattern in enumerate(patterns)
        ]

    # -- the network --------------------------------------------------------------------------

    def _input(self) -> str:
        """What the trainable part reads: "pooled" embeddings, token "states", token "ids"."""
        if self.unfreeze == "all":
            return "ids"
        return "pooled" if self.unfreeze == 0 else "states"

    def _module(self) -> TransformerTop:
        """The trainable layers (copies of the pretrained ones) and a new head."""
        _, encoder = shared_transformer(self.model)
        head = make_head(encoder.config.hidden_size, self._n_outputs(), self.head, self.dropout)
        kind = self._input()
        if kind == "pooled":
            return TransformerTop(None, "", head, self.pooling)
        n_frozen = None if kind == "ids" else self.featurizer_.layer_
        top, layers = transformer_top(encoder, n_frozen)
        return TransformerTop(top, layers, head, self.pooling, first_layer=n_frozen or 0)

    def _check_top(self, module: TransformerTop, texts: list[str]) -> None:
        """The trainable copy, fed the frozen states, must give the model's own output."""
        tokenizer, encoder = shared_transformer(self.model)
        ids = {"input_ids": self.featurizer_.tokenize(texts[:4])}
        batch = tokenizer.pad(ids, return_tensors="pt")
        device = next(encoder.parameters()).device
        ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        transformer = module.transformer.to(device).eval()
        with torch.inference_mode():
            expected = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            states = states_at(encoder, ids, mask, self.featurizer_.layer_)
            got = transformer(inputs_embeds=states, attention_mask=mask).last_hidden_state
        transformer.train()
        real = mask.bool()
        if not torch.allclose(got[real], expected[real], atol=1e-3):
            raise ValueError(
                f"{type(encoder).__name__} cannot be split below its top layers (its layers "
                "do not run on given hidden states as in the whole model); use "
                "unfreeze='all' or 0."
            )
