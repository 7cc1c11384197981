"""Estimators given wrong inputs fail the way sklearn estimators do, before any training.

Every estimator that learns from labels, and the two pipelines users build from the
transformers, get the same cases: predict before fit, mismatched lengths, one class,
mixed label types, labels outside the fitted classes, an empty training set, a 2-D y.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer, Word2VecEmbedder
from sktransfer.finetune import (
    FineTunedImageClassifier,
    FineTunedImageRegressor,
    FineTunedTextClassifier,
)

FAST = {"max_epochs": 1, "random_state": 0}
IMAGE_MODELS = {
    "FineTunedImageClassifier": lambda: FineTunedImageClassifier(progress=False, **FAST),
    "featurizer + LogisticRegression": lambda: make_pipeline(
        PretrainedImageFeaturizer(progress=False), LogisticRegression()
    ),
}
TEXT_MODELS = {
    "FineTunedTextClassifier": lambda: FineTunedTextClassifier(encoder="mean", **FAST),
    "embedder + LogisticRegression": lambda: make_pipeline(
        Word2VecEmbedder(), LogisticRegression()
    ),
}


@pytest.fixture(scope="module")
def data(lfw, sms):
    images, labels = lfw
    index = np.r_[0:6, 100:106]
    texts = sms["text"].to_numpy()[:12]
    return {
        "image": (images[index], np.where(labels[index] == 1, "face", "other")),
        "text": (texts, np.array(["ham", "spam"] * 6)),
    }


def _cases(X, y):
    """(name, call(model), expected exception, message pattern)."""
    return [
        ("predict before fit", lambda m: m.predict(X), NotFittedError, "not fitted"),
        ("X longer than y", lambda m: m.fit(X, y[:-1]), ValueError, "inconsistent|12 samples"),
        ("y longer than X", lambda m: m.fit(X[:-1], y), ValueError, "inconsistent|11 samples"),
        ("a single class", lambda m: m.fit(X, np.full(len(y), "ham")), ValueError, "class"),
        (
            "numbers and strings mixed in y",
            lambda m: m.fit(X, np.array([1, "a"] * (len(y) // 2), dtype=object)),
            ValueError,
            "Mix of label input types|Unknown label type",
        ),
        ("continuous y", lambda m: m.fit(X, np.linspace(0, 1, len(y))), ValueError, "continuous"),
        (
            "an empty training set",
            lambda m: m.fit(X[:0], y[:0]),
            ValueError,
            "0 sample|at least one text",
        ),
        ("a 2-D y of two columns", lambda m: m.fit(X, np.c_[y, y]), ValueError, "shape|1d"),
    ]


def _params(models, kind):
    return [
        pytest.param(kind, name, case, id=f"{name}: {case}")
        for name in models
        for case, *_ in _cases(np.zeros(12), np.array(["a", "b"] * 6))
    ]


@pytest.mark.parametrize(
    ("kind", "name", "case"),
    _params(IMAGE_MODELS, "image") + _params(TEXT_MODELS, "text"),
)
def test_wrong_inputs_get_sklearn_style_errors(data, kind, name, case):
    X, y = data[kind]
    model = {**IMAGE_MODELS, **TEXT_MODELS}[name]()
    [(_, call, error, pattern)] = [c for c in _cases(X, y) if c[0] == case]
    with pytest.raises(error, match=pattern):
        call(model)


@pytest.mark.parametrize("name", ["FineTunedImageClassifier", "FineTunedTextClassifier"])
def test_labels_outside_the_fitted_classes(data, name):
    kind = "image" if "Image" in name else "text"
    X, y = data[kind]
    model = {**IMAGE_MODELS, **TEXT_MODELS}[name]().fit(X, y)
    assert set(model.predict(X)) <= set(y)  # predictions are always fitted classes
    unseen = y.copy()
    unseen[:3] = "cat"
    assert model.score(X, unseen) <= 1 - 3 / len(y)  # sklearn's accuracy: never right
    if name == "FineTunedImageClassifier":
        with pytest.raises(ValueError, match=r"labels not seen in the first fit: \['cat'\]"):
            model.partial_fit(X, unseen)


def test_the_regressor_refuses_missing_and_text_targets(data):
    X, _ = data["image"]
    model = FineTunedImageRegressor(progress=False, **FAST)
    with pytest.raises(NotFittedError):
        model.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, np.r_[np.nan, np.ones(len(X) - 1)])
    with pytest.raises(ValueError, match="could not convert|string"):
        model.fit(X, np.array(["a"] * len(X)))
    with pytest.raises(ValueError, match="12 samples but y has 11"):
        model.fit(X, np.ones(len(X) - 1))
    with pytest.raises(ValueError, match="Found 0 samples"):
        model.fit(X[:0], np.ones(0))
    assert vars(model) == model.get_params(deep=False)  # failed fits leave nothing behind
