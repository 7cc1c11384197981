"""Word2VecEmbedder throughput and vector loading, against the code users write by hand.

All figures come from one run on one machine, as medians of ``repeats`` timings:

- naive loop: per text, ``split()``, ``w in kv``, ``kv[w]``, ``np.mean`` (the usual snippet),
  on the vectors in memory as gensim loads them;
- gensim: per text, the default tokenizer and ``KeyedVectors.get_mean_vector``;
- zeugma (peer): ``EmbeddingTransformer(kv).transform`` (``split()``, average), when installed;
  embetter 0.9 has no word-vector encoder (its text encoders are sentence-transformers,
  model2vec and keras-nlp models), so it has no figure here;
- embedder: ``Word2VecEmbedder.transform`` (mean pooling, default tokenizer) on the bundled
  memory-mapped vectors, and on the same in-memory vectors as the loops;
- loading: ``load_vectors()`` of the bundled GloVe 6B 50-d against gensim's
  ``KeyedVectors.load_word2vec_format`` of the same 400k vectors written as word2vec text.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from _timing import median_seconds

from sktransfer.datasets import fetch_sms_spam

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def naive_mean(kv, texts: list[str]) -> np.ndarray:
    """The loop most tutorials show."""
    rows = []
    for text in texts:
        vectors = [kv[w] for w in text.lower().split() if w in kv]
        rows.append(np.mean(vectors, axis=0) if vectors else np.zeros(kv.vector_size))
    return np.array(rows)


def gensim_mean(kv, texts: list[str]) -> np.ndarray:
    from sktransfer.text import tokenize

    rows = []
    for text in texts:
        tokens = [t for t in tokenize(text.lower()) if t in kv.key_to_index]
        rows.append(kv.get_mean_vector(tokens) if tokens else np.zeros(kv.vector_size))
    return np.array(rows)


def run(copies: int = 4, repeats: int = 3, load_repeats: int = 1) -> dict:
    from gensim.models import KeyedVectors

    from sktransfer.text import Word2VecEmbedder, load_vectors
    from sktransfer.text._vectors import _load_named

    sms = fetch_sms_spam(DATA)
    texts = sms["text"].tolist() * copies
    kv = load_vectors()
    # The hand-written loops get the vectors as gensim's loaders give them: an in-memory,
    # row-major array (item access on the bundled memory map would slow them down).
    in_memory = KeyedVectors(kv.vector_size)
    in_memory.add_vectors(kv.index_to_key, np.ascontiguousarray(kv.vectors))
    embedder = Word2VecEmbedder(progress=False).fit(texts)
    embedder.transform(texts)  # page the vectors in, like every later call
    embedder_in_memory = Word2VecEmbedder(in_memory, progress=False).fit(texts)
    seconds = {
        "naive_loop": median_seconds(lambda: naive_mean(in_memory, texts), repeats),
        "gensim_get_mean_vector": median_seconds(lambda: gensim_mean(in_memory, texts), repeats),
        "word2vec_embedder": median_seconds(lambda: embedder.transform(texts), repeats),
        "word2vec_embedder_in_memory_vectors": median_seconds(
            lambda: embedder_in_memory.transform(texts), repeats
        ),
    }
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # zeugma's package imports Keras
    try:
        from zeugma.embeddings import EmbeddingTransformer
    except ImportError as error:  # the bench extra installs it; name what is missing
        peers = {"zeugma": f"not installed: {error}"}
    else:
        zeugma = EmbeddingTransformer(in_memory).fit(texts)
        seconds["zeugma_embedding_transformer"] = median_seconds(
            lambda: zeugma.transform(texts), repeats
        )
        peers = {}
    docs_per_s = {k: round(len(texts) / v) for k, v in seconds.items()}

    def load_bundled():
        _load_named.cache_clear()
        load_vectors()

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "glove.6B.50d.w2v.txt")
        kv.save_word2vec_format(path, binary=False)
        load_s = {
            "load_vectors_bundled": median_seconds(load_bundled, repeats),
            "gensim_load_word2vec_format_text": median_seconds(
                lambda: KeyedVectors.load_word2vec_format(path, binary=False), load_repeats
            ),
        }
    return {
        "texts": len(texts),
        "words_per_text": round(float(sms["text"].str.split().str.len().mean()), 1),
        "docs_per_s": docs_per_s,
        "load_seconds": {k: round(v, 3) for k, v in load_s.items()},
        "peers_missing": peers,
        "ratios": {
            **{
                f"embedder_vs_{name}": round(docs_per_s["word2vec_embedder"] / docs_per_s[key], 2)
                for name, key in [
                    ("naive", "naive_loop"),
                    ("gensim", "gensim_get_mean_vector"),
                    ("zeugma", "zeugma_embedding_transformer"),  # when installed
                ]
                if key in docs_per_s
            },
            "loading_vs_word2vec_text": round(
                load_s["gensim_load_word2vec_format_text"] / load_s["load_vectors_bundled"], 1
            ),
        },
        "targets": {
            "embedder_vs_naive": ">= 3",
            "embedder_vs_gensim": "",
            "embedder_vs_zeugma": "",
            "loading_vs_word2vec_text": ">= 20",
        },
    }
