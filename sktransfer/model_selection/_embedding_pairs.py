"""Near copies among embeddings: every pair above a cosine threshold, found block by block."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..exceptions import SktransferWarning

__all__ = ["components", "embedding_pairs"]

_GIANT_GROUP = 20  # a group this large, and over a fifth of the samples, is a collapse
_GIANT_FRACTION = 0.2
_BLOCK = 1024  # rows per matrix product: 1024 x 100k float32 similarities is 400 MB


def embedding_pairs(
    features: np.ndarray, exact: np.ndarray, similarity: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of rows with cosine similarity >= ``similarity``.

    ``exact`` holds the exact-copy ids of the rows (exact copies are grouped anyway). When
    the pairs would chain more than a fifth of the samples (and more than 20) into one
    group, the embedding cannot tell copies from look-alikes in this collection (small gray
    digits, say): no pairs are returned, with a :class:`SktransferWarning`.
    """
    features = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.maximum(norms, np.finfo(np.float32).tiny)
    n = len(unit)
    found, scores = [np.empty((0, 2), dtype=np.int64)], [np.empty(0)]
    for start in range(0, n, _BLOCK):
        # Each pair once (i < j): a block of rows against the rows from its own first on,
        # thresholded before anything else touches the (mostly dissimilar) products.
        block = unit[start : start + _BLOCK] @ unit[start:].T
        i, j = np.nonzero(block >= similarity - 1e-6)
        score = block[i, j]
        i, j = i + start, j + start
        keep = (i < j) & (exact[i] != exact[j])  # not itself, not its exact copies
        found.append(np.stack([i[keep], j[keep]], 1).astype(np.int64))
        scores.append(score[keep].astype(np.float64))
    pairs, scores = np.concatenate(found), np.minimum(np.concatenate(scores), 1.0)
    largest = np.bincount(components(pairs, n)).max()
    if largest > max(_GIANT_GROUP, _GIANT_FRACTION * n):
        warnings.warn(
            f"The embeddings do not tell copies from look-alikes here: pairs above cosine "
            f"similarity {similarity} chain {largest} of {n} samples into one group, so "
            "none of them is used. Pass method='hash' to skip the embedding, or an "
            "embedder (and embedding_similarity) suited to these images.",
            SktransferWarning,
            stacklevel=4,
        )
        return found[0], np.empty(0)
    return pairs, scores


def components(pairs: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes joined by the edges ``pairs``."""
    edges = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(edges, directed=False)[1]
