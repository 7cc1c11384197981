"""Pretrained word vectors: a resolver, a tokenizer and the ``Word2VecEmbedder`` transformer."""

from ._embedder import Word2VecEmbedder
from ._tokenize import tokenize
from ._vectors import DEFAULT_VECTORS, list_vectors, load_vectors

__all__ = ["DEFAULT_VECTORS", "Word2VecEmbedder", "list_vectors", "load_vectors", "tokenize"]
