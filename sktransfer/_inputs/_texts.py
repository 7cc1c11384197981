"""Text input validation and the default tokenizer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_text_list", "normalize_text", "tokenize", "tokenize_many"]

# Clitics first, so that "do n't" keeps "n't" whole, then words with inner hyphens or
# periods ("well-known", "3.5", "u.s"), then any other non-space character on its own.
# Possessive quantifiers (no backtracking) make this as fast as a plain r"\w+|[^\w\s]".
_TOKEN = re.compile(r"(?:n't|'(?:s|re|ve|ll|m|d))\b|\w++(?:[-.]\w++)*+|[^\w\s]", re.IGNORECASE)


# Curly apostrophes become straight ones, and "n't" is split off its stem up front: a
# C-level str.replace is cheaper than a look-ahead in the token pattern.
_REPLACEMENTS = (("\u2019", "'"), ("n't", " n't"), ("N'T", " N'T"))

# Characters that hide inside words without changing them: zero-width space, non-joiner and
# joiner, word joiner, byte-order mark and soft hyphen. Left in, "fr\u200bee" is two tokens.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# With max_tokens, a long text is tokenized from a prefix of this many characters per token
# (grown until it holds more tokens than are kept), never whole: a 50 MB text costs no more
# than its first few kilobytes.
_CHARS_PER_TOKEN = 16


def normalize_text(text: str) -> str:
    """Unicode NFKC normalisation, with zero-width characters and soft hyphens removed.

    Applied to every text before tokenizing, so that the same words written with other code
    points (composed or decomposed accents, full-width letters, ligatures, invisible
    characters pasted from the web) give the same tokens. ASCII text is returned as is.

    Examples
    --------
    >>> from sktransfer.text import normalize_text
    >>> normalize_text("cafe\u0301") == normalize_text("caf\u00e9") == "caf\u00e9"
    True
    >>> normalize_text("fr\u200bee \uff37\uff29\uff2e \ufb01ne")
    'free WIN fine'
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE))


def tokenize(text: str) -> list[str]:
    """Split a text into words, numbers, clitics and punctuation marks.

    The rules follow the Penn Treebank tokenization of the corpora GloVe and word2vec were
    trained on, so more tokens find a vector: contractions split into a stem and a clitic
    (``"don't"`` becomes ``"do", "n't"``; ``"it's"`` becomes ``"it", "'s"``), hyphenated
    words and decimal numbers stay whole, and every other punctuation mark is its own token.
    Curly apostrophes count as straight ones. Case is kept (the embedder lowercases first).
    The text is first normalised by :func:`normalize_text` (NFKC, invisible characters
    removed).

    Examples
    --------
    >>> from sktransfer.text import tokenize
    >>> tokenize("It's a well-known fact: I don't pay $3.50!")
    ['It', "'s", 'a', 'well-known', 'fact', ':', 'I', 'do', "n't", 'pay', '$', '3.50', '!']
    """
    text = normalize_text(text)
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return _TOKEN.findall(text)


def tokenize_many(
    texts: list[str],
    lowercase: bool,
    tokenizer: Callable[[str], list[str]] | None,
    max_tokens: int | None = None,
) -> tuple[list[str], np.ndarray]:
    """The tokens of all texts in one flat list, and how many come from each text.

    Texts are normalised (:func:`normalize_text`) and, with ``lowercase``, lowercased
    before ``tokenizer`` (None: :func:`tokenize`'s rules) splits them. ``max_tokens`` keeps
    the first tokens of each text, and tokenizes long texts from a prefix only.
    """
    if max_tokens is not None:
        texts = [
            text
            if len(text) <= _CHARS_PER_TOKEN * max_tokens
            else _prefix(text, max_tokens, lowercase, tokenizer)
            for text in texts
        ]
    texts = map(normalize_text, texts)
    if lowercase:
        texts = map(str.lower, texts)
    if tokenizer is None:  # tokenize(), as map() over C functions: no Python call per text
        for old, new in _REPLACEMENTS:
            texts = map(str.replace, texts, repeat(old), repeat(new))
        tokenizer = _TOKEN.findall
    texts = list(texts)
    per_text = list(map(tokenizer, texts))
    if per_text and not isinstance(per_text[0], (list, tuple)):
        raise TypeError(
            f"tokenizer must return a list of strings; it returned "
            f"{type(per_text[0]).__name__} for text 0 ({texts[0][:50]!r})."
        )
    if max_tokens is not None:
        per_text = [tokens[:max_tokens] for tokens in per_text]
    lengths = np.fromiter(map(len, per_text), np.intp, len(per_text))
    return list(chain.from_iterable(per_text)), lengths


def _prefix(
    text: str, max_tokens: int, lowercase: bool, tokenizer: Callable[[str], list[str]] | None
) -> str:
    """A prefix of ``text`` whose tokens start with the text's first ``max_tokens`` tokens.

    The prefix grows until it yields more than ``max_tokens`` tokens, so a token cut at its
    end is never one of those kept.
    """
    size = _CHARS_PER_TOKEN * max_tokens
    while size < len(text):
        head = normalize_text(text[:size])
        head = head.lower() if lowercase else head
        if len(tokenizer(head) if tokenizer is not None else tokenize(head)) > max_tokens:
            return text[:size]
        size *= 4
    return text


def as_text_list(X: Any) -> list[str]:
    """Validate a collection of texts: a list, 1-D array, Series or one-column DataFrame.

    Missing values (None, any float NaN, ``pd.NA``, ``pd.NaT``: whatever ``pandas.isna``
    calls missing) become empty texts and ``bytes`` are decoded as UTF-8 (as sklearn's
    ``CountVectorizer`` does); bytes that are not UTF-8 raise a ValueError, and any other value
    (a number, a list) a TypeError, naming its index. Sets and mappings are refused: their
    order is not the order of the labels.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "Expected a collection of texts (list, array, Series); got a single string. "
            "Wrap it in a list: [text]."
        )
    if isinstance(X, (set, frozenset, Mapping)):
        raise TypeError(
            f"Expected an ordered collection of texts; got a {type(X).__name__}, whose order "
            "is arbitrary. Pass a list, array or Series."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected one text column; got a DataFrame with {X.shape[1]} columns. "
                "Select the text column, or use a ColumnTransformer."
            )
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
        X = X[:, 0]
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(f"Expected a 1-D collection of texts; got an array of shape {X.shape}.")
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(
            f"Expected a collection of texts (list, array, Series); got {type(X).__name__}."
        ) from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            if isinstance(text, (bytes, bytearray)):
                try:
                    texts[i] = bytes(text).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ValueError(
                        f"Text {i} is bytes that are not UTF-8 ({exc.reason} at byte "
                        f"{exc.start}: {bytes(text)[:50]!r}). Decode the column with its "
                        "encoding first, e.g. series.str.decode('latin-1')."
                    ) from None
            elif pd.api.types.is_scalar(text) and pd.isna(text):
                texts[i] = ""
            else:
                raise TypeError(
                    f"Text {i} is a {type(text).__name__} ({text!r:.50}), not a string. "
                    "Convert the column to str, or map missing values to None."
                )
    return texts
