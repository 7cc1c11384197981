"""Test-time augmentation in the fine-tuners' predictions, on real faces."""

import numpy as np
import pytest

from sktransfer.finetune import FineTunedImageClassifier, FineTunedImageRegressor


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    return list(images), np.where(labels == 1, "face", "other")


def test_probabilities_are_averaged_over_the_views_each_cached(faces, tmp_path, forward_batches):
    X, y = faces
    model = FineTunedImageClassifier(unfreeze=1, max_epochs=3, cache=tmp_path, random_state=0)
    model.set_params(progress=False).fit(X[::2], y[::2])
    plain = model.predict_proba(X[1::2])
    mirrored = model.set_params(tta=["hflip"]).predict_proba(X[1::2])
    forward_batches.clear()
    averaged = model.set_params(tta="flip").predict_proba(X[1::2])
    assert forward_batches == []  # both views' frozen activations came from the cache
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, atol=1e-6)
    assert np.abs(mirrored - plain).max() > 1e-3  # the mirrored faces are another input
    assert model.score(X[1::2], y[1::2]) >= 0.95
    five = model.set_params(tta="five_crop").predict(X[1::4])
    assert np.mean(five == y[1::4]) >= 0.95


def test_a_network_trained_whole_averages_its_views_too(faces):
    X, y = faces
    model = FineTunedImageClassifier(unfreeze="all", max_epochs=1, random_state=0, progress=False)
    model.fit(X[::10], y[::10])
    plain = model.predict_proba(X[:8])
    mirrored = model.set_params(tta=["hflip"]).predict_proba(X[:8])
    averaged = model.set_params(tta="flip").predict_proba(X[:8])
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, atol=1e-5)
    assert model.featurizer_ is None and np.abs(mirrored - plain).max() > 1e-4


def test_regressors_average_predictions_and_bad_views_fail_before_training(faces):
    X, _ = faces
    target = np.array([np.asarray(x).mean() for x in X])
    target = (target - target.mean()) / target.std()
    model = FineTunedImageRegressor(max_epochs=3, random_state=0, progress=False)
    model.fit(X[::2], target[::2])
    plain = model.predict(X[1::2])
    mirrored = model.set_params(tta=["hflip"]).predict(X[1::2])
    np.testing.assert_allclose(
        model.set_params(tta="flip").predict(X[1::2]), (plain + mirrored) / 2, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"tta\[0\]='upside_down'"):
        FineTunedImageRegressor(tta=["upside_down"], progress=False).fit(X[:10], target[:10])
