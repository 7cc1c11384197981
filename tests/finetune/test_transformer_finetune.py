"""FineTunedTransformerClassifier/Regressor: the real all-MiniLM-L6-v2 weights, real SMS."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sktransfer import (
    FineTunedTransformerClassifier,
    FineTunedTransformerRegressor,
    LeakageSafeKFold,
    io,
)
from sktransfer._shared_backbones import shared_transformer
from sktransfer.text import _transformer as embedder_module
from sktransfer.text import load_transformer

QUICK = {"max_epochs": 2, "random_state": 0, "progress": False}


@pytest.fixture(scope="module")
def messages(sms):
    """600 real SMS messages for training and 400 others for testing."""
    texts, labels = sms["text"].to_numpy(object), sms["label"].to_numpy(object)
    return texts[:600], labels[:600], texts[600:1000], labels[600:1000]


@pytest.fixture(scope="module")
def tuned(messages):
    X, y, _, _ = messages
    return FineTunedTransformerClassifier(unfreeze=2, **QUICK).fit(X, y)


def test_fine_tuning_beats_the_frozen_head_on_real_spam(tuned, messages):
    X, y, X_test, y_test = messages
    head_only = FineTunedTransformerClassifier(unfreeze=0, **QUICK).fit(X, y)
    always_ham = np.mean(y_test == "ham")
    assert tuned.classes_.tolist() == ["ham", "spam"]
    assert tuned.score(X_test, y_test) >= 0.97
    assert tuned.score(X_test, y_test) > head_only.score(X_test, y_test) > always_ham
    np.testing.assert_allclose(tuned.predict_proba(X_test).sum(1), 1, atol=1e-6)


def test_only_the_top_layers_train_and_the_pretrained_model_is_untouched(tuned):
    _, encoder = shared_transformer("all-MiniLM-L6-v2")
    module = tuned.net_.module_
    assert tuned.trainable_groups_ == ["layer.4", "layer.5"]
    assert tuned.featurizer_.layer_ == 4
    assert len(module.transformer.encoder.layer) == 2  # the frozen layers are not there
    trained = module.transformer.encoder.layer[1].output.dense.weight.detach().cpu()
    pretrained = encoder.encoder.layer[5].output.dense.weight.detach().cpu()
    assert not torch.equal(trained, pretrained)
    _, original = load_transformer()  # a fresh copy from disk: the shared one is unchanged
    for name, value in original.state_dict().items():
        assert torch.equal(value, encoder.state_dict()[name]), name


def test_layer_wise_learning_rates_and_the_head_rate(tuned):
    groups = tuned.net_.optimizer_.param_groups
    rates = sorted({round(g["initial_lr"], 12) for g in groups})
    assert rates == [round(2e-4 * 0.9, 12), 2e-4, 1e-2]  # layer 4, layer 5, head


def test_refits_with_one_seed_are_bit_identical(messages):
    X, y, X_test, _ = messages
    first = FineTunedTransformerClassifier(unfreeze=1, **QUICK).fit(X[:200], y[:200])
    second = clone(first).fit(X[:200], y[:200])
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))


def test_the_frozen_layers_cache_is_hit_on_refits(messages, tmp_path, monkeypatch):
    X, y, X_test, _ = messages
    cold = FineTunedTransformerClassifier(unfreeze=1, cache=tmp_path, **QUICK).fit(X, y)
    calls = []
    embed = embedder_module.TransformerTextEmbedder._embed
    monkeypatch.setattr(
        embedder_module.TransformerTextEmbedder,
        "_embed",
        lambda self, *a, **k: calls.append(len(a[1]["input_ids"])) or embed(self, *a, **k),
    )
    warm = clone(cold).fit(X, y)
    assert calls == []  # every text's frozen states read back from the cache
    np.testing.assert_array_equal(warm.predict_proba(X_test[:50]), cold.predict_proba(X_test[:50]))
    assert calls == [32, 18]  # new texts: computed once, in two batches, for both models


def test_a_text_scores_the_same_alone_and_beside_longer_texts(tuned, messages):
    _, _, X_test, _ = messages
    together = tuned.predict_proba(X_test[:20])
    alone = np.vstack([tuned.predict_proba([text]) for text in X_test[:20]])
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_odd_texts_get_defined_predictions_and_bad_objects_name_their_index(tuned):
    odd = ["", "   ", None, np.nan, "🎉🎉 WIN 免费 приз now!!!", "word " * 5000, b"caf\xc3\xa9"]
    proba = tuned.predict_proba(odd)
    assert proba.shape == (len(odd), 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba[0], proba[2])  # missing is the empty text
    with pytest.raises(TypeError, match="Text 1 is a dict"):
        tuned.predict(["fine", {"not": "a text"}])


def test_pickle_and_skops_round_trips_predict_identically(tuned, messages, tmp_path):
    _, _, X_test, _ = messages
    expected = tuned.predict_proba(X_test[:30])
    blob = pickle.dumps(tuned)
    assert len(blob) < 20_000_000  # two layers and a head, not the whole model
    np.testing.assert_array_equal(pickle.loads(blob).predict_proba(X_test[:30]), expected)
    path = tmp_path / "model.skops"
    io.save(tuned, path)
    np.testing.assert_array_equal(io.load(path).predict_proba(X_test[:30]), expected)


def test_partial_fit_trains_one_epoch_per_call(messages):
    X, y, _, _ = messages
    model = FineTunedTransformerClassifier(unfreeze=1, **QUICK)
    model.partial_fit(X[:100], y[:100], classes=["ham", "spam"])
    model.partial_fit(X[100:200], y[100:200])
    assert len(model.history_) == 2


def test_class_weight_balanced_weighs_the_rare_class_up(messages):
    X, y, _, _ = messages
    model = FineTunedTransformerClassifier(
        unfreeze=0, class_weight="balanced", max_epochs=1, random_state=0, progress=False
    ).fit(X, y)
    counts = np.array([np.sum(y == "ham"), np.sum(y == "spam")])
    expected = len(y) / (2 * counts)
    np.testing.assert_allclose(model._class_weights, expected, rtol=1e-6)


def test_gradual_unfreezing_adds_one_layer_at_a_time(messages):
    X, y, _, _ = messages
    model = FineTunedTransformerClassifier(
        unfreeze=2, gradual_unfreeze=1, max_epochs=3, random_state=0, progress=False
    ).fit(X[:150], y[:150])
    assert model.history_[:, "trainable_groups"] == [0, 1, 2]


def test_unfreezing_all_trains_the_embeddings_from_token_ids(messages):
    X, y, X_test, _ = messages
    model = FineTunedTransformerClassifier(unfreeze="all", max_epochs=1, random_state=0)
    model.set_params(progress=False).fit(X[:64], y[:64])
    assert model.trainable_groups_[0] == "embeddings" and len(model.trainable_groups_) == 7
    assert model.predict_proba(X_test[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="unfreeze=7 exceeds the 6 layers"):
        FineTunedTransformerClassifier(unfreeze=7).fit(X[:10], y[:10])


def test_an_interrupted_fit_leaves_the_fitted_model_as_it_was(tuned, messages, monkeypatch):
    X, y, X_test, _ = messages
    model = pickle.loads(pickle.dumps(tuned))
    before = model.predict_proba(X_test[:10])

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(model.net_), "train_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:50], y[:50])
    np.testing.assert_array_equal(model.predict_proba(X_test[:10]), before)


def test_a_text_column_beside_a_categorical_column(messages):
    X, y, X_test, _ = messages
    frame = pd.DataFrame({"text": X[:200], "hour": np.where(np.arange(200) % 2, "am", "pm")})
    encode = ColumnTransformer(
        [("words", "passthrough", ["text"]), ("hour", OneHotEncoder(), ["hour"])]
    )
    assert encode.fit_transform(frame).shape == (200, 3)
    model = make_pipeline(FineTunedTransformerClassifier(unfreeze=1, **QUICK))
    model.fit(frame[["text"]], y[:200])
    assert model.predict(pd.DataFrame({"text": X_test[:5]})).shape == (5,)


def test_regressor_learns_how_long_a_message_is(messages):
    X, _, X_test, _ = messages
    words = np.log([len(t.split()) for t in np.r_[X, X_test]])
    target = (words - words.mean()) / words.std()
    model = FineTunedTransformerRegressor(unfreeze=1, max_epochs=3, random_state=0, progress=False)
    model.fit(X, target[: len(X)])
    assert model.score(X_test, target[len(X) :]) > 0.7
    with pytest.raises(ValueError, match="class_weight applies to classifiers"):
        FineTunedTransformerRegressor(class_weight="balanced").fit(X[:5], target[:5])


@pytest.mark.slow
def test_grid_search_over_unfreeze_with_leakage_safe_folds(messages, tmp_path):
    X, y, X_test, y_test = messages
    search = GridSearchCV(
        FineTunedTransformerClassifier(cache=tmp_path, **QUICK),
        {"unfreeze": [0, 1]},
        cv=LeakageSafeKFold(3),
    ).fit(X[:300], y[:300])
    assert search.best_params_["unfreeze"] == 1
    assert search.score(X_test, y_test) > 0.9 > np.mean(y_test == "ham")
