"""Pretrained text features: word vectors (``Word2VecEmbedder``) and transformers
(``TransformerTextEmbedder``), their loaders and the tokenizer.

Names load on first use: the tokenizer does not import gensim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "DEFAULT_TRANSFORMER": "._transformer",
    "DEFAULT_VECTORS": "._vectors",
    "TransformerTextEmbedder": "._transformer",
    "Word2VecEmbedder": "._embedder",
    "list_vectors": "._vectors",
    "is_bundled_transformer": "._transformer",
    "load_transformer": "._transformer",
    "load_vectors": "._vectors",
    "normalize_text": ".._inputs",
    "pickles_on_load": "._vectors",
    "tokenize": ".._inputs",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from .._inputs import normalize_text, tokenize  # noqa: F401
    from ._embedder import Word2VecEmbedder  # noqa: F401
    from ._transformer import (  # noqa: F401
        DEFAULT_TRANSFORMER,
        TransformerTextEmbedder,
        is_bundled_transformer,
        load_transformer,
    )
    from ._vectors import (  # noqa: F401
        DEFAULT_VECTORS,
        list_vectors,
        load_vectors,
        pickles_on_load,
    )

__getattr__, __dir__ = attach(__name__, _LAZY)
