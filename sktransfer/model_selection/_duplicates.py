"""Exact and near duplicates among images or texts, found without comparing all pairs."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from .._inputs import (
    describe_sample,
    load_failure,
    n_workers,
    open_rgb,
    samples_and_kind,
)
from .._progress import progress_bar
from ._embedding_pairs import components, embedding_pairs
from ._image_hashing import CODE_BITS, PROBES, image_fingerprint, thumbnail
from ._text_hashing import (
    jaccard,
    mask_digit_runs,
    minhash_signatures,
    normalize_text,
    shingle_sets,
    word_edit_pairs,
)

__all__ = [
    "DEFAULT_EMBEDDING_SIMILARITY",
    "DEFAULT_SIMILARITY",
    "DEFAULT_WORD_SIMILARITY",
    "find_duplicates",
]

logger = logging.getLogger("sktransfer")

DEFAULT_SIMILARITY = {"image": 0.88, "text": 0.8}
#: Texts of 8 or more words: 1 - word edit distance / words (0.75: 2 words of 8, 5 of 20).
DEFAULT_WORD_SIMILARITY = 0.75
#: Cosine similarity of embeddings, calibrated in ``benchmarks/duplicates.py``. Images
#: (pretrained image features, the pets photos): a crop of 8% per side stays above 0.85,
#: distinct photos below. Texts (all-MiniLM-L6-v2): 0.9 merges 0.05% of distinct Subj
#: sentences and 1.2% of CR's short product reviews, many of which say the same thing.
DEFAULT_EMBEDDING_SIMILARITY = {"image": 0.85, "text": 0.9}
_LSH_RECALL = 0.995  # chance that a pair exactly at the threshold becomes a candidate
_IMAGE_TABLES = 40  # bit-sampling hash tables over the 256-bit image codes
_TEXT_PERMUTATIONS = 128
# Thumbnails: an image at most this many pixels on its short side is also compared with
# every larger image scaled down to its size; it matches the closest one when their
# centred pixels have cosine similarity >= _THUMBNAIL_SIMILARITY and the closest is at
# most half as far (1 - cosine) as the second closest. On MNIST shrunk to 8 px
# (benchmarks/duplicates.py): all bicubic or Lanczos copies, 1-2% of unrelated 8-px digits.
_THUMBNAIL_SIDE = 16
_THUMBNAIL_SIMILARITY = 0.97
_THUMBNAIL_MARGIN = 0.5


@dataclass(frozen=True)
class Fingerprints:
    """What the duplicate search knows about each sample.

    ``exact[i]`` and ``code[i]`` are ids shared by exact copies and by samples with the
    same near-duplicate code (-1: none, for an empty text or a flat image); ``pairs`` lists
    near-duplicate pairs of code ids with their ``similarity`` (the hash method);
    ``embedding_pairs`` lists pairs of sample positions whose embeddings are within the
    threshold, with their cosine ``embedding_similarity``.
    """

    kind: str
    exact: np.ndarray
    code: np.ndarray
    pairs: np.ndarray
    similarity: np.ndarray
    descriptions: list[str]
    embedding_pairs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    embedding_similarity: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __len__(self) -> int:
        return len(self.exact)

    def groups(self, *, near: bool = True) -> np.ndarray:
        """Group labels: copies share a label (0, 1, ... in order of first appearance)."""
        if not len(self):
            return np.empty(0, dtype=np.int64)
        n_codes = int(self.code.max()) + 1
        if not near:
            return merge_labelings(self.exact)
        labelings = [self.exact]
        if n_codes:
            labelings.append(components(self.pairs, n_codes)[np.maximum(self.code, 0)])
            labelings[-1][self.code < 0] = -1
        if len(self.embedding_pairs):
            labelings.append(components(self.embedding_pairs, len(self)))
        return merge_labelings(*labelings)


#: Constraints (sklearn's ``validate_params``) of the duplicate-finding options, which every
#: public function that finds duplicates shares.
DUPLICATE_OPTIONS = {
    "kind": [StrOptions({"auto", "image", "text"})],
    "method": [StrOptions({"auto", "hash", "embedding", "both"})],
    "similarity": [Interval(Real, 0, 1, closed="right"), None],
    "word_similarity": [Interval(Real, 0, 1, closed="right")],
    "embedding_similarity": [Interval(Real, -1, 1, closed="right"), None],
    "embedder": [HasMethods(["fit", "transform"]), None],
    "mask_digits": ["boolean"],
}


def duplicate_options(values: dict[str, Any]) -> dict[str, Any]:
    """The duplicate-finding options among a function's ``locals()``, to forward."""
    return {name: values[name] for name in DUPLICATE_OPTIONS}


@validate_params(
    {
        "X": "no_validation",  # as_sample_list and as_text_list explain what they refuse
        "near": ["boolean"],
        "n_jobs": [Integral, None],
        "progress": ["boolean", StrOptions({"auto"})],
        **DUPLICATE_OPTIONS,
    },
    prefer_skip_nested_validation=True,
)
def find_duplicates(
    X: Any,
    *,
    kind: Literal["auto", "image", "text"] = "auto",
    method: Literal["auto", "hash", "embedding", "both"] = "auto",
    near: bool = True,
    similarity: float | None = None,
    word_similarity: float = DEFAULT_WORD_SIMILARITY,
    embedding_similarity: float | None = None,
    embedder: Any = None,
    mask_digits: bool = True,
    n_jobs: int | None = None,
    progress: bool | str = "auto",
) -> np.ndarray:
    """Group labels that put exact and near duplicates together.

    Parameters
    ----------
    X : collection of images or texts
        Image paths, arrays or PIL images (as :class:`~sktransfer.PretrainedImageFeaturizer`
        accepts them), or texts (a list, 1-D array, Series or one-column DataFrame).
    kind : {"auto", "image", "text"}, default="auto"
        "auto" reads arrays, PIL images and strings naming existing files as images, and
        other strings as texts.
    method : {"auto", "hash", "embedding", "both"}, default="auto"
        How near duplicates are found. "hash": perceptual codes of images (with probes for
        mirror images and turns of up to 5 degrees), character 5-grams and word edits of
        texts. "embedding": cosine similarity of embeddings (pretrained image features,
        which survive the crops, and the turns of photos, that move a perceptual code;
        sentence embeddings of texts, which also match reworded copies). "both": a pair
        found by either. "auto": "both" for images, "hash" for texts (whose hash already
        finds case, punctuation and word edits, without running a transformer). Exact
        copies are always found.
    near : bool, default=True
        Also merge near duplicates; False merges exact copies only.
    similarity : float in (0, 1], default=None
        Hash threshold for near duplicates. Images: the fraction of the 256 perceptual-code
        bits that agree (default 0.88: at most 30 bits differ). Texts: the Jaccard
        similarity of character 5-gram sets (default 0.8).
    word_similarity : float in (0, 1], default=0.75
        Texts of 8 or more words: near duplicates when ``1 - d / n`` reaches it, for ``d``
        the word edit distance (words substituted, inserted or deleted) and ``n`` the
        longer text's number of words. 0.75 lets 8 words differ by 2, 20 words by 5.
    embedding_similarity : float in (-1, 1], default=None
        Methods "embedding" and "both": cosine similarity of the embeddings above which two
        samples are near copies. None: 0.85 for images, 0.9 for texts.
    embedder : transformer or None, default=None
        Computes the embeddings (a clone of it is fitted on ``X``); None uses
        ``PretrainedImageFeaturizer()`` for images and ``TransformerTextEmbedder()`` for
        texts. Pass the featurizer of your pipeline, with its ``cache=`` folder, and the
        features are computed once for both. Texts reach it normalised (case folded,
        punctuation and whitespace collapsed, digits masked with ``mask_digits``), each
        distinct one once.
    mask_digits : bool, default=True
        Texts: compare near duplicates with every run of digits replaced by ``0``, so that
        messages made from one template with other numbers group together.
    n_jobs : int or None, default=None
        Threads decoding images; None uses the number of CPUs (at most 8), -1 all.
    progress : bool or "auto", default="auto"
        Progress bar while images are decoded ("auto": when stderr is a terminal).

    Returns
    -------
    groups : ndarray of shape (n_samples,)
        Integer labels, numbered by first appearance. Samples with equal labels are copies
        of each other, directly or through a chain of near duplicates.

    Notes
    -----
    Images are exact copies when their decoded pixels are equal (a PNG re-saved from a JPEG's
    pixels matches; file bytes do not matter). Near copies have perceptual codes (a pHash
    taken in a frame fixed by the image's own intensity moments, which makes it robust to
    resizing, re-compression, small crops and brightness changes) within the threshold.
    Each image also has probe codes: its code mirrored left to right, and its frame turned
    by +-2.5 and +-5 degrees; a probe within three quarters of the threshold of another
    image's code is a match too (the tighter bound keeps the extra chances from merging
    look-alikes; see ``benchmarks/RESULTS.md`` for what it finds and merges on MNIST).
    An image of at most 16 pixels on its short side is too small for a code: it is also
    compared, as a thumbnail, with every larger image scaled down to its size (bicubic),
    and matches the closest when their centred pixels have a cosine similarity of at
    least 0.97 and the closest is at most half as far as the next (on MNIST, every 8-px
    bicubic, Lanczos or bilinear shrink finds its digit, a box-filtered one 6 times in 10,
    and 1-4% of shrinks of digits not in the collection join a look-alike).
    Texts are exact copies when they are equal after Unicode NFKC, case folding, and
    collapsing punctuation and whitespace. Near copies have a Jaccard similarity of their
    5-gram sets at or above the threshold.

    Texts of 8 or more words are also near copies within a few word edits
    (``word_similarity``), which catches a word or two replaced in a short sentence.
    Sentence embeddings (methods "embedding" and "both" for texts) also match copies with
    their words reordered, which the 5-grams and word edits miss; they find fewer random
    word substitutions and merge more distinct short texts that say the same thing (see
    ``embedding_similarity``), so "auto" leaves them out for texts.

    Candidates come from locality-sensitive hashing (bit sampling for image codes, MinHash
    bands for texts) tuned so that a pair exactly at the threshold is found with
    probability >= 0.995, and from prefix filtering for word edits; all are then verified
    exactly: the work grows with the number of similar pairs, not with all n**2 pairs.
    Embeddings are compared exactly, in blocks of float32 matrix products (about 1 s for
    10,000 images once their features are computed). Empty texts are never merged; flat
    (single-colour) images only with their exact copies.

    Pretrained features tell copies apart only where distinct images differ in them:
    small gray digits, for instance, mostly lie within 0.85 of another digit. When the
    embedding pairs would chain more than a fifth of the images (and more than 20) into
    one group, they are dropped with a :class:`~sktransfer.exceptions.SktransferWarning`
    and the hash alone decides.

    Examples
    --------
    >>> from sktransfer.model_selection import find_duplicates
    >>> find_duplicates(["Call 0800 123 now!", "call 0900 555 NOW", "See you at 6"])
    array([0, 0, 1])
    """
    return fingerprint(
        X,
        kind=kind,
        method=method,
        near=near,
        similarity=similarity,
        word_similarity=word_similarity,
        embedding_similarity=embedding_similarity,
        embedder=embedder,
        mask_digits=mask_digits,
        n_jobs=n_jobs,
        progress=progress,
    ).groups(near=near)


def fingerprint(
    X: Any,
    *,
    kind: str = "auto",
    method: str = "auto",
    near: bool = True,
    similarity: float | None = None,
    word_similarity: float = DEFAULT_WORD_SIMILARITY,
    embedding_similarity: float | None = None,
    embedder: Any = None,
    mask_digits: bool = True,
    n_jobs: int | None = None,
    progress: bool | str = "auto",
) -> Fingerprints:
    """Exact ids, near-duplicate codes and verified near pairs of every sample in ``X``."""
    samples, kind = samples_and_kind(X, kind)
    if method == "auto":
        method = "both" if kind == "image" else "hash"
    if similarity is None:
        similarity = DEFAULT_SIMILARITY[kind]
    if embedding_similarity is None:
        embedding_similarity = DEFAULT_EMBEDDING_SIMILARITY[kind]
    if not samples:
        none = np.empty(0, dtype=np.int64)
        return Fingerprints(kind, none, none, np.empty((0, 2), dtype=np.int64), np.empty(0), [])
    hashed = near and method != "embedding"
    if kind == "text":
        found = _text_fingerprints(samples, hashed, similarity, word_similarity, mask_digits)
        # each distinct (normalised, masked) text embeds once
        codes, rows = np.unique(found.code, return_index=True)
        rows = rows[codes >= 0]
        inputs = [_embedding_text(samples[i], mask_digits) for i in rows]
    else:
        found = _image_fingerprints(samples, hashed, similarity, n_jobs, progress)
        rows = np.flatnonzero(found.code >= 0)  # flat images merge only with their exact copies
        inputs = [samples[i] for i in rows]
        if method == "embedding":  # equal perceptual codes are a hash match
            found = replace(found, code=np.full(len(found), -1))
    if near and method != "hash" and len(rows) > 1:
        if embedder is None:
            embedder = _default_embedder(kind, n_jobs, progress)
        features = clone(embedder).fit_transform(inputs)
        pairs, sims = embedding_pairs(features, found.exact[rows], embedding_similarity)
        found = replace(found, embedding_pairs=rows[pairs], embedding_similarity=sims)
    return found


def _default_embedder(kind: str, n_jobs: int | None, progress: bool | str) -> Any:
    if kind == "text":
        from ..text import TransformerTextEmbedder

        return TransformerTextEmbedder(progress=progress)
    from ..image import PretrainedImageFeaturizer

    return PretrainedImageFeaturizer(n_jobs=n_jobs, progress=progress)


def _embedding_text(text: str, mask_digits: bool) -> str:
    normalized = normalize_text(text)
    return mask_digit_runs(normalized) if mask_digits else normalized


def merge_labelings(*labelings: Any) -> np.ndarray:
    """Labels of the connected components when samples sharing any label are joined.

    Each labeling is a sequence of hashable labels, one per sample; a label of -1 in an
    integer labeling joins nothing. The result is numbered by first appearance.
    """
    n = len(labelings[0])
    rows, cols, offset = [], [], n
    for labeling in labelings:
        if len(labeling) != n:
            raise ValueError(f"Found groups of length {len(labeling)} for {n} samples.")
        values, ids = np.unique(np.asarray(labeling, dtype=object).astype(str), return_inverse=True)
        keep = np.asarray(labeling, dtype=object) != -1
        rows.append(np.flatnonzero(keep))
        cols.append(offset + ids[keep])
        offset += len(values)
    component = components(np.stack([np.concatenate(rows), np.concatenate(cols)], 1), offset)
    _, first, dense = np.unique(component[:n], return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[dense]


def _describe(sample: Any, kind: str) -> str:
    if kind == "text":
        return sample if len(sample) <= 80 else sample[:77] + "..."
    if isinstance(sample, (str, os.PathLike)):
        return os.fspath(sample)
    return describe_sample(sample)


# -- images -----------------------------------------------------------------------------


def _image_fingerprints(samples, near, similarity, n_jobs, progress) -> Fingerprints:
    from ..exceptions import ImageLoadError

    def one(sample):
        try:
            image = open_rgb(sample)
            return (*image_fingerprint(image), image.size), None
        except Exception as exc:  # reported below with the sample's index and path
            return None, exc

    workers = n_workers(n_jobs)
    results = []
    with (
        ThreadPoolExecutor(workers) as pool,
        progress_bar(progress, len(samples), unit="img", desc="fingerprint") as bar,
    ):
        for result in pool.map(one, samples):
            results.append(result)
            bar.update()
    failures = [load_failure(i, samples[i], err) for i, (_, err) in enumerate(results) if err]
    if failures:
        raise ImageLoadError(failures)
    digests = [fp[0] for fp, _ in results]
    _, exact = np.unique(np.array(digests, dtype=object).astype(bytes), return_inverse=True)
    has_code = np.array([fp[1] is not None for fp, _ in results])
    code = np.full(len(samples), -1)
    pairs, sims = np.empty((0, 2), dtype=np.int64), np.empty(0)
    if has_code.any():
        codes = np.array([fp[1] for fp, _ in results if fp[1] is not None])
        packed = np.packbits(codes[:, 0], axis=1)
        _, first, code[has_code] = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        if near:  # the probes of a code are those of its first image
            sizes = np.array([fp[2] for fp, _ in results])
            small, large, cosine = _thumbnail_pairs(samples, sizes, has_code, workers)
            pairs, sims = _union_pairs(
                _near_codes(codes[first], similarity),
                (np.sort(np.stack([code[small], code[large]], 1), axis=1), cosine),
            )
            distinct = pairs[:, 0] != pairs[:, 1]
            pairs, sims = pairs[distinct], sims[distinct]
    return Fingerprints("image", exact, code, pairs, sims, [_describe(s, "image") for s in samples])


def _thumbnail_pairs(samples, sizes, has_code, workers) -> tuple[np.ndarray, ...]:
    """Positions ``(small, large)`` of thumbnails and the larger image each one shrinks, and
    the cosine similarity of their pixels at the thumbnail's size."""
    found_small, found_large = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    found_cosine = [np.empty(0)]
    small = np.flatnonzero(has_code & (sizes.min(1) <= _THUMBNAIL_SIDE))
    with ThreadPoolExecutor(workers) as pool:
        for size in np.unique(sizes[small], axis=0):
            members = small[(sizes[small] == size).all(1)]
            larger = np.flatnonzero(has_code & (sizes > size).all(1))
            if not len(larger):
                continue
            shape = (int(size[0]), int(size[1]))

            def shrunk(i, shape=shape):
                return thumbnail(open_rgb(samples[i]), shape)

            similarity = (
                np.stack(list(pool.map(shrunk, members)))
                @ np.stack(list(pool.map(shrunk, larger))).T
            )
            order = np.argsort(-similarity, axis=1)[:, :2]
            best = similarity[np.arange(len(members)), order[:, 0]]
            second = (
                similarity[np.arange(len(members)), order[:, 1]]
                if len(larger) > 1
                else np.full(len(members), -1.0)
            )
            match = (best >= _THUMBNAIL_SIMILARITY) & (1 - best <= _THUMBNAIL_MARGIN * (1 - second))
            found_small.append(members[match])
            found_large.append(larger[order[match, 0]])
            found_cosine.append(best[match].astype(np.float64))
    return tuple(np.concatenate(found) for found in (found_small, found_large, found_cosine))


def _near_codes(codes: np.ndarray, similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of distinct codes within the threshold, directly or through a probe.

    ``codes`` has shape ``(n, 1 + PROBES, CODE_BITS)``: each code, then its probes (mirror
    image, turns). Two codes are near when at least ``similarity`` of their bits agree, or
    when one's probe agrees with the other's code on a quarter fewer differing bits: each
    probe is one more chance to meet a look-alike (on MNIST, the probes at the full
    threshold would merge 1.9% of distinct digits instead of 0.4%).
    """
    max_distance = int(np.floor((1 - similarity) * CODE_BITS + 1e-9))
    probe_distance = (3 * max_distance) // 4
    n = len(codes)
    rows = codes.reshape(n * (1 + PROBES), CODE_BITS)  # code k's rows: k * (1 + PROBES) + ...
    owner, probe = np.divmod(np.arange(len(rows)), 1 + PROBES)
    agree = 1 - max_distance / CODE_BITS
    bits = max(
        (k for k in range(1, 33) if 1 - (1 - agree**k) ** _IMAGE_TABLES >= _LSH_RECALL),
        default=1,
    )
    rng = np.random.default_rng(0)
    weights = np.left_shift(1, np.arange(bits, dtype=np.int64))
    keys = np.stack(
        [
            rows[:, rng.choice(CODE_BITS, bits, replace=False)].astype(np.int64) @ weights
            for _ in range(_IMAGE_TABLES)
        ],
        axis=1,
    )
    candidates = _bucket_pairs(keys, owner)
    is_code = probe[candidates] == 0  # probes are matched against codes, not each other
    candidates = candidates[is_code.any(1)]
    words = np.packbits(rows, axis=1).view(np.uint64)
    distance = np.bitwise_count(words[candidates[:, 0]] ^ words[candidates[:, 1]]).sum(1)
    both_codes = (probe[candidates] == 0).all(1)
    close = distance <= np.where(both_codes, max_distance, probe_distance)
    pairs = np.sort(owner[candidates[close]], axis=1)
    return _union_pairs((pairs, 1 - distance[close] / CODE_BITS))


# -- texts ------------------------------------------------------------------------------


def _text_fingerprints(texts, near, similarity, word_similarity, mask_digits) -> Fingerprints:
    normalized = [normalize_text(t) for t in texts]
    # masking works on the normalised text: no second NFKC/casefold pass per text
    masked = [mask_digit_runs(t) for t in normalized] if mask_digits else normalized
    exact = _ids(normalized)
    code = _ids(masked)
    pairs, sims = np.empty((0, 2), dtype=np.int64), np.empty(0)
    if near and code.max() >= 0:
        unique = [""] * (int(code.max()) + 1)
        for text, c in zip(masked, code, strict=True):
            unique[c] = text
        pairs, sims = _union_pairs(
            _near_texts(unique, similarity), word_edit_pairs(unique, word_similarity)
        )
    return Fingerprints("text", exact, code, pairs, sims, [_describe(t, "text") for t in texts])


def _ids(keys: list[str]) -> np.ndarray:
    """Dense ids of equal non-empty strings, by first appearance; -1 for empty strings."""
    seen: dict[str, int] = {}
    return np.array([seen.setdefault(k, len(seen)) if k else -1 for k in keys], dtype=np.int64)


def _near_texts(texts: list[str], similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of distinct texts whose 5-gram sets have Jaccard similarity >= ``similarity``."""
    shingles = shingle_sets(texts)
    rows = np.flatnonzero(np.diff(shingles.indptr) > 0)  # texts under 5 characters: no sets
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    signatures = minhash_signatures(shingles[rows], _TEXT_PERMUTATIONS)
    band = max(
        (
            r
            for r in (1, 2, 4, 8, 16)
            if 1 - (1 - similarity**r) ** (_TEXT_PERMUTATIONS // r) >= _LSH_RECALL
        ),
        default=1,
    )
    mix = np.random.default_rng(0).integers(1, 2**63, band, dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):  # hashing a band's values modulo 2**64
        keys = (
            (signatures.astype(np.uint64).reshape(len(rows), -1, band) * mix).sum(2).view(np.int64)
        )
    candidates = rows[_bucket_pairs(keys)]
    score = jaccard(shingles, candidates[:, 0], candidates[:, 1])
    close = score >= similarity - 1e-12
    return candidates[close], score[close]


def _union_pairs(*found: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs found by any measure, each with the highest similarity any gave it."""
    pairs = np.concatenate([p for p, _ in found])
    sims = np.concatenate([s for _, s in found])
    order = np.lexsort((-sims, pairs[:, 1], pairs[:, 0]))
    pairs, sims = pairs[order], sims[order]
    first = np.r_[True, (pairs[1:] != pairs[:-1]).any(1)] if len(pairs) else np.empty(0, bool)
    return pairs[first], sims[first]


# -- candidates -------------------------------------------------------------------------


def _bucket_pairs(keys: np.ndarray, owner: np.ndarray | None = None) -> np.ndarray:
    """Unique pairs ``(i, j)``, ``i < j``, of rows that share a key in some column.

    With ``owner``, rows of the same owner (an image's code and its probes) are not paired.
    """
    n = len(keys)
    found = [np.empty((0, 2), dtype=np.int64)]
    for column in keys.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, n])
        for size in np.flatnonzero(np.bincount(sizes)[2:]) + 2:  # bucket sizes > 1
            members = order[starts[sizes == size][:, None] + np.arange(size)]
            first, second = np.triu_indices(size, 1)
            pairs = np.stack([members[:, first].ravel(), members[:, second].ravel()], 1)
            if owner is not None:
                pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]]
            found.append(pairs)
    pairs = np.sort(np.concatenate(found), axis=1)
    ids = np.sort(pairs[:, 0] * n + pairs[:, 1])  # sorting beats np.unique's hash table here
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return np.stack(np.divmod(ids[first], n), 1)
