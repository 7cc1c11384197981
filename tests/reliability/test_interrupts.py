"""Ctrl-C during a long fit: the estimator is never left half-updated.

A real SIGINT is raised from inside a training step (Python turns it into a
KeyboardInterrupt there, as it does for a user's Ctrl-C). skorch on its own would swallow
it and return a net stopped mid-epoch; the estimators undo the call and re-raise.
"""

import signal

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from sktransfer import PretrainedImageFeaturizer
from sktransfer.finetune import FineTunedImageClassifier, FineTunedTextClassifier
from sktransfer.finetune._callbacks import TransferClassifierNet


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    index = np.r_[0:20, 100:120]
    return images[index], np.where(labels[index] == 1, "face", "other"), images[20:30]


@pytest.fixture
def ctrl_c_at_step(monkeypatch):
    """``ctrl_c_at_step(k)``: SIGINT this process during the k-th training step from now."""

    def arm(k):
        steps = []
        original = TransferClassifierNet.train_step

        def train_step(self, batch, **fit_params):
            steps.append(1)
            if len(steps) == k:
                signal.raise_signal(signal.SIGINT)
            return original(self, batch, **fit_params)

        monkeypatch.setattr(TransferClassifierNet, "train_step", train_step)
        return steps

    return arm


def _model(**params):
    return FineTunedImageClassifier(
        unfreeze=1, max_epochs=3, batch_size=8, random_state=0, progress=False, **params
    )


# skorch's early stopping also ends training with a KeyboardInterrupt: with it on, a real
# Ctrl-C must still count as one, and a stop must not.
@pytest.mark.parametrize("early_stopping", [None, 5])
def test_an_interrupted_first_fit_leaves_the_estimator_unfitted(
    faces, ctrl_c_at_step, early_stopping
):
    X, y, X_new = faces
    model = _model(early_stopping=early_stopping)
    ctrl_c_at_step(7)  # epoch 2 of 3, a middle batch
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert vars(model) == model.get_params(deep=False)  # no fitted attribute at all
    with pytest.raises(NotFittedError):
        model.predict(X_new)


def test_an_interrupted_refit_keeps_the_previous_model(faces, ctrl_c_at_step):
    X, y, X_new = faces
    model = _model().fit(X, y)
    before = model.predict_proba(X_new)
    ctrl_c_at_step(8)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(lr=1e-2).fit(X[::-1], y[::-1])
    np.testing.assert_array_equal(model.predict_proba(X_new), before)
    assert len(model.history_) == 3


def test_an_interrupted_partial_fit_keeps_the_last_completed_epoch(faces, ctrl_c_at_step):
    X, y, X_new = faces
    model = _model(scheduler=None)
    model.partial_fit(X, y).partial_fit(X, y)
    after_two = model.predict_proba(X_new)
    steps = ctrl_c_at_step(3)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, y)
    assert len(steps) == 3  # the weights had moved for two batches of the third epoch
    np.testing.assert_array_equal(model.predict_proba(X_new), after_two)
    assert len(model.history_) == len(model.net_.history) == 2
    model.partial_fit(X, y)  # the optimizer state is whole: training goes on
    assert len(model.history_) == 3 and model.score(X, y) > 0.9


def test_save_params_checkpoints_restore_an_earlier_epoch(faces, tmp_path):
    X, y, X_new = faces
    model = _model(scheduler=None).partial_fit(X, y)
    after_one = model.predict_proba(X_new)
    model.save_params(tmp_path / "epoch1.pt")
    model.partial_fit(X, y)
    assert not np.array_equal(model.predict_proba(X_new), after_one)
    model.load_params(tmp_path / "epoch1.pt")
    np.testing.assert_array_equal(model.predict_proba(X_new), after_one)


def test_ctrl_c_while_featurizing_leaves_it_unfitted_and_the_cache_whole(
    faces, tmp_path, monkeypatch
):
    X, y, _ = faces
    forward = PretrainedImageFeaturizer._forward
    calls = []

    def interrupted_forward(self, extractor, batch):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)
        return forward(self, extractor, batch)

    monkeypatch.setattr(PretrainedImageFeaturizer, "_forward", interrupted_forward)
    model = _model(cache=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert vars(model) == model.get_params(deep=False)
    assert len(list(tmp_path.rglob("*.f32"))) == 16  # the two finished batches of 8
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.setattr(PretrainedImageFeaturizer, "_forward", forward)
    assert _model(cache=tmp_path).fit(X, y).score(X, y) > 0.9


def test_ctrl_c_stops_a_grid_search_instead_of_scoring_a_half_trained_model(faces, ctrl_c_at_step):
    X, y, _ = faces
    steps = ctrl_c_at_step(4)
    search = GridSearchCV(_model(), {"lr": [1e-3, 1e-2]}, cv=2, error_score="raise")
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    assert len(steps) == 4  # nothing trained after the interrupt
    assert not hasattr(search, "cv_results_")


def test_an_interrupted_text_fit_keeps_the_previous_model(sms, ctrl_c_at_step):
    texts, labels = sms["text"].to_numpy()[:300], sms["label"].to_numpy()[:300]
    model = FineTunedTextClassifier(encoder="mean", max_epochs=2, random_state=0)
    ctrl_c_at_step(5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(texts, labels)
    assert vars(model) == model.get_params(deep=False)
    model.fit(texts, labels)
    before = model.predict_proba(texts[:20])
    ctrl_c_at_step(5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(texts[::-1], labels[::-1])
    np.testing.assert_array_equal(model.predict_proba(texts[:20]), before)
