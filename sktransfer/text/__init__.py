"""Pretrained word vectors: a resolver, a tokenizer and the ``Word2VecEmbedder`` transformer.

Names load on first use: the tokenizer does not import gensim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "DEFAULT_VECTORS": "._vectors",
    "Word2VecEmbedder": "._embedder",
    "list_vectors": "._vectors",
    "load_vectors": "._vectors",
    "normalize_text": ".._inputs",
    "pickles_on_load": "._vectors",
    "tokenize": ".._inputs",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from .._inputs import normalize_text, tokenize  # noqa: F401
    from ._embedder import Word2VecEmbedder  # noqa: F401
    from ._vectors import (  # noqa: F401
        DEFAULT_VECTORS,
        list_vectors,
        load_vectors,
        pickles_on_load,
    )

__getattr__, __dir__ = attach(__name__, _LAZY)
