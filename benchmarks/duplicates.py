"""find_duplicates on 10k images and 10k texts: seconds, recall of planted copies, false pairs.

Images: the 10,000 MNIST test digits plus 1,000 planted copies (resized to 20-112 px, JPEG
re-encoded at quality 30-90, cropped by 0-3 px per side, brightened or darkened). Texts:
the 5,574 SMS messages plus 4,426 planted copies (other digits, other case and punctuation,
one word dropped). Side by side in the same run:

MNIST by change: the 10,000 digits plus the same 10 edits (below) of 300 of them, by hash.

Pets: the 1,802 pet photos plus 10 edits of 120 of them (crop 8% per side, rescale 0.3x
and 2x, JPEG quality 30, brightness and contrast +/-20%, mirror, 5-degree turn), grouped
by perceptual hash, by embedding and by both, the features computed once into a cache.

- images: ``imagehash.phash`` (64-bit, the usual choice) on every image with an all-pairs
  Hamming search at its customary threshold of 10 bits;
- texts: ``datasketch`` MinHash + MinHashLSH (threshold 0.8, 128 permutations) on the same
  5-gram shingles, and the exact all-pairs Jaccard search (a sparse product) as ground truth.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
from _timing import median_seconds
from PIL import Image, ImageEnhance, ImageOps

from sktransfer.datasets import fetch_mnist_test, fetch_sms_spam

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def planted_images(digits: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, list]:
    rng = np.random.default_rng(seed)
    sources = rng.choice(len(digits), n, replace=False)
    copies = []
    for k, i in enumerate(sources):
        image = Image.fromarray(digits[i])
        edit = k % 4
        if edit == 0:
            size = int(rng.choice([20, 42, 56, 112]))
            image = image.resize((size, size), Image.BICUBIC)
        elif edit == 1:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=int(rng.choice([30, 50, 75, 90])))
            image = Image.open(buffer)
        elif edit == 2:
            left, top, right, bottom = rng.integers(0, 4, 4)
            image = image.crop((left, top, 28 - right, 28 - bottom))
        else:
            image = ImageEnhance.Brightness(image).enhance(float(rng.choice([0.7, 1.3, 1.6])))
        copies.append(np.asarray(image))
    return sources, copies


def planted_texts(texts: list[str], n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    long = [i for i, t in enumerate(texts) if len(t.split()) >= 10]
    sources = rng.choice(long, n, replace=len(long) < n)
    copies = []
    for k, i in enumerate(sources):
        text = texts[i]
        edit = k % 3
        if edit == 0:
            text = re.sub(r"\d", lambda _: str(rng.integers(10)), text)
        elif edit == 1:
            text = text.upper() + "!!"
        else:
            words = text.split()
            del words[int(rng.integers(len(words)))]
            text = " ".join(words)
        copies.append(text)
    return sources, copies


def _recall(groups: np.ndarray, sources: np.ndarray, n_originals: int) -> float:
    copies = np.arange(n_originals, n_originals + len(sources))
    return float((groups[sources] == groups[copies]).mean())


def _false_pairs(groups: np.ndarray) -> dict:
    sizes = np.bincount(groups)
    return {
        "merged_samples": int((sizes[sizes > 1]).sum()),
        "merged_fraction": round(float((sizes[sizes > 1]).sum() / len(groups)), 4),
        "largest_group": int(sizes.max()),
    }


def images(repeats: int = 3, n_planted: int = 1000) -> dict:
    import imagehash

    from sktransfer.model_selection import find_duplicates

    digits = fetch_mnist_test(DATA)[0]
    sources, copies = planted_images(digits, n_planted)
    samples = list(digits) + copies

    def ours():  # ImageNet features of 28-px digits all look alike: the hash alone
        return find_duplicates(samples, method="hash", progress=False)

    seconds = median_seconds(ours, repeats)
    groups = ours()

    def peer():
        codes = np.array([imagehash.phash(Image.fromarray(x)).hash.ravel() for x in samples])
        packed = np.packbits(codes, axis=1).view(np.uint64).ravel()
        close = [
            np.flatnonzero(np.bitwise_count(packed[i] ^ packed[i + 1 :]) <= 10) + i + 1
            for i in range(len(packed))
        ]
        return close

    start = time.perf_counter()
    close = peer()
    peer_seconds = time.perf_counter() - start
    n = len(digits)
    peer_recall = float(np.mean([n + k in set(close[s]) for k, s in enumerate(sources)]))
    peer_merged = len(
        {i for i, c in enumerate(close[:n]) for j in c if j < n}
        | {j for c in close[:n] for j in c if j < n}
    )
    return {
        "images": len(samples),
        "planted_copies": n_planted,
        "seconds": round(seconds, 2),
        "images_per_s": round(len(samples) / seconds),
        "planted_recall": round(_recall(groups, sources, n), 4),
        "originals": _false_pairs(find_duplicates(list(digits), method="hash", progress=False)),
        "imagehash_phash_all_pairs": {
            "seconds": round(peer_seconds, 2),
            "planted_recall": round(peer_recall, 4),
            "originals_merged_fraction": round(peer_merged / n, 4),
        },
    }


def photo_edits(image: Image.Image) -> dict[str, Image.Image]:
    """Each class of change the duplicate search must survive, at its strongest."""
    w, h = image.size
    dx, dy = round(0.08 * w), round(0.08 * h)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=30)
    return {
        "crop8": image.crop((dx, dy, w - dx, h - dy)),
        "scale0.3": image.resize((round(0.3 * w), round(0.3 * h)), Image.BICUBIC),
        "scale2": image.resize((2 * w, 2 * h), Image.BICUBIC),
        "jpeg30": Image.open(buffer),
        "bright+20": ImageEnhance.Brightness(image).enhance(1.2),
        "bright-20": ImageEnhance.Brightness(image).enhance(0.8),
        "contrast+20": ImageEnhance.Contrast(image).enhance(1.2),
        "contrast-20": ImageEnhance.Contrast(image).enhance(0.8),
        "hflip": ImageOps.mirror(image),
        "rot5": image.rotate(5, resample=Image.BICUBIC),
    }


def mnist_edits(n_sources: int = 300) -> dict:
    """The 10,000 MNIST digits plus 10 edits of 300 of them, grouped by hash: recall by change.

    A rescale to 0.3x leaves an 8-px digit, too small for a perceptual code: it is matched
    as a thumbnail, against the collection scaled down to its size.
    """
    from sktransfer.model_selection import find_duplicates

    digits = fetch_mnist_test(DATA)[0]
    sources = np.random.default_rng(0).choice(len(digits), n_sources, replace=False)
    copies, edits, source = [], [], []
    for i in sources:
        for name, edited in photo_edits(Image.fromarray(digits[i]).convert("RGB")).items():
            copies.append(np.asarray(edited.convert("L")))
            edits.append(name)
            source.append(i)
    edits, source = np.array(edits), np.array(source)
    start = time.perf_counter()
    groups = find_duplicates(list(digits) + copies, method="hash", progress=False)
    seconds = time.perf_counter() - start
    found = groups[source] == groups[len(digits) :]
    return {
        "images": len(digits) + len(copies),
        "planted_copies": len(copies),
        "seconds": round(seconds, 2),
        "recall": {e: round(float(found[edits == e].mean()), 3) for e in dict.fromkeys(edits)},
        "thumbnails": thumbnails(digits, sources),
    }


def thumbnails(digits: np.ndarray, sources: np.ndarray) -> dict:
    """8-px shrinks of the sources made by each PIL filter, and of digits left out.

    Thumbnails are compared with the collection scaled down by bicubic resampling: the
    shrinks made by other filters show how much that choice matters; the shrinks of digits
    that are not in the collection, how often an unrelated thumbnail joins a look-alike.
    """
    from sktransfer.model_selection import find_duplicates

    rest = np.setdiff1d(np.arange(len(digits)), sources)
    left_out = np.random.default_rng(1).choice(rest, len(sources), replace=False)
    kept = np.setdiff1d(np.arange(len(digits)), left_out)
    position = np.full(len(digits), -1)
    position[kept] = np.arange(len(kept))
    out = {}
    filters = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
    filters |= {"bilinear": Image.BILINEAR, "box": Image.BOX}
    for name, resample in filters.items():
        shrinks = [
            np.asarray(Image.fromarray(digits[i]).resize((8, 8), resample))
            for i in np.r_[sources, left_out]
        ]
        groups = find_duplicates(list(digits[kept]) + shrinks, method="hash", progress=False)
        copies = groups[len(kept) :]
        out[name] = round(float((groups[position[sources]] == copies[: len(sources)]).mean()), 3)
        if name == "bicubic":
            out["left_out_joined"] = round(
                float(np.isin(copies[len(sources) :], groups[: len(kept)]).mean()), 3
            )
    return out


def pets(n_sources: int = 120) -> dict:
    """The 1,802 pet photos plus 10 edits of 120 of them, by each method."""
    import tempfile

    from sktransfer import PretrainedImageFeaturizer
    from sktransfer.model_selection import find_duplicates

    paths = sorted(str(p) for p in (DATA / "pets").rglob("*.jpg"))
    sources = np.random.default_rng(0).choice(len(paths), n_sources, replace=False)
    copies, edits, source = [], [], []
    for i in sources:
        with Image.open(paths[i]) as image:
            for name, edited in photo_edits(image.convert("RGB")).items():
                copies.append(np.asarray(edited))
                edits.append(name)
                source.append(i)
    edits, source = np.array(edits), np.array(source)
    n = len(paths)
    out = {"photos": n, "planted_copies": len(copies)}
    with tempfile.TemporaryDirectory() as cache:
        embedder = PretrainedImageFeaturizer(cache=cache, progress=False)
        start = time.perf_counter()
        embedder.fit_transform(paths + copies)
        out["featurize_seconds"] = round(time.perf_counter() - start, 1)
        for method in ["hash", "embedding", "both"]:
            start = time.perf_counter()
            groups = find_duplicates(
                paths + copies, method=method, embedder=embedder, progress=False
            )
            seconds = time.perf_counter() - start  # features from the cache
            found = groups[source] == groups[n:]
            originals = find_duplicates(paths, method=method, embedder=embedder, progress=False)
            out[method] = {
                "seconds_cached": round(seconds, 1),
                "recall": {
                    e: round(float(found[edits == e].mean()), 3) for e in dict.fromkeys(edits)
                },
                "originals": _false_pairs(originals),
            }
    return out


def texts(repeats: int = 3, n_planted: int = 4426) -> dict:
    from datasketch import MinHash, MinHashLSH

    from sktransfer.model_selection import find_duplicates
    from sktransfer.model_selection._text_hashing import normalize_text, shingle_sets

    sms = fetch_sms_spam(DATA)["text"].tolist()
    sources, copies = planted_texts(sms, n_planted)
    samples = sms + copies

    def ours():
        return find_duplicates(samples)

    seconds = median_seconds(ours, repeats)
    groups = ours()

    masked = [normalize_text(t, mask_digits=True) for t in samples]

    def peer():
        lsh = MinHashLSH(threshold=0.8, num_perm=128)
        shingles = [{t[i : i + 5] for i in range(len(t) - 4)} for t in masked]
        hashes = MinHash.bulk([[s.encode() for s in sh] for sh in shingles], num_perm=128)
        for i, h in enumerate(hashes):
            if shingles[i]:
                lsh.insert(i, h)
        return [lsh.query(h) if shingles[i] else [] for i, h in enumerate(hashes)]

    start = time.perf_counter()
    peer()
    peer_seconds = time.perf_counter() - start

    def brute():
        sets = shingle_sets(masked)
        common = sets @ sets.T
        sizes = np.diff(sets.indptr)
        common = common.tocoo()
        union = sizes[common.row] + sizes[common.col] - common.data
        return (common.data / union >= 0.8) & (common.row < common.col)

    start = time.perf_counter()
    brute()
    brute_seconds = time.perf_counter() - start
    return {
        "texts": len(samples),
        "planted_copies": n_planted,
        "seconds": round(seconds, 2),
        "texts_per_s": round(len(samples) / seconds),
        "planted_recall": round(_recall(groups, sources, len(sms)), 4),
        "datasketch_minhash_lsh_seconds": round(peer_seconds, 2),
        "all_pairs_jaccard_seconds": round(brute_seconds, 2),
        "ratios": {
            "vs_datasketch": round(peer_seconds / seconds, 1),
            "vs_all_pairs": round(brute_seconds / seconds, 1),
        },
    }


def word_edits(words: list[str], vocabulary: list[str], rng) -> dict[str, str]:
    """Each class of text change the duplicate search must survive, on one sentence."""

    def substitute(k):
        out = list(words)
        for i in rng.choice(len(out), k, replace=False):
            out[i] = str(rng.choice(vocabulary))
        return out

    def delete(k):
        keep = np.ones(len(words), bool)
        keep[rng.choice(len(words), k, replace=False)] = False
        return [w for w, kept in zip(words, keep, strict=True) if kept]

    at = int(rng.integers(len(words) + 1))
    edits = {
        "case": [w.upper() for w in words],
        "punctuation": [*words[:-1], words[-1] + " !!"],
        "substitute1": substitute(1),
        "substitute2": substitute(2),
        "insert1": [*words[:at], str(rng.choice(vocabulary)), *words[at:]],
        "delete1": delete(1),
        "delete2": delete(2),
    }
    return {name: " ".join(edited) for name, edited in edits.items()}


def sentences(n_sources: int = 1400) -> dict:
    """Subj and CR sentences of 8+ words, each edited every way, by 5-grams and word edits.

    Also by sentence embeddings (all-MiniLM-L6-v2 at the default cosine 0.9), computed once
    into a cache: their seconds count the embedding of every text.
    """
    import tempfile

    from text_transformer import load_sentences

    from sktransfer import TransformerTextEmbedder
    from sktransfer.model_selection import find_duplicates
    from sktransfer.model_selection._text_hashing import normalize_text

    out = {}
    cache = tempfile.mkdtemp()
    for name in ["subj", "custrev"]:
        texts = list(dict.fromkeys(load_sentences(name)[0]))
        words = [normalize_text(t).split() for t in texts]
        vocabulary = sorted({w for ws in words for w in ws})
        rng = np.random.default_rng(0)
        long = [i for i, ws in enumerate(words) if len(ws) >= 8]
        sources = rng.choice(long, min(n_sources, len(long)), replace=False)
        copies, edits, source = [], [], []
        for i in sources:
            for edit, text in word_edits(words[i], vocabulary, rng).items():
                copies.append(text)
                edits.append(edit)
                source.append(i)
        edits, source = np.array(edits), np.array(source)
        n = len(texts)
        result = {"texts": n, "planted_copies": len(copies)}
        embedder = TransformerTextEmbedder(cache=cache, progress=False)
        measures = [
            ("5-grams", {"word_similarity": 1.0}),
            ("default", {}),
            ("embedding", {"method": "embedding", "embedder": embedder}),
        ]
        for label, options in measures:
            start = time.perf_counter()
            groups = find_duplicates(texts + copies, **options)
            seconds = time.perf_counter() - start
            found = groups[source] == groups[n:]
            result[label] = {
                "seconds": round(seconds, 2),
                "recall": {
                    e: round(float(found[edits == e].mean()), 3) for e in dict.fromkeys(edits)
                },
                "originals": _false_pairs(find_duplicates(texts, **options)),
            }
        out[name] = result
    return out


def embedding_scale(n: int = 100_000, seed: int = 0) -> dict:
    """Embedding pairs among ``n`` 1280-d vectors: 128-d bounds first, against all products.

    The vectors mix two real pet-photo features each (weights 0.5-1 and 0-0.5) plus noise,
    so that they have the spectrum of real features and many close pairs.
    """
    from sktransfer import PretrainedImageFeaturizer
    from sktransfer.model_selection import _embedding_pairs

    paths = sorted(str(p) for p in (DATA / "pets").rglob("*.jpg"))
    features = PretrainedImageFeaturizer(progress=False).fit_transform(paths)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(len(features), size=(2, n))
    weight = rng.uniform(0, 0.5, (n, 1)).astype(np.float32)
    noise = rng.normal(0, 0.05 * features.std(), (n, features.shape[1])).astype(np.float32)
    vectors = (1 - weight) * features[a] + weight * features[b] + noise
    exact = np.arange(n)
    out = {"vectors": n, "dimensions": int(features.shape[1])}
    found = {}
    # the mixtures chain into one group, which the collapse guard would drop: time the
    # search itself, with the guard off
    defaults = {k: getattr(_embedding_pairs, k) for k in ["_REDUCE_FROM", "_GIANT_FRACTION"]}
    for label, reduce_from in [("bounded", 0), ("all_products", n + 1)]:
        _embedding_pairs._REDUCE_FROM, _embedding_pairs._GIANT_FRACTION = reduce_from, 1.0
        try:
            start = time.perf_counter()
            pairs, _ = _embedding_pairs.embedding_pairs(vectors, exact, 0.85)
            out[f"{label}_seconds"] = round(time.perf_counter() - start, 1)
        finally:
            for name, value in defaults.items():
                setattr(_embedding_pairs, name, value)
        found[label] = set(map(tuple, pairs.tolist()))
        out[f"{label}_pairs"] = len(pairs)
    differing = found["bounded"] ^ found["all_products"]
    out["pairs_differing"] = len(differing)
    if differing:  # float32 products summed in another order, at the threshold
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        out["differing_max_distance_to_threshold"] = float(
            max(abs(float(unit[i] @ unit[j]) - 0.85) for i, j in differing)
        )
    out["speedup"] = round(out["all_products_seconds"] / out["bounded_seconds"], 1)
    return out


def run(repeats: int = 3) -> dict:
    return {
        "images": images(repeats),
        "mnist_edits": mnist_edits(),
        "pets": pets(),
        "texts": texts(repeats),
        "sentences": sentences(),
        "embedding_scale": embedding_scale(),
    }
