"""Augmentation at cache speed: K seeded augmented views, their frozen activations cached."""

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer._inputs import SeededAugment
from sktransfer.finetune import FineTunedImageClassifier, default_augmentation


@pytest.fixture(scope="module")
def faces(lfw):
    images, labels = lfw
    return list(images), np.where(labels == 1, "face", "other")


def test_a_seeded_draw_is_a_pure_function_of_image_and_index(photos):
    image = Image.fromarray(photos["chelsea"])
    draw = SeededAugment(default_augmentation(256), 0)
    state = torch.random.get_rng_state()
    first = np.asarray(draw(image))
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    np.testing.assert_array_equal(
        np.asarray(SeededAugment(default_augmentation(256), 0)(image)), first
    )
    other = np.asarray(SeededAugment(default_augmentation(256), 1)(image))
    assert other.shape != first.shape or np.abs(other.astype(int) - first).mean() > 5
    coffee = Image.fromarray(photos["coffee"])  # any image: cropped and resized to 256 px
    assert np.asarray(draw(coffee)).shape != np.asarray(coffee).shape


def test_views_are_computed_once_and_every_refit_reads_them(faces, tmp_path, forward_batches):
    X, y = faces
    model = FineTunedImageClassifier(
        unfreeze=1,
        augment="default",
        augment_views=3,
        max_epochs=5,
        cache=tmp_path,
        random_state=0,
        progress=False,
    )
    model.fit(X[::2], y[::2])
    assert sum(forward_batches) == 4 * 100  # the plain view and 3 augmented ones
    assert model.featurizer_ is not None
    first = model.predict_proba(X[1::2])
    forward_batches.clear()
    model.fit(X[::2], y[::2])  # a refit (another fold or grid point): all from the cache
    assert forward_batches == []
    np.testing.assert_array_equal(model.predict_proba(X[1::2]), first)  # seeded: reproducible
    assert model.score(X[1::2], y[1::2]) >= 0.95
    plain = FineTunedImageClassifier(
        unfreeze=1, max_epochs=5, cache=tmp_path, random_state=0, progress=False
    ).fit(X[::2], y[::2])
    assert np.abs(plain.predict_proba(X[1::2]) - first).max() > 1e-3  # the views did train


def test_views_need_augment_and_a_frozen_part_and_at_least_one_draw(faces):
    X, y = faces
    with pytest.raises(InvalidParameterError, match="augment_views"):
        FineTunedImageClassifier(augment="default", augment_views=0).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="needs augment="):
        FineTunedImageClassifier(augment_views=2, progress=False).fit(X[::10], y[::10])
    with pytest.raises(ValueError, match="not 'all'"):
        FineTunedImageClassifier(
            unfreeze="all", augment="default", augment_views=2, progress=False
        ).fit(X[::10], y[::10])
