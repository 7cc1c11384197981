"""Fingerprints of texts: a normalised form for exact copies; MinHash, word edits for near ones.

Shingling is scikit-learn's ``HashingVectorizer`` (character 5-grams of the normalised text,
hashed to 2**24 ids). MinHash signatures are then computed for all texts at once with numpy
(multiply-shift hashing of the shingle ids, one ``minimum.reduceat`` per permutation), which
is several times faster than building one ``datasketch.MinHash`` object per text
(``benchmarks/duplicates.py`` measures both).

Character 5-grams miss short texts with a word or two changed: one word replaced in an
8-word sentence leaves a Jaccard similarity of 0.5-0.7 (0.2-0.5 for two words), as low as
some distinct template messages reach. Such copies are found by their word edit distance
instead (:func:`word_edit_pairs`): candidates come from prefix filtering (Chaudhuri, Ganti
& Kaushik, ICDE 2006), and are verified with a Levenshtein distance over words.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

__all__ = [
    "MIN_EDIT_WORDS",
    "jaccard",
    "mask_digit_runs",
    "minhash_signatures",
    "normalize_text",
    "shingle_sets",
    "word_edit_pairs",
]

SHINGLE = 5
# shorter texts one word apart are often different messages ("call me" / "text me")
MIN_EDIT_WORDS = 8
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


def word_edit_pairs(texts: list[str], similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of texts with a word similarity of at least ``similarity``.

    The word similarity of two normalised texts is ``1 - d / max(len(a), len(b))`` for
    ``d`` the Levenshtein distance between their word sequences (a word substituted,
    inserted or deleted counts 1): at 0.75, texts of 8 words may differ by 2 words, of 20
    words by 5. Only pairs whose longer text has at least :data:`MIN_EDIT_WORDS` words are
    compared (the shorter one may have fewer, e.g. a copy with words deleted).

    Two texts within ``d`` edits share at least ``max(len) - d`` words (counted with
    repeats), so by the prefix-filtering principle their ``len - ceil(similarity * len) + 1``
    rarest words overlap: only texts sharing one of those rare words are compared.
    """
    words = [t.split() for t in texts]
    lengths = np.array([len(w) for w in words])
    # a text within ``similarity`` of one of ``MIN_EDIT_WORDS`` words has this many words
    rows = np.flatnonzero(lengths >= np.ceil(similarity * MIN_EDIT_WORDS - 1e-9))
    none = np.empty((0, 2), dtype=np.int64), np.empty(0)
    if len(rows) < 2:
        return none
    # each occurrence of a word is its own token: ("the", 0), ("the", 1), ...
    tokens: dict[tuple[str, int], int] = {}
    items = []
    for i in rows:
        seen: dict[str, int] = {}
        ids = []
        for word in words[i]:
            k = seen.get(word, 0)
            seen[word] = k + 1
            ids.append(tokens.setdefault((word, k), len(tokens)))
        items.append(ids)
    frequency = np.zeros(len(tokens), dtype=np.int64)
    for ids in items:
        frequency[ids] += 1
    rank = np.empty(len(tokens), dtype=np.int64)  # rarest token first, ties by id
    rank[np.lexsort((np.arange(len(tokens)), frequency))] = np.arange(len(tokens))
    owner, token = [], []
    for position, ids in enumerate(items):
        n = len(ids)
        prefix = n - int(np.ceil(similarity * n - 1e-9)) + 1
        rarest = np.sort(rank[ids])[:prefix]
        owner.append(np.full(len(rarest), position))
        token.append(rarest)
    owner, token = np.concatenate(owner), np.concatenate(token)
    candidates = _sharing_pairs(owner, token)
    first, second = rows[candidates[:, 0]], rows[candidates[:, 1]]
    longer = np.maximum(lengths[first], lengths[second])
    fits = (longer >= MIN_EDIT_WORDS) & (
        np.abs(lengths[first] - lengths[second]) <= (1 - similarity) * longer + 1e-9
    )
    found, scores = [], []
    for i, j, n in zip(first[fits], second[fits], longer[fits], strict=True):
        score = 1 - _levenshtein(words[i], words[j], int((1 - similarity) * n + 1e-9)) / n
        if score >= similarity - 1e-12:
            found.append((i, j))
            scores.append(score)
    if not found:
        return none
    return np.array(found, dtype=np.int64), np.array(scores)


def _sharing_pairs(owner: np.ndarray, token: np.ndarray) -> np.ndarray:
    """Unique pairs of owners (``i < j``) that hold a common token."""
    order = np.lexsort((owner, token))
    owner, token = owner[order], token[order]
    starts = np.flatnonzero(np.r_[True, token[1:] != token[:-1]])
    sizes = np.diff(np.r_[starts, len(token)])
    found = [np.empty((0, 2), dtype=np.int64)]
    for size in np.unique(sizes[sizes > 1]):
        members = owner[starts[sizes == size][:, None] + np.arange(size)]
        a, b = np.triu_indices(size, 1)
        found.append(np.stack([members[:, a].ravel(), members[:, b].ravel()], 1))
    pairs = np.sort(np.concatenate(found), axis=1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def _levenshtein(a: list[str], b: list[str], bound: int) -> int:
    """Word edit distance of ``a`` and ``b``, or ``bound + 1`` once it must exceed ``bound``."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) > bound:  # every later row is at least this far
            return bound + 1
        previous = current
    return previous[-1]
