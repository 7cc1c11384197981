"""Safe persistence: skops files that round-trip every estimator and fail closed."""

import importlib
import os
import pickle
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer, Word2VecEmbedder, io
from sktransfer.exceptions import (
    ModelFileError,
    SktransferWarning,
    UntrustedFileError,
    UntrustedTypesError,
)
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


# -- what a model file may make the loader open (files=, trusted=True) ----------------------


class _Payload:
    """Unpickling this runs code: it touches a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _text_model(vectors="glove-wiki-gigaword-50"):
    model = make_pipeline(Word2VecEmbedder(vectors, progress=False), LogisticRegression())
    return model.fit(SPAM + HAM, ["spam"] * 12 + ["ham"] * 12)


def test_a_pickle_skops_polyglot_naming_itself_as_vectors_never_runs(tmp_path):
    # The probe's attack: a file that is both a pickle and a valid skops zip, whose
    # embedder's vectors name the file itself in gensim's pickle format.
    path, marker = tmp_path / "model.kv", tmp_path / "PWNED"
    model = _text_model()
    model[0].vectors = str(path)
    io.save(model, path)
    path.write_bytes(pickle.dumps(_Payload(marker)) + path.read_bytes())
    with pytest.raises(UntrustedFileError, match=r"Word2VecEmbedder\.vectors names .*model\.kv"):
        io.load(path)
    with pytest.raises(UntrustedFileError, match="gensim pickle format"):
        io.load(path, files=[path])  # listing it is not enough for a pickle format
    assert not marker.exists()


def test_vectors_files_load_only_when_the_caller_lists_them(tmp_path, glove):
    vectors = tmp_path / "small.txt"  # word2vec text: plain data
    words = list(dict.fromkeys(" ".join(SPAM + HAM).split()))
    lines = [f"{len(words)} 50"] + [w + " " + " ".join(map(str, glove[w])) for w in words]
    vectors.write_text("\n".join(lines) + "\n")
    model = _text_model(str(vectors))
    path = tmp_path / "model.skops"
    io.save(model, path)
    with pytest.raises(UntrustedFileError, match=r"files=\["):
        io.load(path)
    restored = io.load(path, files=[vectors])
    np.testing.assert_array_equal(restored.predict_proba(SPAM), model.predict_proba(SPAM))
    assert io.load(path, trusted=True).predict(["free cash prize"]) == ["spam"]


@pytest.mark.parametrize(
    "named",
    [
        {"weights": "https://example.invalid/weights.pth"},
        {"weights": "/somewhere/weights.safetensors"},
        {"backbone": "timm:hf-hub:someone/model"},
        {"backbone": "timm:local-dir:/somewhere"},
    ],
    ids=["weights URL", "weights file", "timm hub", "timm local dir"],
)
def test_weights_and_backbones_that_name_files_or_urls_are_refused(named, tmp_path):
    path = tmp_path / "model.skops"
    io.save(make_pipeline(PretrainedImageFeaturizer(**named), LogisticRegression()), path)
    with pytest.raises(UntrustedFileError, match=f"PretrainedImageFeaturizer.{[*named][0]}") as e:
        io.load(path)
    assert io.load(path, files=[e.value.value]) is not None  # the caller's word


def test_a_cache_folder_the_caller_did_not_list_is_dropped_with_a_warning(tmp_path):
    path = tmp_path / "model.skops"
    io.save(PretrainedImageFeaturizer(cache=str(tmp_path / "features")), path)
    with pytest.warns(SktransferWarning, match="runs without a feature cache"):
        assert io.load(path).cache is None
    assert io.load(path, files=[tmp_path / "features"]).cache == str(tmp_path / "features")


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.timeout(60)
def test_sizes_are_capped_from_the_zip_directory_before_parsing(tmp_path):
    bomb = _zip(tmp_path / "bomb.skops", {"schema.json": "{}", "a.npy": bytes(64 * 2**20)}, 8)
    assert bomb.stat().st_size < 200_000  # 64 MiB of zeros, deflated
    with pytest.raises(ModelFileError, match="decompresses from"):
        io.load(bomb)
    model = tmp_path / "model.skops"
    io.save(LogisticRegression().fit([[0], [1]], [0, 1]), model)
    with pytest.raises(ModelFileError, match="at most 1000"):
        io.load(model, max_size=1000)
    assert io.load(model).predict([[1]]) == [1]


@pytest.mark.parametrize(
    "schema",
    ["{", '{"__class__": 5, "__module__": []}', "[" * 100_000 + "]" * 100_000, '"text"'],
    ids=["bad JSON", "wrong types", "deep nesting", "not an object"],
)
def test_damaged_model_files_raise_the_package_error(schema, tmp_path):
    path = _zip(tmp_path / "damaged.skops", {"schema.json": schema})
    with pytest.raises(ModelFileError, match="damaged"):
        io.load(path)


@pytest.mark.timeout(30)
def test_a_fifo_or_folder_as_model_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.skops"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        io.load(fifo)
    with pytest.raises(ModelFileError, match="is a directory"):
        io.load(tmp_path)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    import skops.io

    path = tmp_path / "model.skops"
    io.save(LogisticRegression().fit([[0], [1]], [0, 1]), path)
    before = path.read_bytes()

    def dump_half_then_fail(model, file):
        with open(file, "wb") as stream:
            stream.write(before[:100])
        raise OSError("disk full")

    monkeypatch.setattr(skops.io, "dump", dump_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        io.save(LogisticRegression(), path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]
