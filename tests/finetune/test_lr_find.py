"""lr_find: the learning-rate range test on real faces and real SMS messages."""

import matplotlib
import numpy as np
import pytest

from sktransfer import FineTunedTransformerClassifier, SktransferWarning
from sktransfer.finetune import FineTunedImageClassifier, FineTunedImageRegressor, lr_find

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    return list(images), np.where(labels == 1, "face", "other")


def test_the_sweep_rises_exponentially_and_suggests_the_steepest_fall(
    faces, tmp_path, forward_batches
):
    X, y = faces
    model = FineTunedImageClassifier(unfreeze=1, cache=tmp_path, random_state=0, progress=False)
    found = lr_find(model, X, y, start_lr=1e-5, end_lr=1.0, num_iter=60)
    assert len(found.lrs) == 60 or found.diverged
    np.testing.assert_allclose(np.diff(np.log(found.lrs)), np.log(1e5) / 59)
    lowest = int(np.argmin(found.losses))
    assert found.lr_min == pytest.approx(found.lrs[lowest] / 10)
    # the suggestion: the steepest fall of the loss per decade, before its lowest point
    slope = np.diff(found.losses[: lowest + 1]) / np.diff(np.log(found.lrs[: lowest + 1]))
    at = int(np.flatnonzero(found.lrs == found.suggestion)[0])
    assert at < lowest
    assert min(slope[max(at - 1, 0) : at + 1]) <= np.quantile(slope, 0.1)
    assert found.losses.min() < 0.5 * found.losses[0]  # it did learn
    assert 1e-4 <= found.suggestion <= 1e-1
    assert not hasattr(model, "net_")  # the estimator given is left as it was
    forward_batches.clear()
    model.set_params(lr=found.suggestion, max_epochs=3).fit(X[::2], y[::2])
    assert forward_batches == []  # its fit reads the sweep's frozen activations back
    assert model.score(X[1::2], y[1::2]) >= 0.95


def test_the_plot_marks_the_suggestion_and_lr_min(faces):
    X, y = faces
    found = lr_find(FineTunedImageClassifier(random_state=0, progress=False), X, y, num_iter=20)
    ax = found.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 3
    assert ax.lines[1].get_xdata()[0] == found.suggestion
    assert ax.lines[2].get_xdata()[0] == found.lr_min


def test_regressors_and_transformers_sweep_too(faces, sms):
    X, _ = faces
    target = np.array([np.asarray(x).mean() for x in X])
    regressor = FineTunedImageRegressor(random_state=0, progress=False)
    assert lr_find(regressor, X, (target - target.mean()) / target.std(), num_iter=20).lrs.size
    texts, labels = sms["text"].to_numpy(object)[:200], sms["label"].to_numpy(object)[:200]
    transformer = FineTunedTransformerClassifier(unfreeze=1, random_state=0, progress=False)
    found = lr_find(transformer, texts, labels, num_iter=15, end_lr=1e-1)
    assert found.diverged and len(found.lrs) >= 10  # the transformer layer blows up by 0.1
    assert 1e-5 < found.suggestion < 1e-2


def test_a_sweep_that_starts_too_high_warns_and_bad_bounds_are_refused(faces):
    X, y = faces
    model = FineTunedImageClassifier(random_state=0, progress=False)
    with pytest.warns(SktransferWarning, match="pass a smaller start_lr"):
        found = lr_find(model, X, y, start_lr=1e3, end_lr=1e6, num_iter=10)
    assert found.suggestion == found.lr_min == pytest.approx(100.0)
    with pytest.raises(ValueError, match="must be above start_lr"):
        lr_find(model, X, y, start_lr=1e-2, end_lr=1e-3)
