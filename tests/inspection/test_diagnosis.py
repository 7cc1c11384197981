"""top_losses, label_issues and plot_top_losses on real faces and real SMS messages."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from sktransfer import (
    LeakageSafeKFold,
    PretrainedImageFeaturizer,
    label_issues,
    plot_top_losses,
    top_losses,
)

matplotlib.use("Agg")

FLIPPED_FACES = [3, 17, 42, 77, 120, 160, 190]


@pytest.fixture(scope="module")
def faces(lfw, tmp_path_factory):
    """The 200 LFW images, 7 of their labels flipped, and a probe whose features are cached."""
    images, labels = lfw
    given = np.where(labels == 1, "face", "other")
    given[FLIPPED_FACES] = np.where(given[FLIPPED_FACES] == "face", "other", "face")
    cache = tmp_path_factory.mktemp("features")
    probe = make_pipeline(
        PretrainedImageFeaturizer(cache=cache, progress=False), LogisticRegression(max_iter=2000)
    )
    return list(images), given, probe


@pytest.fixture(scope="module")
def messages(sms):
    """1000 real SMS messages with 5% of their labels flipped at random (seeded)."""
    texts, labels = sms["text"].to_numpy(object)[:1000], sms["label"].to_numpy(object)[:1000]
    flipped = np.random.default_rng(0).choice(len(texts), 50, replace=False)
    given = labels.copy()
    given[flipped] = np.where(labels[flipped] == "spam", "ham", "spam")
    model = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10))
    return texts, given, set(flipped.tolist()), model


def test_flipped_faces_have_the_highest_out_of_fold_losses(faces):
    X, y, probe = faces
    cv = LeakageSafeKFold(5, shuffle=True, random_state=0, method="hash")
    worst = top_losses(probe, X, y, cv=cv, k=10)
    assert set(FLIPPED_FACES) <= set(worst.index[: len(FLIPPED_FACES) + 1])
    assert list(worst.columns) == [
        "sample",
        "given_label",
        "predicted_label",
        "given_probability",
        "predicted_probability",
        "loss",
        "fold",
        "group",
    ]
    assert worst["loss"].is_monotonic_decreasing
    row = worst.loc[FLIPPED_FACES[0]]
    assert row["given_label"] == y[FLIPPED_FACES[0]] != row["predicted_label"]
    np.testing.assert_allclose(row["loss"], -np.log(row["given_probability"]))
    assert row["sample"].startswith("ndarray shape=(25, 25)")
    assert set(worst["fold"]) <= set(range(5))
    everything = top_losses(probe, X, y, cv=cv, k=None)  # features come from the cache
    assert len(everything) == 200 and sorted(everything.index) == list(range(200))


def test_label_issues_rank_the_flipped_faces_first(faces):
    X, y, probe = faces
    issues = label_issues(
        probe, X, y, cv=LeakageSafeKFold(5, shuffle=True, random_state=0, method="hash")
    )
    assert set(FLIPPED_FACES) <= set(issues.index)
    assert len(issues) <= len(FLIPPED_FACES) + 3  # few true labels flagged
    assert issues["score"].is_monotonic_increasing  # the least self-confident first
    assert (issues.loc[FLIPPED_FACES, "suggested_label"] != y[FLIPPED_FACES]).all()


def test_label_issues_find_most_flipped_sms_labels_with_any_cv(messages):
    X, y, flipped, model = messages
    issues = label_issues(model, X, y, cv=KFold(5, shuffle=True, random_state=0))
    found = set(issues.index) & flipped
    precision, recall = len(found) / len(issues), len(found) / len(flipped)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    assert "group" not in issues and "fold" in issues
    assert issues["sample"].iloc[0] == X[issues.index[0]]  # texts are shown as they are


def test_precomputed_probabilities_skip_the_cross_validation(messages):
    X, y, _, _ = messages
    proba = np.tile([0.9, 0.1], (len(y), 1))  # columns: ham, spam
    worst = top_losses(None, X, y, proba=proba, k=3)
    assert (worst["given_label"] == "spam").all() and "fold" not in worst
    np.testing.assert_allclose(worst["loss"], -np.log(0.1))
    with pytest.raises(ValueError, match=r"proba has shape \(1000, 3\)"):
        top_losses(None, X, y, proba=np.ones((1000, 3)) / 3)
    with pytest.raises(ValueError, match="Pass an estimator"):
        top_losses(None, X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        label_issues(LogisticRegression(), X[:5], ["ham"] * 5)
    with pytest.raises(ValueError, match="X has 1000 samples but y has 4"):
        top_losses(LogisticRegression(), X, y[:4])


def test_plot_top_losses_draws_a_grid_of_images_and_a_table_of_texts(faces, messages, tmp_path):
    X, y, probe = faces
    worst = top_losses(probe, X, y, cv=LeakageSafeKFold(5, method="hash"), k=6)
    figure = plot_top_losses(worst, X, path=tmp_path / "worst.png")
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == 6 and titles[0].startswith(f"#{worst.index[0]}: given")
    assert (tmp_path / "worst.png").stat().st_size > 10_000
    texts, labels, _, model = messages
    table = plot_top_losses(top_losses(model, texts, labels, cv=3, k=4), texts)
    assert len(table.axes) == 4
    empty = plot_top_losses(pd.DataFrame(columns=["given_label"]), texts)
    assert empty.axes[0].texts[0].get_text() == "Nothing to show."
