"""Text input validation and the default tokenizer."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_text_list", "tokenize", "tokenize_many"]

# Clitics first, so that "do n't" keeps "n't" whole, then words with inner hyphens or
# periods ("well-known", "3.5", "u.s"), then any other non-space character on its own.
# Possessive quantifiers (no backtracking) make this as fast as a plain r"\w+|[^\w\s]".
_TOKEN = re.compile(r"(?:n't|'(?:s|re|ve|ll|m|d))\b|\w++(?:[-.]\w++)*+|[^\w\s]", re.IGNORECASE)


# Curly apostrophes become straight ones, and "n't" is split off its stem up front: a
# C-level str.replace is cheaper than a look-ahead in the token pattern.
_REPLACEMENTS = (("\u2019", "'"), ("n't", " n't"), ("N'T", " N'T"))


def tokenize(text: str) -> list[str]:
    """Split a text into words, numbers, clitics and punctuation marks.

    The rules follow the Penn Treebank tokenization of the corpora GloVe and word2vec were
    trained on, so more tokens find a vector: contractions split into a stem and a clitic
    (``"don't"`` becomes ``"do", "n't"``; ``"it's"`` becomes ``"it", "'s"``), hyphenated
    words and decimal numbers stay whole, and every other punctuation mark is its own token.
    Curly apostrophes count as straight ones. Case is kept (the embedder lowercases first).

    Examples
    --------
    >>> from sktransfer.text import tokenize
    >>> tokenize("It's a well-known fact: I don't pay $3.50!")
    ['It', "'s", 'a', 'well-known', 'fact', ':', 'I', 'do', "n't", 'pay', '$', '3.50', '!']
    """
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return _TOKEN.findall(text)


def tokenize_many(
    texts: list[str], lowercase: bool, tokenizer: Callable[[str], list[str]] | None
) -> tuple[list[str], np.ndarray]:
    """The tokens of all texts in one flat list, and how many come from each text.

    The default tokenizer makes no Python-level call per text.
    """
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
    lengths = np.fromiter(map(len, per_text), np.intp, len(per_text))
    return list(chain.from_iterable(per_text)), lengths


def as_text_list(X: Any) -> list[str]:
    """Validate a collection of texts: a list, 1-D array, Series or one-column DataFrame.

    Missing values (None, NaN, ``pd.NA``) become empty texts and ``bytes`` are decoded as
    UTF-8 (as sklearn's ``CountVectorizer`` does); bytes that are not UTF-8 raise a
    ValueError, and any other value (a number, a list) a TypeError, naming its index.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "Expected a collection of texts (list, array, Series); got a single string. "
            "Wrap it in a list: [text]."
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
            elif text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
                texts[i] = ""
            else:
                raise TypeError(
                    f"Text {i} is a {type(text).__name__} ({text!r:.50}), not a string. "
                    "Convert the column to str, or map missing values to None."
                )
    return texts
