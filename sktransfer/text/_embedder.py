"""``Word2VecEmbedder``: pooled pretrained word vectors as an sklearn transformer."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from gensim.models import KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._inputs import as_text_list, tokenize_many
from .._progress import progress_bar
from ..exceptions import OutOfVocabularyError
from ._vectors import DEFAULT_VECTORS, load_vectors

__all__ = ["Word2VecEmbedder"]

logger = logging.getLogger(__name__)

_CHUNK = 4096  # documents tokenized and pooled at a time: bounds memory, drives the bar


@dataclass
class _Tokens:
    """The tokens with a vector in one chunk of documents, flattened in document order."""

    n_documents: int
    n_tokens: int  # all tokens, with or without a vector
    tokens: np.ndarray | None  # object array of str, for "tfidf" and "sif" only
    rows: np.ndarray  # row of each token's vector in ``table``
    document: np.ndarray  # document (within the chunk) of each token, ascending
    table: np.ndarray  # the vectors of the chunk's distinct tokens, float32


class Word2VecEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Pretrained word vectors pooled into one vector per text, as an sklearn transformer.

    Each text is lowercased, tokenized, looked up in the word vectors, and its token vectors
    are pooled. Tokens are mapped to vectors in bulk (one dictionary pass per chunk, one
    sparse product per chunk), several times faster than the usual per-word Python loop.

    Parameters
    ----------
    vectors : str, path or KeyedVectors, default="glove-wiki-gigaword-50"
        Anything :func:`~sktransfer.text.load_vectors` accepts: the bundled GloVe 6B 50-d
        (offline), a gensim-data name, a word2vec/GloVe/fastText file, or a gensim
        ``KeyedVectors`` object.
    pooling : {"mean", "max", "sum", "tfidf", "sif"}, default="mean"
        - ``"mean"``, ``"sum"``, ``"max"``: element-wise over the token vectors.
        - ``"tfidf"``: mean weighted by each word's inverse document frequency in the
          training texts, ``ln((1 + n) / (1 + df)) + 1``.
        - ``"sif"``: smooth inverse frequency (Arora et al., 2017): the mean of
          ``a / (a + p(w))``-weighted vectors, ``p(w)`` being the word's frequency in the
          training texts, minus the projection on the training embeddings' first singular
          vector.
    tokenizer : callable or None, default=None
        None uses :func:`~sktransfer.text.tokenize` (words, clitics such as ``"n't"``,
        numbers, punctuation). A callable maps one text to a list of tokens.
    lowercase : bool, default=True
        Lowercase before tokenizing; GloVe's vocabulary is lowercase.
    normalize : bool, default=False
        Scale each output row to unit L2 norm (rows of zeros stay zero).
    oov : {"ignore", "error"}, default="ignore"
        Tokens without a vector: "ignore" skips them, and a text with none left becomes a
        vector of zeros (counted in ``n_empty_documents_`` at fit); "error" raises
        :class:`~sktransfer.exceptions.OutOfVocabularyError` naming the first such text.
        fastText ``.bin`` vectors have no out-of-vocabulary tokens: they build a vector for
        any word from its character n-grams.
    sif_smoothing : float, default=1e-3
        The ``a`` of ``pooling="sif"``.
    progress : bool or "auto", default="auto"
        Show a tqdm progress bar; "auto" shows it when stderr is a terminal.

    Attributes
    ----------
    n_features_out_ : int
        Dimension of the word vectors, the width of the output.
    n_samples_fit_ : int
        Number of training texts.
    n_empty_documents_ : int
        Training texts without a single token that has a vector (their rows are zeros).
    oov_rate_ : float
        Fraction of the training tokens that are not in the vectors' vocabulary.
    vocabulary_ : dict of str to int
        For ``"tfidf"`` and ``"sif"``: the training tokens that have a vector, mapped to
        their index in ``idf_`` or ``word_probability_``.
    idf_ : ndarray of shape (n_words,)
        For ``"tfidf"``: inverse document frequencies. Words unseen in fit get
        ``ln(1 + n) + 1``, as if they occurred in no training text.
    word_probability_ : ndarray of shape (n_words,)
        For ``"sif"``: each word's share of the training tokens. Unseen words count as 0.
    common_component_ : ndarray of shape (n_features_out,)
        For ``"sif"``: the unit vector projected out of every embedding.

    See Also
    --------
    sktransfer.text.load_vectors : Resolve and inspect the word vectors.
    sklearn.feature_extraction.text.TfidfVectorizer : Sparse bag-of-words features.

    Notes
    -----
    The word vectors are not pickled: a fitted embedder stores their name or path and
    reloads them (memory-mapped, once per process), so it pickles to the size of its fitted
    statistics. A ``KeyedVectors`` object passed as ``vectors`` is pickled with the embedder.
    ``fit`` learns only from the texts it is given (idf, frequencies, the common component),
    so cross-validation is leakage-free. Texts are normalised before tokenizing
    (:func:`~sktransfer.text.normalize_text`: NFKC, zero-width characters and soft hyphens
    removed). Missing texts (None, any NaN, ``pd.NA``, ``pd.NaT``) embed as empty texts; any
    other non-string value raises a TypeError naming its index.

    Examples
    --------
    >>> from sktransfer.text import Word2VecEmbedder
    >>> embedder = Word2VecEmbedder(progress=False)
    >>> X = embedder.fit_transform(["The cat sat on the mat.", "Dogs bark!"])
    >>> X.shape
    (2, 50)
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['word2vecembedder0', 'word2vecembedder1']
    """

    _parameter_constraints: dict = {
        "vectors": "no_validation",  # load_vectors checks names, paths and objects
        "pooling": [StrOptions({"mean", "max", "sum", "tfidf", "sif"})],
        "tokenizer": [callable, None],
        "lowercase": ["boolean"],
        "normalize": ["boolean"],
        "oov": [StrOptions({"ignore", "error"})],
        "sif_smoothing": [Interval(Real, 0, None, closed="neither")],
        "progress": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        vectors: str | os.PathLike | KeyedVectors = DEFAULT_VECTORS,
        *,
        pooling: str = "mean",
        tokenizer: Callable[[str], list[str]] | None = None,
        lowercase: bool = True,
        normalize: bool = False,
        oov: str = "ignore",
        sif_smoothing: float = 1e-3,
        progress: bool | str = "auto",
    ):
        self.vectors = vectors
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.normalize = normalize
        self.oov = oov
        self.sif_smoothing = sif_smoothing
        self.progress = progress

    # -- sklearn API ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> Word2VecEmbedder:
        """Load the vectors and learn what the pooling needs from the training texts.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
        y : ignored

        Returns
        -------
        self : Word2VecEmbedder
        """
        texts = as_text_list(X)
        if not texts:
            raise ValueError("Word2VecEmbedder.fit needs at least one text; got none.")
        self._vectors = load_vectors(self.vectors)
        self.n_features_out_ = int(self._vectors.vector_size)
        n_tokens = n_known = n_empty = 0
        kept = []  # (start, chunk) for the poolings that learn from the tokens
        for start, chunk in self._chunks(texts, "fit"):
            n_tokens += chunk.n_tokens
            n_known += len(chunk.rows)
            n_empty += chunk.n_documents - len(np.unique(chunk.document))
            if chunk.tokens is not None:
                kept.append((start, chunk))
        self.n_samples_fit_ = len(texts)
        self.n_empty_documents_ = n_empty
        self.oov_rate_ = 1 - n_known / n_tokens if n_tokens else 0.0
        if kept:
            tokens = np.concatenate([chunk.tokens for _, chunk in kept])
            documents = np.concatenate([chunk.document + start for start, chunk in kept])
            self._fit_weights(tokens, documents, n_tokens)
        if self.pooling == "sif":  # the same chunks, now weighted: no second tokenization
            gram = np.zeros((self.n_features_out_,) * 2)
            for _, chunk in kept:
                pooled = self._pool(chunk).astype(np.float64)
                gram += pooled.T @ pooled
            self.common_component_ = np.linalg.eigh(gram)[1][:, -1].astype(np.float32)
        logger.info(
            "Fitted on %d texts: %.1f%% of tokens without a vector, %d texts without any.",
            len(texts),
            100 * self.oov_rate_,
            n_empty,
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str

        Returns
        -------
        embeddings : ndarray of shape (n_texts, n_features_out), dtype float32
        """
        check_is_fitted(self)
        texts = as_text_list(X)
        out = np.zeros((len(texts), self.n_features_out_), dtype=np.float32)
        for start, chunk in self._chunks(texts, "embed"):
            out[start : start + chunk.n_documents] = self._pool(chunk)
        if self.pooling == "sif":
            u = self.common_component_
            out -= np.outer(out @ u, u)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
        return out

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

    def __sklearn_clone__(self) -> Word2VecEmbedder:
        if isinstance(self.vectors, (str, os.PathLike)):
            return super().__sklearn_clone__()
        # A vectors object is only ever read: clones share it instead of deep-copying the
        # matrix, which GridSearchCV and cross_val_score would otherwise do for every fit.
        stand_in = copy.copy(self)
        stand_in.vectors = None
        new = super(Word2VecEmbedder, stand_in).__sklearn_clone__()
        new.vectors = self.vectors
        return new

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        state.pop("_vectors", None)  # reloaded from the spec: pickles without the matrix
        return state

    # -- internals --------------------------------------------------------------------------

    def _get_vectors(self) -> KeyedVectors:
        if getattr(self, "_vectors", None) is None:
            vectors = load_vectors(self.vectors)
            if vectors.vector_size != self.n_features_out_:  # e.g. a file replaced since fit
                raise ValueError(
                    f"The vectors {self.vectors!r} now have {vectors.vector_size} dimensions; "
                    f"this embedder was fitted with {self.n_features_out_}. Fit it again."
                )
            self._vectors = vectors
        return self._vectors

    def _chunks(self, texts: list[str], desc: str) -> Iterator[tuple[int, _Tokens]]:
        with progress_bar(self.progress, len(texts), unit="text", desc=desc) as bar:
            for start in range(0, len(texts), _CHUNK):
                chunk = texts[start : start + _CHUNK]
                yield start, self._lookup(chunk, start)
                bar.update(len(chunk))

    def _lookup(self, texts: list[str], start: int) -> _Tokens:
        """Tokenize and find every token's vector, without a Python call per token."""
        kv = self._get_vectors()
        flat, lengths = tokenize_many(texts, self.lowercase, self.tokenizer)
        ids = np.fromiter(map(kv.key_to_index.get, flat, repeat(-1)), np.intp, len(flat))
        document = np.repeat(np.arange(len(texts)), lengths)
        tokens = None
        if self.pooling in ("tfidf", "sif"):  # their weights depend on the token itself
            tokens = np.empty(len(flat), dtype=object)
            tokens[:] = flat
        unknown = ids < 0
        extra = np.empty((0, kv.vector_size), dtype=np.float32)
        if unknown.any():
            if isinstance(kv, FastTextKeyedVectors) and kv.bucket:
                # Subword vectors for words outside the vocabulary, once per distinct word.
                missing = [flat[i] for i in np.flatnonzero(unknown)]
                words, inverse = np.unique(np.array(missing, dtype=object), return_inverse=True)
                extra = np.stack([kv.get_vector(w) for w in words])
                ids[unknown] = len(kv.key_to_index) + inverse
            elif self.oov == "error":
                first = int(document[unknown][0])
                missing = [flat[i] for i in np.flatnonzero(unknown & (document == first))]
                n_documents = len(np.unique(document[unknown]))
                raise OutOfVocabularyError(start + first, list(dict.fromkeys(missing)), n_documents)
            else:
                known = ~unknown
                ids, document = ids[known], document[known]
                tokens = None if tokens is None else tokens[known]
        # The chunk's distinct vectors in one small C-ordered table: one gather from the
        # (possibly memory-mapped, possibly column-major) matrix instead of one per token.
        distinct, rows = np.unique(ids, return_inverse=True)
        in_vocab = distinct < len(kv.key_to_index)
        table = np.empty((len(distinct), kv.vector_size), dtype=np.float32)
        table[in_vocab] = kv.vectors[distinct[in_vocab]]
        table[~in_vocab] = extra[distinct[~in_vocab] - len(kv.key_to_index)]
        return _Tokens(len(texts), len(flat), tokens, rows, document, table)

    def _fit_weights(self, tokens: np.ndarray, documents: np.ndarray, n_tokens: int) -> None:
        """idf or word probabilities of the training tokens that have a vector."""
        counts = pd.Series(tokens, dtype=object).value_counts(sort=False)
        self.vocabulary_ = dict(zip(counts.index, range(len(counts)), strict=True))
        if self.pooling == "tfidf":
            n_texts = self.n_samples_fit_
            pairs = pd.DataFrame({"document": documents, "token": tokens}).drop_duplicates()
            df = pairs["token"].value_counts(sort=False).reindex(counts.index).to_numpy()
            self.idf_ = np.log((1 + n_texts) / (1 + df)) + 1
        else:
            self.word_probability_ = counts.to_numpy() / n_tokens

    def _token_weights(self, tokens: np.ndarray) -> np.ndarray:
        if self.pooling == "tfidf":
            # A word unseen in fit is in no training text: df = 0.
            weights = np.append(self.idf_, np.log(1 + self.n_samples_fit_) + 1)
        else:
            a = self.sif_smoothing
            weights = a / (a + np.append(self.word_probability_, 0.0))
        index = np.fromiter(
            map(self.vocabulary_.get, tokens, repeat(-1)), np.intp, count=len(tokens)
        )
        return weights[index].astype(np.float32)  # index -1: the appended unseen weight

    def _pool(self, chunk: _Tokens) -> np.ndarray:
        n, dim = chunk.n_documents, chunk.table.shape[1]
        if self.pooling == "max":
            return self._max_pool(chunk)
        if self.pooling in ("tfidf", "sif"):
            weights = self._token_weights(chunk.tokens)
        else:
            weights = np.ones(len(chunk.rows), dtype=np.float32)
        # Pooling as one product of a sparse (texts x distinct tokens) weight matrix, summed
        # in float64: float32 sums drift by 1e-3 over the 200,000 tokens of a 1 MB text.
        counts = np.bincount(chunk.document, minlength=n)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        matrix = sp.csr_matrix(
            (weights.astype(np.float64), chunk.rows, indptr), shape=(n, len(chunk.table))
        )
        pooled = np.asarray(matrix @ chunk.table.astype(np.float64), dtype=np.float32)
        pooled = pooled.reshape(n, dim)
        if self.pooling == "sum":
            return pooled
        if self.pooling == "tfidf":
            denominator = np.bincount(chunk.document, weights=weights, minlength=n)
        else:  # mean, and SIF's 1/|s| normalisation
            denominator = counts
        np.divide(pooled, denominator[:, None], out=pooled, where=denominator[:, None] > 0)
        return pooled

    @staticmethod
    def _max_pool(chunk: _Tokens) -> np.ndarray:
        pooled = np.zeros((chunk.n_documents, chunk.table.shape[1]), dtype=np.float32)
        if not len(chunk.rows):
            return pooled
        starts = np.flatnonzero(np.r_[True, chunk.document[1:] != chunk.document[:-1]])
        # One dimension at a time: memory stays at one float per token, not one vector.
        columns = np.ascontiguousarray(chunk.table.T)
        for j, column in enumerate(columns):
            pooled[chunk.document[starts], j] = np.maximum.reduceat(column[chunk.rows], starts)
        return pooled
