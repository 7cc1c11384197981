import pickle

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sktransfer.finetune import FineTunedTextClassifier
from sktransfer.model_selection import LeakageSafeKFold
from sktransfer.text import load_vectors, tokenize

QUICK = {"encoder": "mean", "max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def messages(sms):
    """800 real SMS messages for training and 400 others for testing."""
    texts, labels = sms["text"].to_numpy(object), sms["label"].to_numpy(object)
    return texts[:800], labels[:800], texts[800:1200], labels[800:1200]


@pytest.fixture(scope="module")
def cnn(messages):
    X, y, _, _ = messages
    return FineTunedTextClassifier(encoder="cnn", max_epochs=10, lr=3e-3, random_state=0).fit(X, y)


def test_cnn_on_fine_tuned_glove_separates_real_spam(cnn, messages):
    _, _, X_test, y_test = messages
    assert cnn.classes_.tolist() == ["ham", "spam"]
    assert cnn.score(X_test, y_test) >= 0.95
    proba = cnn.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-6)


def test_embedding_holds_the_training_vocabulary_initialised_from_glove(cnn, messages, glove):
    X, _, _, _ = messages
    weight = cnn.net_.module_.embedding.weight.detach().cpu()
    assert weight.shape == (len(cnn.vocabulary_) + 2, 50)
    tokens = [t for text in X for t in tokenize(text.lower())[: cnn.max_length]]  # those read
    covered = np.mean([t in glove.key_to_index for t in tokens])
    assert cnn.coverage_ == pytest.approx(covered)


def test_frozen_embeddings_stay_bit_identical_and_unfrozen_ones_move(messages):
    X, y, _, _ = messages
    glove = load_vectors()
    frozen = FineTunedTextClassifier(freeze_embeddings=True, **QUICK).fit(X, y)
    moving = FineTunedTextClassifier(freeze_embeddings=False, **QUICK).fit(X, y)
    for model, changed in [(frozen, False), (moving, True)]:
        row = model.vocabulary_["free"]
        weight = model.net_.module_.embedding.weight[row].detach().cpu().numpy()
        assert np.array_equal(weight, glove["free"]) is not changed
    assert frozen.net_.module_.embedding.weight.grad is None


def test_embeddings_frozen_for_some_epochs_then_fine_tuned(messages):
    X, y, _, _ = messages
    model = FineTunedTextClassifier(freeze_embeddings=2, **{**QUICK, "max_epochs": 4}).fit(X, y)
    assert model.history_[:, "embeddings_frozen"] == [True, True, False, False]
    row = model.vocabulary_["free"]
    weight = model.net_.module_.embedding.weight[row].detach().cpu().numpy()
    assert not np.array_equal(weight, load_vectors()["free"])


def test_unknown_words_and_empty_texts_at_predict_time(cnn):
    odd = ["", "   ", "qwzxv blorptastic", None, "FREE entry!! text WIN now"]
    assert cnn.predict(odd).shape == (5,)
    assert np.isfinite(cnn.predict_proba(odd)).all()


@pytest.mark.parametrize("encoder", ["cnn", "bilstm", "mean"])
def test_a_text_scores_the_same_alone_and_beside_longer_texts(encoder, cnn, messages):
    X, y, X_test, _ = messages
    model = cnn if encoder == "cnn" else FineTunedTextClassifier(**{**QUICK, "encoder": encoder})
    if encoder != "cnn":
        model.fit(X[:200], y[:200])
    together = model.predict_proba(X_test[:30])  # padded to the longest of the 30
    alone = np.vstack([model.predict_proba([text]) for text in X_test[:30]])
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_pickle_is_small_and_predicts_identically(cnn, messages):
    _, _, X_test, _ = messages
    blob = pickle.dumps(cnn)
    assert len(blob) < 5_000_000  # the training vocabulary, not the 400k x 50 matrix (80 MB)
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict_proba(X_test), cnn.predict_proba(X_test))


def test_grid_search_over_encoder_and_freezing(messages):
    X, y, _, _ = messages
    search = GridSearchCV(
        FineTunedTextClassifier(max_epochs=6, lr=1e-2, random_state=0),
        {"encoder": ["mean", "cnn"], "freeze_embeddings": [True, False]},
        cv=LeakageSafeKFold(2, kind="text"),
    ).fit(X[:300], y[:300])
    # 150 messages per fold only check the mechanics: four candidates, all above chance
    assert len(search.cv_results_["params"]) == 4
    assert search.cv_results_["mean_test_score"].min() > 0.8
    assert search.predict(["win a free prize"]).tolist()[0] in ("ham", "spam")


def test_bilstm_trains_and_early_stopping_restores_the_best(messages):
    X, y, X_test, y_test = messages
    model = FineTunedTextClassifier(
        encoder="bilstm", max_epochs=20, early_stopping=2, random_state=0
    ).fit(X[:400], y[:400])
    assert "valid_loss" in model.history_[-1] and len(model.history_) <= 20
    assert model.score(X_test, y_test) >= 0.9
    assert torch.isfinite(model.net_.module_.head.weight).all()
