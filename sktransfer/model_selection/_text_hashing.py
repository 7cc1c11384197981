"""Fingerprints of texts: a normalised form for exact copies, MinHash for near copies.

Shingling is scikit-learn's ``HashingVectorizer`` (character 5-grams of the normalised text,
hashed to 2**24 ids). MinHash signatures are then computed for all texts at once with numpy
(multiply-shift hashing of the shingle ids, one ``minimum.reduceat`` per permutation), which
is several times faster than building one ``datasketch.MinHash`` object per text
(``benchmarks/duplicates.py`` measures both).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

__all__ = ["jaccard", "mask_digit_runs", "minhash_signatures", "normalize_text", "shingle_sets"]

SHINGLE = 5
_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def normalize_text(text: str, *, mask_digits: bool = False) -> str:
    """Case-folded NFKC text with punctuation and runs of whitespace turned into one space.

    With ``mask_digits``, every run of digits becomes ``0``: messages made from one template
    with other phone numbers or amounts normalise to the same string.
    """
    text = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return mask_digit_runs(text) if mask_digits else text


def mask_digit_runs(normalized: str) -> str:
    """Every run of digits of an already normalised text replaced by ``0``."""
    return _DIGITS.sub("0", normalized)


def shingle_sets(texts: list[str]) -> sp.csr_matrix:
    """Binary CSR matrix: row ``i`` holds the hashed character 5-grams of ``texts[i]``."""
    vectorizer = HashingVectorizer(
        analyzer="char",
        ngram_range=(SHINGLE, SHINGLE),
        lowercase=False,
        n_features=2**24,
        alternate_sign=False,
        norm=None,
        binary=True,
        dtype=np.float32,
    )
    shingles = vectorizer.transform(texts).tocsr()
    shingles.sum_duplicates()
    return shingles


def minhash_signatures(
    shingles: sp.csr_matrix, n_permutations: int = 128, seed: int = 0
) -> np.ndarray:
    """``(n_rows, n_permutations)`` MinHash signatures; rows must have at least one shingle.

    Permutation ``k`` hashes a shingle id ``x`` to ``(a_k * x + b_k) mod 2**64 >> 32`` with
    ``a_k`` odd (Dietzfelbinger's multiply-shift family); the signature keeps each row's
    minimum. Two rows agree at a position with probability equal to their Jaccard similarity.
    """
    lengths = np.diff(shingles.indptr)
    if (lengths == 0).any():
        raise ValueError("every row needs at least one shingle")
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, n_permutations, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, n_permutations, dtype=np.uint64)
    ids = shingles.indices.astype(np.uint64)
    starts = shingles.indptr[:-1]
    signatures = np.empty((shingles.shape[0], n_permutations), dtype=np.uint32)
    with np.errstate(over="ignore"):  # the hash family is defined modulo 2**64
        for k in range(n_permutations):
            hashed = ((a[k] * ids + b[k]) >> np.uint64(32)).astype(np.uint32)
            signatures[:, k] = np.minimum.reduceat(hashed, starts)
    return signatures


def jaccard(shingles: sp.csr_matrix, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of rows ``first[i]`` and ``second[i]``."""
    sizes = np.diff(shingles.indptr)
    common = np.asarray(shingles[first].multiply(shingles[second]).sum(1)).ravel()
    return common / (sizes[first] + sizes[second] - common)
