import pickle

import numpy as np
import pytest

from sktransfer.finetune import FineTunedImageRegressor


@pytest.fixture(scope="module")
def digits_and_ink(mnist):
    """300 real MNIST digits with two continuous targets: ink fraction and ink width."""
    images = mnist[0][:300]
    ink = (images > 127).mean(axis=(1, 2))
    columns = (images > 127).any(axis=1)
    width = columns.sum(1) / 28
    targets = np.stack([ink, width], axis=1)
    return images, (targets - targets.mean(0)) / targets.std(0)


def test_regressor_learns_a_continuous_target_from_real_digits(digits_and_ink):
    images, targets = digits_and_ink
    model = FineTunedImageRegressor(unfreeze=1, max_epochs=10, random_state=0, progress=False)
    model.fit(images[:200], targets[:200, 0])
    prediction = model.predict(images[200:])
    assert prediction.shape == (100,) and model.n_outputs_ == 1
    assert model.score(images[200:], targets[200:, 0]) >= 0.7
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(images[200:]), prediction)


def test_two_targets_at_once_and_early_stopping(digits_and_ink):
    images, targets = digits_and_ink
    model = FineTunedImageRegressor(
        max_epochs=30, early_stopping=3, random_state=0, progress=False
    ).fit(images[:200], targets[:200])
    assert model.predict(images[200:]).shape == (100, 2) and model.n_outputs_ == 2
    assert "valid_loss" in model.history_[-1]
    assert model.score(images[200:], targets[200:]) >= 0.5


def test_label_smoothing_is_refused_for_regression(digits_and_ink):
    images, targets = digits_and_ink
    with pytest.raises(ValueError, match="label_smoothing applies to classifiers"):
        FineTunedImageRegressor(label_smoothing=0.1, progress=False).fit(
            images[:10], targets[:10, 0]
        )
