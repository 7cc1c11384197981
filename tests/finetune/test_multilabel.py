"""Multi-label targets: real MNIST digits tiled in pairs (the labels: the digits present)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV

from sktransfer import FineTunedTransformerClassifier, LeakageSafeKFold, find_duplicates
from sktransfer.finetune import FineTunedImageClassifier


@pytest.fixture(scope="module")
def pairs(mnist):
    """240 images of two real digits side by side, and the 0/1 matrix of the digits shown."""
    digits, labels = mnist
    rng = np.random.default_rng(0)
    left, right = rng.integers(0, len(digits), (2, 240))
    images = np.stack([np.hstack([digits[i], digits[j]]) for i, j in zip(left, right, strict=True)])
    present = np.zeros((240, 10), dtype=int)
    present[np.arange(240), labels[left]] = present[np.arange(240), labels[right]] = 1
    return images, present


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    return {"random_state": 0, "progress": False, "cache": tmp_path_factory.mktemp("features")}


def test_digit_pairs_are_learned_as_labels_with_one_sigmoid_each(pairs, fast):
    X, Y = pairs
    model = FineTunedImageClassifier(lr=1e-2, max_epochs=30, **fast).fit(X[:160], Y[:160])
    proba = model.predict_proba(X[160:])
    assert proba.shape == (80, 10) and not np.allclose(proba.sum(1), 1)  # not a softmax
    predicted = model.predict(X[160:])
    assert predicted.dtype.kind == "i" and set(np.unique(predicted)) <= {0, 1}
    assert f1_score(Y[160:], predicted, average="micro") >= 0.4  # chance: about 0.19
    assert model.classes_.tolist() == list(range(10))
    strict = model.set_params(threshold=0.9).predict(X[160:])
    assert strict.sum() < predicted.sum()
    assert 0 <= model.score(X[160:], Y[160:]) <= 1  # subset accuracy


def test_label_sets_name_the_labels_and_train_the_same_model(pairs, fast):
    X, Y = pairs
    names = np.array(list("abcdefghij"))
    sets = [set(names[row.astype(bool)]) for row in Y[:160]]
    by_sets = FineTunedImageClassifier(max_epochs=3, **fast).fit(X[:160], sets)
    by_matrix = FineTunedImageClassifier(max_epochs=3, **fast).fit(X[:160], Y[:160])
    assert by_sets.classes_.tolist() == list("abcdefghij")
    np.testing.assert_array_equal(by_sets.predict_proba(X[160:]), by_matrix.predict_proba(X[160:]))
    test_sets = [set(names[row.astype(bool)]) for row in Y[160:]]
    assert by_sets.score(X[160:], test_sets) == by_matrix.score(X[160:], Y[160:])


def test_the_output_bias_starts_at_the_log_odds_of_each_labels_rate(pairs, fast):
    X, Y = pairs
    model = FineTunedImageClassifier(max_epochs=1, lr=1e-9, **fast).fit(X[:160], Y[:160])
    rate = Y[:160].mean(0)
    bias = model.net_.module_.head[-1].bias.detach().cpu().numpy()
    np.testing.assert_allclose(bias, np.log(rate / (1 - rate)), atol=1e-4)  # lr 1e-9: unmoved


def test_leakage_safe_search_over_multilabel_targets_keeps_copies_together(pairs, fast):
    X, Y = pairs
    X = np.concatenate([X[:60], X[:12]])  # 12 exact copies
    Y = np.concatenate([Y[:60], Y[:12]])
    groups = find_duplicates(list(X), method="hash")
    cv = LeakageSafeKFold(3, method="hash")
    for train, test in cv.split(list(X), Y):
        assert not set(groups[train]) & set(groups[test])
    search = GridSearchCV(
        FineTunedImageClassifier(max_epochs=2, **fast),
        {"lr": [1e-3, 1e-2]},
        cv=cv,
        scoring="f1_micro",
    ).fit(list(X), Y)
    assert search.predict(list(X[:3])).shape == (3, 10)


def test_multilabel_text_targets_with_the_transformer(sms):
    """Two labels per real message: spam, and longer than 15 words."""
    texts = sms["text"].to_numpy(object)[:300]
    spam = sms["label"].to_numpy()[:300] == "spam"
    Y = np.stack([spam, [len(t.split()) > 15 for t in texts]], 1).astype(int)
    model = FineTunedTransformerClassifier(unfreeze=1, random_state=0, progress=False)
    model.fit(texts[:200], Y[:200])
    assert f1_score(Y[200:], model.predict(texts[200:]), average="micro") >= 0.65


def test_bad_multilabel_targets_are_named(pairs, fast):
    X, Y = pairs
    Y = Y[:40].copy()
    Y[:, 3] = 0
    with pytest.raises(ValueError, match=r"Labels 3 \(never\) apply to every sample or to none"):
        FineTunedImageClassifier(**fast).fit(X[:40], Y)
    Y[:, 3] = 1
    with pytest.raises(ValueError, match=r"3 \(always\)"):
        FineTunedImageClassifier(**fast).fit(X[:40], Y)
    with pytest.raises(ValueError, match="only 0 and 1"):
        FineTunedImageClassifier(**fast).fit(X[:40], Y * 2)
    with pytest.raises(ValueError, match="class_weight applies to single-label targets"):
        FineTunedImageClassifier(class_weight="balanced", **fast).fit(X[:40], pairs[1][:40])
    with pytest.raises(ValueError, match="label_smoothing applies to single-label"):
        FineTunedImageClassifier(label_smoothing=0.1, **fast).fit(X[:40], pairs[1][:40])
    model = FineTunedImageClassifier(max_epochs=1, **fast).fit(X[:40], [{"a"}, {"b", "c"}] * 20)
    with pytest.raises(ValueError, match=r"labels not seen in the first fit: \['z'\]"):
        model.partial_fit(X[:2], [{"a"}, {"z"}])
    with pytest.raises(ValueError, match="fitted on multi-label targets; y is not"):
        model.partial_fit(X[:2], ["a", "b"])
