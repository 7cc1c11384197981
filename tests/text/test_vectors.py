"""The word-vectors resolver: bundled GloVe, every file format gensim writes, clear errors."""

import os
import urllib.error

import numpy as np
import pytest
from gensim.models import FastText, KeyedVectors, Word2Vec
from gensim.models.fasttext import save_facebook_model

from sktransfer.exceptions import (
    SktransferError,
    UnknownVectorsError,
    VectorsFormatError,
    VectorsNotFoundError,
)
from sktransfer.text import DEFAULT_VECTORS, list_vectors, load_vectors
from sktransfer.text._vectors import _load_named

WORDS = ["king", "queen", "man", "woman", "frog", "toad", "paris", "france", "the", "n't"]


def test_bundled_glove_is_the_real_thing(glove):
    assert (glove.vector_size, len(glove)) == (50, 400_000)
    assert glove.index_to_key[:4] == ["the", ",", ".", "of"]  # GloVe's frequency order
    analogy = [w for w, _ in glove.most_similar(positive=["king", "woman"], negative=["man"])]
    assert "queen" in analogy[:3]
    assert "toad" in [w for w, _ in glove.most_similar("frog", topn=5)]
    assert glove.similarity("paris", "france") > glove.similarity("paris", "toad") + 0.4
    # Published GloVe 6B 50-d value of "the" (first component), not something random.
    assert glove["the"][0] == pytest.approx(0.418, abs=1e-3)


def test_bundled_glove_is_memory_mapped_and_loaded_once(glove):
    assert isinstance(glove.vectors, np.memmap)
    assert not glove.vectors.flags.writeable
    assert load_vectors(DEFAULT_VECTORS) is glove


def test_list_vectors_puts_the_offline_default_first():
    names = list_vectors()
    assert names[0] == DEFAULT_VECTORS == "glove-wiki-gigaword-50"
    assert "word2vec-google-news-300" in names and len(set(names)) == len(names)


def test_objects_are_used_as_they_are(glove):
    assert load_vectors(glove) is glove
    model = Word2Vec([["a", "b", "c"]] * 5, vector_size=8, min_count=1, epochs=1, seed=0)
    assert load_vectors(model) is model.wv


def test_a_saved_gensim_model_gives_its_vectors(tmp_path):
    model = Word2Vec([["a", "b", "c"]] * 5, vector_size=8, min_count=1, epochs=1, seed=0)
    model.save(str(tmp_path / "w2v.model"))
    loaded = load_vectors(tmp_path / "w2v.model")
    np.testing.assert_array_equal(loaded["b"], model.wv["b"])


@pytest.fixture(scope="module")
def small(glove) -> KeyedVectors:
    """The first 2,000 GloVe words plus a few test words: real vectors, tiny files."""
    words = list(dict.fromkeys(glove.index_to_key[:2000] + WORDS))
    kv = KeyedVectors(50)
    kv.add_vectors(words, np.stack([glove[w] for w in words]))
    return kv


def _write(kv: KeyedVectors, path, kind: str) -> None:
    if kind == "kv":
        kv.save(str(path))
    elif kind == "glove":
        with open(path, "w", encoding="utf-8") as f:  # GloVe's own format: no header line
            for word, vector in zip(kv.index_to_key, kv.vectors, strict=True):
                f.write(word + " " + " ".join(f"{x:.6f}" for x in vector) + "\n")
    else:
        kv.save_word2vec_format(str(path), binary=kind == "binary")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("vectors.bin", "binary"),
        ("vectors.txt", "text"),
        ("vectors.vec", "text"),
        ("vectors.txt.gz", "text"),
        ("vectors.bin.gz", "binary"),
        ("glove.6B.50d.txt", "glove"),
        ("vectors.kv", "kv"),
    ],
)
def test_every_file_format_loads_the_same_vectors(small, tmp_path, name, kind):
    path = tmp_path / name
    _write(small, path, kind)
    loaded = load_vectors(path)
    assert loaded.index_to_key == small.index_to_key
    np.testing.assert_allclose(loaded.vectors, small.vectors, atol=1e-5)
    assert load_vectors(str(path)) is loaded  # cached per file
    assert loaded.most_similar("frog", topn=1)[0][0] == small.most_similar("frog", topn=1)[0][0]


def test_a_rewritten_file_is_reloaded(small, tmp_path):
    path = tmp_path / "vectors.txt"
    _write(small, path, "text")
    first = load_vectors(path)
    fewer = KeyedVectors(50)
    fewer.add_vectors(WORDS, np.stack([small[w] for w in WORDS]))
    _write(fewer, path, "text")
    os.utime(path, ns=(0, 0))  # a new modification time even on coarse clocks
    assert len(load_vectors(path)) == len(WORDS) != len(first)


@pytest.fixture(scope="module")
def fasttext_bin(tmp_path_factory, sms):
    """A real Facebook-format fastText .bin trained on the SMS texts (subword n-grams)."""
    from sktransfer.text import tokenize

    sentences = [tokenize(text.lower()) for text in sms["text"][:2000]]
    model = FastText(sentences, vector_size=16, min_count=2, epochs=2, seed=0, workers=1)
    path = tmp_path_factory.mktemp("fasttext") / "sms.bin"
    save_facebook_model(model, str(path))
    return path, model


def test_fasttext_bin_keeps_subword_vectors(fasttext_bin):
    path, model = fasttext_bin
    loaded = load_vectors(path)
    assert "freeeee" not in loaded.key_to_index  # unseen word, yet it has a vector
    np.testing.assert_allclose(loaded["freeeee"], model.wv["freeeee"], atol=1e-5)
    assert np.linalg.norm(loaded["freeeee"]) > 0
    assert loaded.similarity("freeeee", "free") > loaded.similarity("freeeee", "sorry")


def test_missing_file(tmp_path):
    with pytest.raises(VectorsNotFoundError, match="No word-vectors file"):
        load_vectors(tmp_path / "nope.bin")
    with pytest.raises(VectorsNotFoundError):
        load_vectors("vectors/glove.txt")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownVectorsError, match="Did you mean 'glove-wiki-gigaword-50'"):
        load_vectors("glove-wiki-gigaword50")
    with pytest.raises(TypeError, match="got int"):
        load_vectors(3)


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x01garbage" * 40, b"2 3\nking 0.1 0.2\n", b"not a vector file\n"]
)
def test_unreadable_file_says_what_was_expected(tmp_path, content):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(VectorsFormatError, match="word2vec binary") as info:
        load_vectors(path)
    assert isinstance(info.value, SktransferError) and str(path) in str(info.value)


def test_a_pickle_that_is_not_vectors_is_refused(tmp_path):
    path = tmp_path / "model.kv"
    from gensim.utils import SaveLoad

    SaveLoad().save(str(path))
    with pytest.raises(VectorsFormatError, match="holds a SaveLoad"):
        load_vectors(path)


def test_gensim_data_names_fail_fast_and_clearly_offline(monkeypatch, tmp_path):
    import gensim.downloader

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(gensim.downloader, "urlopen", offline)
    monkeypatch.setattr(gensim.downloader, "BASE_DIR", str(tmp_path))
    _load_named.cache_clear()
    with pytest.raises(VectorsNotFoundError) as info:
        load_vectors("word2vec-google-news-300")
    message = str(info.value)
    assert str(tmp_path) in message and "glove-wiki-gigaword-50" in message
    assert "--download word2vec-google-news-300" in message
