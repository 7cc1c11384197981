"""Safe persistence: skops files that round-trip every estimator and fail closed."""

import importlib
import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer, Word2VecEmbedder, io
from sktransfer.exceptions import UntrustedTypesError
from sktransfer.finetune import FineTunedImageClassifier, FineTunedTextClassifier

SPAM = ["win a free prize now", "call now to claim cash", "free entry win cash"] * 4
HAM = ["see you at lunch", "ok i am on my way home", "what time is the meeting"] * 4


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    order = np.random.default_rng(1).permutation(len(images))[:48]
    return images[order], np.where(labels[order] == 1, "face", "other")


def _round_trip(model, tmp_path):
    path = tmp_path / "model.skops"
    io.save(model, path)
    return io.load(path)


def test_a_fine_tuned_image_classifier_round_trips_with_identical_probabilities(faces, tmp_path):
    images, labels = faces
    model = FineTunedImageClassifier(unfreeze=1, max_epochs=2, random_state=0, progress=False)
    model.fit(images, labels)
    restored = _round_trip(model, tmp_path)
    np.testing.assert_array_equal(restored.predict_proba(images), model.predict_proba(images))
    assert restored.history_[:, "train_loss"] == model.history_[:, "train_loss"]
    # the file holds the trained top, not the 13 MB pretrained backbone
    assert (tmp_path / "model.skops").stat().st_size < 3e6


def test_an_augmented_model_and_a_text_model_round_trip(faces, tmp_path):
    images, labels = faces
    augmented = FineTunedImageClassifier(
        augment="default", max_epochs=1, random_state=0, progress=False
    ).fit(images[:16], labels[:16])
    restored = _round_trip(augmented, tmp_path)
    np.testing.assert_array_equal(
        restored.predict_proba(images[:8]), augmented.predict_proba(images[:8])
    )
    text = FineTunedTextClassifier(encoder="cnn", max_epochs=3, min_freq=1, random_state=0)
    text.fit(SPAM + HAM, ["spam"] * 12 + ["ham"] * 12)
    restored = _round_trip(text, tmp_path)
    texts = SPAM + HAM
    np.testing.assert_array_equal(restored.predict_proba(texts), text.predict_proba(texts))
    assert restored.vocabulary_ == text.vocabulary_


def test_pipelines_and_searches_of_transformers_round_trip(faces, tmp_path):
    images, labels = faces
    probe = make_pipeline(PretrainedImageFeaturizer(progress=False), LogisticRegression())
    probe.fit(images, labels)
    np.testing.assert_array_equal(
        _round_trip(probe, tmp_path).predict_proba(images), probe.predict_proba(images)
    )
    search = GridSearchCV(
        make_pipeline(Word2VecEmbedder(progress=False), LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0]},
        cv=LeakageSafeKFold(3),
    ).fit(SPAM + HAM, ["spam"] * 12 + ["ham"] * 12)
    assert _round_trip(search, tmp_path).predict(["claim your free cash prize"]) == ["spam"]


def test_pickling_leaves_the_fitted_estimator_intact(faces):
    images, labels = faces
    model = FineTunedImageClassifier(max_epochs=1, random_state=0, progress=False)
    model.fit(images, labels)
    before = model.predict_proba(images)
    pickle.dumps(model)
    assert hasattr(model, "net_")
    np.testing.assert_array_equal(model.predict_proba(images), before)


class Backdoor(TransformerMixin, BaseEstimator):
    """A type that no loader trusts; constructing it sets a flag."""

    constructed = False

    def __setstate__(self, state):
        type(self).constructed = True
        super().__setstate__(state)

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return X


def test_an_untrusted_type_fails_closed_and_names_the_type(tmp_path):
    path = tmp_path / "model.skops"
    io.save(make_pipeline(Backdoor(), LogisticRegression()).fit([[0], [1]], [0, 1]), path)
    Backdoor.constructed = False
    with pytest.raises(UntrustedTypesError, match=r"test_io\.Backdoor") as error:
        io.load(path)
    assert error.value.types == [f"{__name__}.Backdoor"] and not Backdoor.constructed
    assert io.load(path, trusted=error.value.types).predict([[1]]) == [1]  # the user's call


def test_a_pickle_is_refused_as_not_a_skops_file(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(ValueError, match="not a skops file"):
        io.load(path)


@pytest.mark.parametrize("name", io.TRUSTED_TYPES)
def test_every_trusted_name_is_an_importable_type(name):
    module, _, qualname = name.rpartition(".")
    assert isinstance(getattr(importlib.import_module(module), qualname), type)
