"""Bad text inputs: each gives a correct row, or an error naming its index.

The same cases go through the three entry points that read texts: ``Word2VecEmbedder``
(against the real GloVe vectors), ``FineTunedTextClassifier`` and ``find_duplicates``.
Policy (``sktransfer._inputs.as_text_list``): missing values (whatever ``pandas.isna`` calls
missing) are empty texts, bytes decode as UTF-8, anything else that is not a string is
refused by index. Texts are NFKC-normalised, without zero-width characters, before tokenizing.
"""

import time

import numpy as np
import pandas as pd
import pytest

from sktransfer import Word2VecEmbedder
from sktransfer._inputs import tokenize_many
from sktransfer.finetune import FineTunedTextClassifier
from sktransfer.model_selection import find_duplicates
from sktransfer.text import tokenize

MEGABYTE = "the spam offer " * (1_000_000 // len("the spam offer "))

# name -> (text, expectation): ("like", reference text) embeds like the reference,
# ("empty",) gives a row of zeros, ("error", exception type, pattern) is refused by index.
CASES = {
    "None": (None, ("empty",)),
    "NaN": (np.nan, ("empty",)),
    "pd.NA": (pd.NA, ("empty",)),
    "empty string": ("", ("empty",)),
    "whitespace only": (" \t\n\r  ", ("empty",)),
    "punctuation only": ("?!", ("like", "?!")),
    "UTF-8 bytes": ("café prize".encode(), ("like", "café prize")),
    "latin-1 bytes": ("café".encode("latin-1"), ("error", ValueError, "is bytes that are not")),
    "int": (42, ("error", TypeError, "is a int")),
    "float": (3.5, ("error", TypeError, "is a float")),
    "list": (["free", "prize"], ("error", TypeError, "is a list")),
    "1 MB document": (MEGABYTE, ("like", "the spam offer")),
    "emoji": ("free 🎁 prize 🎉🎉", ("like", "free prize")),  # emoji have no vector
    "mixed scripts": ("Москва and Tokyo 東京 مرحبا", ("like", "Москва and Tokyo 東京 مرحبا")),
    "unknown words only": ("qwxzv zzqxj", ("empty",)),
    "numpy float32 NaN": (np.float32("nan"), ("empty",)),
    "pd.NaT": (pd.NaT, ("empty",)),
    "numpy NaT": (np.datetime64("NaT"), ("empty",)),
    "decomposed accents (NFD)": (
        "cafe\u0301 re\u0301sume\u0301",
        ("like", "caf\u00e9 r\u00e9sum\u00e9"),
    ),
    "zero-width space and soft hyphen": ("fr\u200bee pri\u00adze", ("like", "free prize")),
    "full-width letters and a ligature": (
        "\uff26\uff32\uff25\uff25 \ufb01ne",
        ("like", "free fine"),
    ),
}


def _text_duplicates(texts):
    return find_duplicates(texts, kind="text")  # "auto" reads bytes as an encoded image


@pytest.fixture(scope="module")
def embedder():
    return Word2VecEmbedder(oov="ignore").fit(["free prize", "the spam offer"])


@pytest.fixture(scope="module")
def classifier(sms):
    texts, labels = sms["text"].to_numpy()[:600], sms["label"].to_numpy()[:600]
    return FineTunedTextClassifier(encoder="mean", max_epochs=3, random_state=0).fit(texts, labels)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES)
def test_each_text_embeds_correctly_or_names_its_index(case, embedder, classifier):
    text, (outcome, *expected) = CASES[case]
    batch = ["see you at lunch", text]
    if outcome == "error":
        kind, pattern = expected
        for transform in (embedder.transform, classifier.predict_proba, _text_duplicates):
            with pytest.raises(kind, match=f"Text 1 {pattern}"):
                transform(batch)
        return
    start = time.perf_counter()
    rows = embedder.transform(batch)
    assert time.perf_counter() - start < 10  # the 1 MB document takes about 0.3 s
    if outcome == "empty":
        np.testing.assert_array_equal(rows[1], 0)
    else:
        np.testing.assert_allclose(rows[1], embedder.transform(expected)[0], atol=1e-5)
        assert np.abs(rows[1]).sum() > 0
    proba = classifier.predict_proba(batch)
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1)
    assert _text_duplicates(batch).tolist() == [0, 1]  # never merged with another text


def test_mixed_scripts_keep_each_script_s_words():
    tokens = tokenize("Москва and Tokyo 東京 مرحبا 🎁")
    assert tokens == ["Москва", "and", "Tokyo", "東京", "مرحبا", "🎁"]


def test_missing_and_empty_texts_are_never_duplicates_of_each_other():
    texts = [None, np.nan, "", "  ", pd.NA, "free prize", b"free prize"]
    groups = _text_duplicates(texts)
    assert len(set(groups[:5])) == 5  # five empty texts, five groups
    assert groups[5] == groups[6]  # the bytes decode to the same text


def test_a_pandas_column_with_every_missing_kind(embedder):
    column = pd.Series(["free prize", None, np.nan, pd.NA, b"free prize"], dtype=object)
    rows = embedder.transform(column)
    np.testing.assert_array_equal(rows[1:4], 0)
    np.testing.assert_array_equal(rows[4], rows[0])
    strings = pd.Series(["free prize", None], dtype="string")
    np.testing.assert_array_equal(embedder.transform(strings)[1], 0)


@pytest.mark.parametrize("container", [{"free prize", "see you"}, {"free prize": 1}])
def test_unordered_containers_are_refused(container, embedder, classifier):
    for use in (embedder.transform, classifier.predict, _text_duplicates):
        with pytest.raises(TypeError, match="ordered collection of texts"):
            use(container)


def test_the_fine_tuned_classifier_tokenizes_only_what_it_uses(classifier):
    seen = []

    def tokenizer(text):
        seen.append(len(text))
        return text.split()

    model = FineTunedTextClassifier(
        encoder="mean", max_length=8, max_epochs=1, min_freq=1, tokenizer=tokenizer, random_state=0
    ).fit(["free prize now", "see you at lunch"], ["spam", "ham"])
    huge = "claim your free prize now " * 2_000_000  # 52 MB
    seen.clear()
    np.testing.assert_array_equal(
        model.predict_proba([huge]),
        model.predict_proba(["claim your free prize now claim your free"]),
    )
    assert max(seen) < 10_000  # a prefix, not the 52 MB text
    ids, lengths = tokenize_many([huge], True, None, max_tokens=8)
    assert lengths.tolist() == [8] and ids == tokenize(huge[:60].lower())[:8]
