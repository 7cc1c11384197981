"""The default tokenizer and text-input validation."""

from itertools import chain

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktransfer._inputs import as_text_list, tokenize_many
from sktransfer.text import tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("I don't know", ["I", "do", "n't", "know"]),
        ("DON'T SHOUT", ["DO", "N'T", "SHOUT"]),
        ("it\u2019s we're they've I'll I'm she'd", ["it", "'s", "we", "'re", "they", "'ve"]),
        ("a well-known state-of-the-art idea", ["a", "well-known", "state-of-the-art", "idea"]),
        ("Win £1000 now!!! Call 08712460324.", ["Win", "£", "1000", "now", "!", "!", "!"]),
        ("pi is 3.14, e is 2.72...", ["pi", "is", "3.14", ",", "e", "is", "2.72", ".", "."]),
        ("'quoted' rock'n'roll", ["'", "quoted", "'", "rock", "'", "n", "'", "roll"]),
        ("", []),
        ("   \n\t", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text)[: len(tokens)] == tokens


def test_tokens_match_glove_vocabulary(glove, sms):
    """The tokenizer exists to find vectors: almost every token of real SMS text has one."""
    tokens, _ = tokenize_many(sms["text"].tolist(), True, None)
    known = np.mean([t in glove.key_to_index for t in tokens])
    split_known = np.mean(
        [t in glove.key_to_index for t in chain.from_iterable(sms["text"].str.lower().str.split())]
    )
    assert known > 0.95 > 0.80 > split_known


texts = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=8)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_batched_tokenizer_equals_one_text_at_a_time(batch):
    for lowercase in (False, True):
        tokens, lengths = tokenize_many(batch, lowercase, None)
        one_by_one = [tokenize_many([text], lowercase, None)[0] for text in batch]
        assert lengths.tolist() == [len(t) for t in one_by_one]
        assert tokens == list(chain.from_iterable(one_by_one))
    cased, _ = tokenize_many(batch, False, None)  # without lowercasing: the public tokenizer
    assert cased == list(chain.from_iterable(tokenize(text) for text in batch))


def test_lowercasing_comes_after_normalisation():
    # NFKC turns the Fraktur capital into a plain "J", which lowercases to GloVe's "j"
    # ("\U0001d50d".lower() alone would leave it unchanged); found by the property above
    assert tokenize_many(["\U0001d50d", "\uff21BC"], True, None)[0] == ["j", "abc"]


def test_custom_tokenizer_and_case():
    tokens, lengths = tokenize_many(["Hello World", "x"], False, str.split)
    assert tokens == ["Hello", "World", "x"] and lengths.tolist() == [2, 1]
    with pytest.raises(TypeError, match="must return a list of strings; it returned str"):
        tokenize_many(["Hello"], True, str.lower)


@pytest.mark.parametrize(
    "container",
    [
        lambda t: t,
        tuple,
        np.array,
        pd.Series,
        lambda t: pd.DataFrame({"text": t}),
        lambda t: np.array(t)[:, None],
    ],
)
def test_text_containers(container):
    assert as_text_list(container(["a b", "c"])) == ["a b", "c"]


def test_missing_values_become_empty_texts():
    texts = pd.Series(["a", None, np.nan, pd.NA, "b"], dtype=object)
    assert as_text_list(texts) == ["a", "", "", "", "b"]
    assert as_text_list(pd.Series(["a", None], dtype="string")) == ["a", ""]


def test_bad_inputs_name_the_problem():
    with pytest.raises(TypeError, match="Text 2 is a int"):
        as_text_list(["a", "b", 7])
    with pytest.raises(ValueError, match="Text 1 is bytes that are not UTF-8"):
        as_text_list([b"caf\xc3\xa9", b"caf\xe9"])
    with pytest.raises(TypeError, match="single string"):
        as_text_list("one text")
    with pytest.raises(ValueError, match="2 columns"):
        as_text_list(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        as_text_list(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="got int"):
        as_text_list(5)
