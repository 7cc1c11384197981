"""sample_weight and class_weight in every fine-tuner: real faces, digits and SMS."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sktransfer import FineTunedTransformerClassifier
from sktransfer.finetune import (
    FineTunedImageClassifier,
    FineTunedImageRegressor,
    FineTunedTextClassifier,
)
from sktransfer.finetune._weights import weighted_loss
from sktransfer.model_selection import LeakageSafeKFold


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """Quick settings; the frozen features of the faces are computed once for the module."""
    return {
        "max_epochs": 5,
        "random_state": 0,
        "progress": False,
        "cache": tmp_path_factory.mktemp("features"),
    }


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    order = np.random.default_rng(0).permutation(len(images))
    images, names = images[order], np.where(labels[order] == 1, "face", "other")
    return images[:100], names[:100], images[100:], names[100:]


@pytest.fixture(scope="module")
def messages(sms):
    texts, labels = sms["text"].to_numpy(object), sms["label"].to_numpy(object)
    return texts[:300], labels[:300], texts[300:600], labels[300:600]


@pytest.mark.parametrize(
    ("criterion", "y_pred", "y_true"),
    [
        (torch.nn.CrossEntropyLoss(label_smoothing=0.1), torch.randn(6, 3), torch.arange(6) % 3),
        (torch.nn.MSELoss(), torch.randn(6, 2), torch.randn(6, 2)),
    ],
)
def test_the_weighted_loss_weighs_each_sample_and_restores_the_reduction(criterion, y_pred, y_true):
    weights = torch.tensor([0.0, 1.0, 2.0, 0.5, 1.0, 3.0])
    per_sample = torch.stack(
        [criterion(y_pred[i : i + 1], y_true[i : i + 1]) for i in range(6)]
    )  # each a mean over the sample's outputs
    expected = (per_sample * weights).mean()
    torch.testing.assert_close(weighted_loss(criterion, y_pred, y_true, weights), expected)
    assert criterion.reduction == "mean"
    ones = torch.ones(6)
    torch.testing.assert_close(
        weighted_loss(criterion, y_pred, y_true, ones), criterion(y_pred, y_true)
    )


def test_a_class_of_weight_zero_is_never_learned(faces, fast):
    X, y, X_test, _ = faces
    weights = (y == "face").astype(float)
    model = FineTunedImageClassifier(lr=1e-2, **fast).fit(X, y, sample_weight=weights)
    assert set(model.predict(X_test)) == {"face"}
    plain = FineTunedImageClassifier(lr=1e-2, **fast).fit(X, y)
    assert set(plain.predict(X_test)) == {"face", "other"}


def test_class_weight_is_the_same_as_its_sample_weights(faces, fast):
    X, y, X_test, _ = faces
    by_class = FineTunedImageClassifier(class_weight={"face": 3.0, "other": 0.5}, **fast)
    by_sample = FineTunedImageClassifier(**fast)
    by_class.fit(X, y)
    by_sample.fit(X, y, sample_weight=np.where(y == "face", 3.0, 0.5))
    np.testing.assert_array_equal(by_class.predict_proba(X_test), by_sample.predict_proba(X_test))


def test_unit_weights_train_the_unweighted_model(faces, fast):
    X, y, X_test, _ = faces
    plain = FineTunedImageClassifier(**fast).fit(X, y)
    ones = FineTunedImageClassifier(**fast).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(ones.predict_proba(X_test), plain.predict_proba(X_test), atol=1e-5)


def test_balanced_class_weight_lifts_the_rare_class_of_real_faces(faces, fast):
    X, y, X_test, y_test = faces
    rare = np.flatnonzero(y == "other")[:5]  # 1 "other" for about 10 faces
    keep = np.concatenate([np.flatnonzero(y == "face"), rare])
    recall = {}
    for class_weight in (None, "balanced"):
        model = FineTunedImageClassifier(class_weight=class_weight, **fast)
        model.fit(X[keep], y[keep])
        recall[class_weight] = np.mean(model.predict(X_test[y_test == "other"]) == "other")
    counts = np.array([np.sum(y[keep] == "face"), len(rare)])
    np.testing.assert_allclose(model._class_weights, len(keep) / (2 * counts))
    assert recall["balanced"] > recall[None] + 0.2


def test_weights_follow_mixup_early_stopping_partial_fit_and_the_search(faces, fast):
    X, y, X_test, _ = faces
    weights = (y == "face").astype(float)
    mixed = FineTunedImageClassifier(mixup=0.4, lr=1e-2, **fast).fit(X, y, sample_weight=weights)
    assert set(mixed.predict(X_test)) == {"face"}  # the partner's zero weight holds too
    stopping = FineTunedImageClassifier(early_stopping=2, class_weight="balanced", **fast)
    stopping.fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    assert "valid_acc" in stopping.history_[-1] and stopping.score(X_test, faces[3]) > 0.9
    stopping.partial_fit(X[:20], y[:20], sample_weight=np.ones(20))
    search = GridSearchCV(
        FineTunedImageClassifier(**fast), {"lr": [1e-2]}, cv=LeakageSafeKFold(2, method="hash")
    )
    search.fit(X, y, sample_weight=weights)  # sliced per fold by sklearn
    assert set(search.predict(X_test)) == {"face"}


def test_zero_weights_shield_a_regressor_from_corrupt_targets(mnist, fast):
    images = mnist[0][:300]
    ink = (images > 127).mean(axis=(1, 2))
    ink = (ink - ink.mean()) / ink.std()
    corrupt = ink[:200].copy()
    corrupt[::3] = 50.0  # one target in three is garbage
    weights = np.where(np.arange(200) % 3 == 0, 0.0, 1.0)
    options = {**fast, "unfreeze": 1, "max_epochs": 10}
    shielded = FineTunedImageRegressor(**options).fit(images[:200], corrupt, sample_weight=weights)
    exposed = FineTunedImageRegressor(**options).fit(images[:200], corrupt)
    assert shielded.score(images[200:], ink[200:]) >= 0.6 > exposed.score(images[200:], ink[200:])


def test_text_fine_tuners_take_weights(messages):
    X, y, X_test, _ = messages
    weights = (y == "ham").astype(float)
    glove = FineTunedTextClassifier(encoder="mean", max_epochs=5, lr=1e-2, random_state=0)
    assert set(glove.fit(X, y, sample_weight=weights).predict(X_test)) == {"ham"}
    states = FineTunedTransformerClassifier(
        unfreeze=1, max_epochs=1, random_state=0, progress=False
    )
    states.fit(X, y, sample_weight=weights)  # token states, padded per batch
    assert set(states.predict(X_test)) == {"ham"}


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(100,\)"),
        (-np.ones(100), "Negative values"),
        (np.zeros(100), "at least one non-zero"),
    ],
)
def test_bad_sample_weights_are_refused_before_training(faces, sample_weight, message, fast):
    X, y, _, _ = faces
    model = FineTunedImageClassifier(**fast)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=sample_weight)
    assert not hasattr(model, "net_")


def test_class_weight_names_unknown_labels_and_stays_off_regressors(faces, fast):
    X, y, _, _ = faces
    with pytest.raises(ValueError, match=r"not classes: \['fase'\]"):
        FineTunedImageClassifier(class_weight={"fase": 2.0}, **fast).fit(X, y)
    with pytest.raises(ValueError, match="class_weight applies to classifiers"):
        FineTunedImageRegressor(class_weight="balanced").fit(X[:5], np.zeros(5))
