"""``TransformerTextEmbedder(backend="onnxruntime")``: the same embeddings, int8 optional."""

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sktransfer import TransformerTextEmbedder
from sktransfer.image import BACKEND_TOLERANCE
from sktransfer.text import _transformer as transformer_module


@pytest.fixture(scope="module")
def texts(sms):
    return list(sms["text"][:400])


@pytest.fixture(scope="module")
def reference(texts):
    return TransformerTextEmbedder(progress=False).fit(texts).transform(texts)


def test_embeddings_equal_the_torch_backend_for_every_length(texts, reference, tmp_path):
    embedder = TransformerTextEmbedder(backend="onnxruntime", cache=tmp_path, progress=False)
    found = embedder.fit(texts).transform(texts)  # batches of 1 to 80+ tokens
    assert 0 < embedder.backend_difference_ <= BACKEND_TOLERANCE
    np.testing.assert_allclose(found, reference, atol=1e-5)
    assert len(list((tmp_path / "sktransfer-onnx").glob("*.onnx"))) == 1
    # A fresh process reads the stored graph instead of exporting again.
    transformer_module._text_graph.cache_clear()
    again = pickle.loads(pickle.dumps(embedder))
    again.cache = tmp_path / "features"  # no cached embeddings: the graph runs
    again.fit(texts[:2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transformer_module, "module_to_onnx", _refuse)
        again.cache = tmp_path
        np.testing.assert_allclose(again.transform(texts[:50]), reference[:50], atol=1e-5)


def _refuse(*args, **kwargs):
    raise AssertionError("exported again")


def test_a_middle_layer_and_other_pooling_match_too(texts):
    options = {"layer": 3, "pooling": "max", "normalize": False, "progress": False}
    expected = TransformerTextEmbedder(**options).fit(texts).transform(texts[:64])
    found = TransformerTextEmbedder(backend="onnxruntime", **options).fit(texts[:64])
    np.testing.assert_allclose(found.transform(texts[:64]), expected, atol=1e-4)


@pytest.mark.slow
def test_dynamic_int8_keeps_a_real_spam_classifier(sms, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    texts, labels = list(sms["text"][:600]), sms["label"][:600]
    int8 = TransformerTextEmbedder(backend="onnxruntime", quantize="dynamic", progress=False)
    quantized = int8.fit(texts).transform(texts)
    assert int8.backend_difference_ > BACKEND_TOLERANCE
    float32 = TransformerTextEmbedder(progress=False).fit(texts).transform(texts)
    assert (np.sum(quantized * float32, axis=1) > 0.95).all()  # cosine to its own: 0.96-0.99
    probe = LogisticRegression(C=10)
    assert cross_val_score(probe, quantized, labels, cv=3).mean() > 0.95
    assert list(tmp_path.iterdir()) == []  # the quantizer left nothing in the working folder


def test_quantize_needs_the_onnx_backend():
    with pytest.raises(ValueError, match="needs backend='onnxruntime'"):
        TransformerTextEmbedder(quantize="dynamic").fit(["a text"])
